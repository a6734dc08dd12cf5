"""Portal tasks: apply a plan change a customer chose for their renewal (a downgrade
at the period's end), when the sweeper finds it due."""

from __future__ import annotations

import datetime as dt
import functools

from celery import shared_task

from app.extensions import db
from app.portal import changes
from app.portal.models import PortalChange
from app.stripe import clocks
from app.stripe import connection as stripe_connection
from app.stripe.client import StripeError
from workers.sweeper import run_claimed, sweepable

RUN_CHANGE = "portal.run_change"
BEAT: dict = {}

sweepable(PortalChange, RUN_CHANGE, functools.partial(clocks.due_conditions, PortalChange))


@shared_task(name=RUN_CHANGE, acks_late=True)
def run_change(change_id: int) -> str | None:
    """Run a plan change the sweeper claimed (a redelivered message finds it taken)."""

    def run(change: PortalChange, now: dt.datetime) -> str:
        connection = stripe_connection.connected(db.session, change.workspace_id)
        outcome = changes.run(db.session, connection, change, now=now)
        db.session.commit()
        return outcome

    return run_claimed(
        PortalChange,
        change_id,
        run,
        give_up=lambda change, detail, now: changes.finish(change, "error", detail, at=now),
        what="portal.change",
        routine=(StripeError,),
    )
