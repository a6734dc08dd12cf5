"""Acting on stored events, in a worker: update the mirror, route to the domains.

Domain packages subscribe with :func:`subscribe` from their ``register()`` (called by
``create_app``); handlers must tolerate the same event twice and events out of order
(re-read the Stripe object when order matters).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..nul import holds_nul, without_nul
from ..schedule.claims import claim_due
from . import clocks, mirror
from .models import StripeConnection, StripeEvent

log = logging.getLogger("backstop.stripe")

Handler = Callable[[Session, StripeConnection, dict[str, Any]], None]
_HANDLERS: dict[str, list[Handler]] = {}

MIRRORED_PREFIXES = ("customer.", "invoice.")
CLOCK_PREFIX = "test_helpers.test_clock."


def subscribe(handlers: dict[str, list[Handler]]) -> None:
    """Route each event type to its handlers, in order (once: apps are made many times)."""
    for event_type, fns in handlers.items():
        subscribed = _HANDLERS.setdefault(event_type, [])
        subscribed += [fn for fn in fns if fn not in subscribed]


def claim(
    session: Session, *, now: dt.datetime, limit: int = 100, event_id: int | None = None
) -> list[int]:
    """Claim stored events waiting for a worker (oldest first), as leases."""
    return claim_due(
        session,
        StripeEvent,
        now=now,
        limit=limit,
        ready=StripeEvent.status == "received",
        order_by=StripeEvent.id,
        ids=[event_id] if event_id is not None else None,
    )


#: Not a Stripe event: sent when a workspace's connection is turned off, however that
#: happened (the merchant, Stripe's deauthorization), so domains can stop their work.
DISCONNECTED = "backstop.disconnected"
#: Not a Stripe event: sent once the import of a newly connected account is done, so
#: domains can take up what was already under way (failed invoices still open).
IMPORTED = "backstop.imported"


def notify(
    session: Session, connection: StripeConnection, event_type: str, payload: dict[str, Any]
) -> None:
    """Run every handler the domains registered for ``event_type``."""
    for handler in _HANDLERS.get(event_type, []):
        handler(session, connection, payload)


def process(session: Session, event: StripeEvent) -> str:
    """Process one claimed event; returns its final status. Safe to run twice."""
    if event.status in ("processed", "ignored"):
        return event.status
    connection = None
    if event.workspace_id is not None:
        connection = session.execute(
            select(StripeConnection).where(StripeConnection.workspace_id == event.workspace_id)
        ).scalar_one_or_none()
    payload = event.payload
    if holds_nul(payload):  # metadata may carry one; PostgreSQL's text columns refuse it
        payload = without_nul(payload)
    obj = (payload.get("data") or {}).get("object") or {}
    if connection is None:
        return _finish(event, "ignored")
    if event.type == "account.application.deauthorized":
        from .connection import mark_disconnected

        if connection.is_connected and connection.stripe_account_id == event.account:
            mark_disconnected(session, connection, reason="deauthorized")
        return _finish(event, "processed")
    if not connection.is_connected:
        return _finish(event, "ignored")  # stored, not acted on
    if event.type.startswith(CLOCK_PREFIX):
        clocks.record(session, connection.workspace_id, obj, event.stripe_created)
    elif event.type.startswith(MIRRORED_PREFIXES):
        deleted = event.type in ("customer.deleted", "customer.subscription.deleted")
        mirror.upsert(
            session,
            connection.workspace_id,
            obj,
            event.stripe_created,
            deleted=deleted and obj.get("object") == "customer",
        )
    notify(session, connection, event.type, payload)
    log.info(
        "stripe.event.processed workspace=%s event=%s type=%s",
        event.workspace_id,
        event.stripe_event_id,
        event.type,
    )
    return _finish(event, "processed")


def _finish(event: StripeEvent, status: str) -> str:
    event.status = status
    event.processed_at = dt.datetime.now(dt.UTC)
    event.lease_until = None
    event.error = None
    return status


def record_failure(event: StripeEvent, error: str) -> None:
    event.status = "failed"
    event.lease_until = None
    event.error = error[:1000]


def replay(session: Session, event: StripeEvent) -> None:
    """Make a stored event processable again (staff replay, ``flask ops replay-events``)."""
    from ..queue import enqueue
    from .intake import PROCESS_TASK, workspace_for_account

    if event.workspace_id is None:  # it arrived before its workspace connected
        event.workspace_id = workspace_for_account(session, event.account)
    event.status = "received"
    event.processed_at = None
    event.lease_until = None
    enqueue(session, PROCESS_TASK, event.id)
