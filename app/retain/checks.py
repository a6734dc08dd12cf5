"""The Retain loop's follow-ups in the database's schedule: a session left undecided
when its link runs out is abandoned; a save is checked against Stripe 30 days on."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from ..schedule import claims
from ..stripe.models import StripeConnection
from .models import CancelSession, RetainCheck
from .outcomes import abandon, record_still_paying


def finish(check: RetainCheck, outcome: str, detail: str, *, at: dt.datetime) -> str:
    return claims.finish(check, outcome, detail, at=at)


def run(
    session: Session, connection: StripeConnection | None, check: RetainCheck, *, now: dt.datetime
) -> str:
    """Run one due check; returns its outcome. Safe to run twice."""
    cancel_session = session.get(CancelSession, check.session_id)
    if cancel_session is None or cancel_session.workspace_id != check.workspace_id:
        return finish(check, "skipped", "the session is gone", at=now)
    if check.kind == "abandon":
        if abandon(session, cancel_session, now=now):
            return finish(check, "abandoned", "the link ran out with no decision", at=now)
        return finish(check, "skipped", f"already {cancel_session.outcome}", at=now)
    paying = record_still_paying(session, connection, cancel_session, now=now)
    if paying is None:
        return finish(check, "skipped", "Stripe is not connected", at=now)
    return finish(
        check,
        "paying" if paying else "left",
        "still paying" if paying else "no longer paying",
        at=now,
    )
