"""Retain tasks: run one due follow-up of a cancel session (abandon it when its link ran
out; ask Stripe whether a save still pays 30 days on)."""

from __future__ import annotations

import datetime as dt
import functools

from celery import shared_task

from app.extensions import db
from app.retain import checks
from app.retain.models import RetainCheck
from app.stripe import clocks
from app.stripe import connection as stripe_connection
from app.stripe.client import StripeError
from workers.sweeper import run_claimed, sweepable

RUN_CHECK = "retain.run_check"
BEAT: dict = {}

sweepable(RetainCheck, RUN_CHECK, functools.partial(clocks.due_conditions, RetainCheck))


@shared_task(name=RUN_CHECK, acks_late=True)
def run_check(check_id: int) -> str | None:
    """Run a follow-up the sweeper claimed (a redelivered message finds it taken)."""

    def run(check: RetainCheck, now: dt.datetime) -> str:
        connection = stripe_connection.of_workspace(db.session, check.workspace_id)
        outcome = checks.run(db.session, connection, check, now=now)
        db.session.commit()
        return outcome

    return run_claimed(
        RetainCheck,
        check_id,
        run,
        give_up=lambda check, detail, now: checks.finish(check, "error", detail, at=now),
        what="retain.check",
        routine=(StripeError,),
    )
