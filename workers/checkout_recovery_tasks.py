"""Checkout-recovery tasks: run one due step of a campaign (a reminder, or its close)
when the sweeper finds it due."""

from __future__ import annotations

import datetime as dt
import functools

from celery import shared_task

from app.checkout_recovery import touches
from app.checkout_recovery.models import CheckoutRecoveryStep
from app.extensions import db
from app.stripe import clocks
from app.stripe import connection as stripe_connection
from app.stripe.client import StripeError
from workers.sweeper import run_claimed, sweepable

RUN_STEP = "checkout_recovery.run_step"
BEAT: dict = {}

sweepable(
    CheckoutRecoveryStep, RUN_STEP, functools.partial(clocks.due_conditions, CheckoutRecoveryStep)
)


@shared_task(name=RUN_STEP, acks_late=True)
def run_step(step_id: int) -> str | None:
    """Run a step the sweeper claimed (a redelivered message finds it taken)."""

    def run(step: CheckoutRecoveryStep, now: dt.datetime) -> str:
        connection = stripe_connection.of_workspace(db.session, step.workspace_id)
        outcome = touches.run(db.session, connection, step, now=now)
        db.session.commit()
        return outcome

    return run_claimed(
        CheckoutRecoveryStep,
        step_id,
        run,
        give_up=lambda step, detail, now: touches.finish(step, "error", detail, at=now),
        what="checkout_recovery.step",
        routine=(StripeError,),
    )
