"""Recovery tasks: run one claimed step. The sweeper claims due steps; this takes one,
runs it in two committed phases (decide, then charge) and records the outcome."""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.recovery import runner
from app.recovery.models import Step
from app.schedule import take
from app.stripe.client import StripeError
from app.stripe.models import StripeConnection
from workers.stripe_tasks import current_task_is_eager
from workers.sweeper import due_on_clocks, sweepable

log = logging.getLogger("backstop.workers")

RUN_STEP = "recovery.run_step"


due_steps = due_on_clocks(Step)


sweepable(Step, RUN_STEP, due_steps)


#: A step whose run keeps failing (Stripe down, a bug) is given up after this many
#: claims, recorded on the step for staff, who can "retry now" from the back office.
MAX_CLAIMS = 6


@shared_task(name=RUN_STEP, acks_late=True)
def run_step(step_id: int) -> str | None:
    """Run a step the sweeper claimed; a redelivered message finds it taken and stops.

    A failure leaves the step running under its lease: when the lease runs out the
    sweeper hands it out again (the backoff), and ``step:<id>`` keeps Stripe from
    charging twice."""
    now = dt.datetime.now(dt.UTC)
    lease = dt.timedelta(seconds=current_app.config["BACKSTOP"].step_lease_seconds)
    if not take(db.session, Step, step_id, now=now, lease=lease):
        db.session.rollback()
        return None
    db.session.commit()
    step = db.session.get(Step, step_id)
    connection = db.session.execute(
        select(StripeConnection).where(StripeConnection.workspace_id == step.workspace_id)
    ).scalar_one_or_none()
    try:
        verdict = runner.prepare(db.session, connection, step, now=now)
        db.session.commit()
        if verdict == runner.CHARGE:
            runner.charge(db.session, connection, step, now=now)
            db.session.commit()
    except Exception as exc:
        db.session.rollback()
        _record_failure(step_id, exc, now)
        log.exception("recovery.step.failed step=%s", step_id)
        if not isinstance(exc, StripeError) and current_task_is_eager():
            raise
        return "error"
    log.info(
        "recovery.step.ran workspace=%s step=%s outcome=%s",
        step.workspace_id,
        step_id,
        step.outcome,
    )
    return step.outcome


def _record_failure(step_id: int, exc: Exception, now: dt.datetime) -> None:
    step = db.session.get(Step, step_id)
    if step is None:
        return
    detail = f"{type(exc).__name__}: {exc}"
    if step.attempts >= MAX_CLAIMS:
        runner.finish(step, "error", f"gave up after {step.attempts} tries: {detail}", at=now)
    else:
        step.outcome_detail = f"try {step.attempts} failed, will try again: {detail}"[:500]
    db.session.commit()
