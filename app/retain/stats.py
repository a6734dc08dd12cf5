"""The daily counts the cancel analytics read: written in the same transaction as the
outcome they count, so the page reads a few rows per day instead of every session.

Every count is by the day the session started (so "shown", "saved" and "still paying"
describe the same customers), in UTC.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .models import CancelSession, RetainOfferStat, RetainStat


def _bump(session: Session, model: Any, key: dict[str, Any], add: dict[str, int]) -> None:
    """Add ``add`` to the row of ``model`` at ``key``, making it if it is the first
    (one statement: two workers counting at once both count)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = model.__table__
    statement = insert(table).values(**key, **add)
    statement = statement.on_conflict_do_update(
        index_elements=list(key),
        set_={name: table.c[name] + statement.excluded[name] for name in add},
    )
    session.execute(statement)


def _outcome_key(cancel_session: CancelSession) -> dict[str, Any]:
    return {
        "workspace_id": cancel_session.workspace_id,
        "day": cancel_session.created_at.date(),
        "flow_id": cancel_session.flow_id or 0,
        "version_id": cancel_session.version_id or 0,
        "reason_key": cancel_session.reason_key or "",
        "offer_step": cancel_session.offer_step or "" if cancel_session.outcome == "saved" else "",
        "outcome": cancel_session.outcome,
        "currency": cancel_session.currency,
    }


def count_outcome(session: Session, cancel_session: CancelSession) -> None:
    _bump(
        session,
        RetainStat,
        _outcome_key(cancel_session),
        {"sessions": 1, "mrr_minor": cancel_session.mrr_minor},
    )


def count_still_paying(session: Session, cancel_session: CancelSession, paying: bool) -> None:
    _bump(
        session,
        RetainStat,
        _outcome_key(cancel_session),
        {"checked": 1, "still_paying": int(paying)},
    )


def count_offer_shown(session: Session, cancel_session: CancelSession, step_id: str) -> None:
    _bump(
        session,
        RetainOfferStat,
        {
            "workspace_id": cancel_session.workspace_id,
            "day": cancel_session.created_at.date(),
            "flow_id": cancel_session.flow_id or 0,
            "version_id": cancel_session.version_id or 0,
            "step_id": step_id,
        },
        {"shown": 1},
    )
