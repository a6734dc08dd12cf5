"""Webhook intake: verify, store the raw event under its unique id, hand it to a worker.

Answering fast matters (Stripe waits on us), so intake does nothing else.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ..queue import enqueue
from .models import StripeConnection, StripeEvent

PROCESS_TASK = "stripe.process_event"


class BadPayload(ValueError):
    """The body is not a Stripe event (not JSON, or no id/type)."""


@dataclass(frozen=True)
class Intake:
    event_id: str
    duplicate: bool


def parse(body: bytes) -> dict[str, Any]:
    try:
        event = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadPayload("body is not JSON")
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) \
            or not isinstance(event.get("type"), str) or event.get("object") != "event":
        raise BadPayload("body is not a Stripe event")
    return event


def workspace_for_account(session: Session, account: str | None) -> int | None:
    """Platform events route by ``event.account`` to an OAuth-connected workspace."""
    if not account:
        return None
    return session.execute(
        select(StripeConnection.workspace_id)
        .where(StripeConnection.stripe_account_id == account,
               StripeConnection.mode == "oauth")
        .order_by(StripeConnection.id.desc()).limit(1)).scalar_one_or_none()


def store(session: Session, event: dict[str, Any], workspace_id: int | None) -> Intake:
    """Insert the event once; a duplicate delivery changes nothing."""
    values = {
        "stripe_event_id": event["id"],
        "workspace_id": workspace_id,
        "type": event["type"][:100],
        "account": event.get("account"),
        "livemode": bool(event.get("livemode")),
        "stripe_created": int(event.get("created") or 0),
        "payload": event,
        "received_at": dt.datetime.now(dt.UTC),
        "status": "received" if workspace_id else "ignored",
        "attempts": 0,
    }
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(StripeEvent).values(**values).on_conflict_do_nothing(
        index_elements=["stripe_event_id"]).returning(StripeEvent.id)
    new_id = session.execute(statement).scalar_one_or_none()
    if new_id is None:
        return Intake(event["id"], duplicate=True)
    if workspace_id:
        enqueue(session, PROCESS_TASK, new_id)
    return Intake(event["id"], duplicate=False)
