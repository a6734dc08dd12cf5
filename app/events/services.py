"""Writing events and handing them over. Services flush, never commit.

:func:`emit` adds the row to the caller's transaction and sends the hand-over task only
after the commit (a rolled-back change leaves neither). :func:`dispatch` runs every
consumer registered for the event's name; consumers must be idempotent (a hand-over that
failed part-way is repeated whole: the event id is their key).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from ..models import utcnow
from ..queue import enqueue
from .models import DONE, FAILED, QUEUED, DomainEvent

log = logging.getLogger("backstop.events")

DISPATCH_TASK = "events.dispatch"
#: A hand-over task that never ran (a lost message) is swept again after this.
LEASE = dt.timedelta(minutes=5)
#: Hand-overs tried before the event is marked failed (staff see it and replay it).
MAX_ATTEMPTS = 8

#: ``consumer(session, event)``: act on one event; raise to have it handed over again.
Consumer = Callable[[Session, DomainEvent], None]
_CONSUMERS: list[tuple[str, str, Consumer]] = []


def consume(pattern: str, name: str, consumer: Consumer) -> None:
    """Register ``consumer`` (called ``name`` in logs) for events matching ``pattern``
    (``recovery.campaign.*``); from a feature's ``register()``, once per name."""
    global _CONSUMERS
    _CONSUMERS = [c for c in _CONSUMERS if c[1] != name]
    _CONSUMERS.append((pattern, name, consumer))


def consumers_of(event_name: str) -> list[tuple[str, Consumer]]:
    return [(name, fn) for pattern, name, fn in _CONSUMERS if fnmatch.fnmatch(event_name, pattern)]


def emit(
    session: Session,
    workspace_id: int,
    name: str,
    *,
    subject: str,
    data: dict[str, Any] | None = None,
    occurred_at: dt.datetime | None = None,
) -> DomainEvent:
    """Record that ``name`` happened to ``subject``, in the caller's transaction."""
    now = utcnow()
    event = DomainEvent(
        workspace_id=workspace_id,
        name=name,
        subject=subject,
        data=data or {},
        occurred_at=occurred_at or now,
        status=QUEUED,
        due_at=now,
        lease_until=now + LEASE,
        attempts=1,  # handed over once by the commit's task; each sweep claim counts one more
    )
    session.add(event)
    session.flush()
    enqueue(session, DISPATCH_TASK, event.id)
    return event


def dispatch(session: Session, event: DomainEvent, *, now: dt.datetime) -> str:
    """Hand the event to every consumer of its name; a failure is recorded and raised
    (the row's lease brings it back), until :data:`MAX_ATTEMPTS`."""
    for name, consumer in consumers_of(event.name):
        try:
            with session.begin_nested():
                consumer(session, event)
        except Exception as exc:
            event.error = f"{name}: {type(exc).__name__}: {exc}"[:1000]
            if event.attempts >= MAX_ATTEMPTS:
                event.status = FAILED
                event.lease_until = None
            log.warning("event.consumer_failed event=%s consumer=%s", event.id, name)
            session.flush()
            raise
    event.status = DONE
    event.dispatched_at = now
    event.lease_until = None
    event.error = None
    session.flush()
    return DONE
