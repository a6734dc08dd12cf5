"""Dispute tasks: submit a dispute's evidence automatically when the sweeper finds its
submission due (some hours before Stripe's ``due_by``)."""

from __future__ import annotations

import datetime as dt
import functools

from celery import shared_task

from app.disputes import submitting
from app.disputes.models import DisputeSubmission
from app.extensions import db
from app.schedule.claims import finish
from app.stripe import clocks
from app.stripe import connection as stripe_connection
from app.stripe.client import StripeError
from workers.sweeper import run_claimed, sweepable

RUN_SUBMISSION = "disputes.run_submission"
BEAT: dict = {}

sweepable(
    DisputeSubmission, RUN_SUBMISSION, functools.partial(clocks.due_conditions, DisputeSubmission)
)


@shared_task(name=RUN_SUBMISSION, acks_late=True)
def run_submission(submission_id: int) -> str | None:
    """Run an automatic submission the sweeper claimed (a redelivery finds it taken)."""

    def run(row: DisputeSubmission, now: dt.datetime) -> str:
        connection = stripe_connection.of_workspace(db.session, row.workspace_id)
        outcome = submitting.run(db.session, connection, row, now=now)
        db.session.commit()
        return outcome

    return run_claimed(
        DisputeSubmission,
        submission_id,
        run,
        give_up=lambda row, detail, now: finish(row, "error", detail, at=now),
        what="disputes.submission",
        routine=(StripeError,),
    )
