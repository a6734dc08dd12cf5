"""Recovery tasks: run one claimed step. The sweeper claims due steps; this takes one,
runs it in two committed phases (decide, then charge) and records the outcome."""

from __future__ import annotations

import datetime as dt
import functools
import logging

from celery import shared_task

from app.extensions import db
from app.recovery import runner
from app.recovery.models import Step
from app.stripe import clocks
from app.stripe import connection as stripe_connection
from app.stripe.client import StripeError
from workers.sweeper import run_claimed, sweepable

log = logging.getLogger("backstop.workers")

RUN_STEP = "recovery.run_step"
BEAT: dict = {}

sweepable(Step, RUN_STEP, functools.partial(clocks.due_conditions, Step))


@shared_task(name=RUN_STEP, acks_late=True)
def run_step(step_id: int) -> str | None:
    """Run a step the sweeper claimed, in two committed phases (decide, then charge);
    ``step:<id>`` keeps Stripe from charging twice when a run is repeated."""

    def run(step: Step, now: dt.datetime) -> str | None:
        connection = stripe_connection.of_workspace(db.session, step.workspace_id)
        verdict = runner.prepare(db.session, connection, step, now=now)
        db.session.commit()
        if verdict == runner.CHARGE:
            runner.charge(db.session, connection, step, now=now)
            db.session.commit()
        log.info(
            "recovery.step.ran workspace=%s step=%s outcome=%s",
            step.workspace_id,
            step.id,
            step.outcome,
        )
        return step.outcome

    return run_claimed(
        Step,
        step_id,
        run,
        give_up=lambda step, detail, now: step.finish("error", detail, at=now),
        what="recovery.step",
        routine=(StripeError,),
    )
