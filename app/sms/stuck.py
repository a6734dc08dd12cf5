"""Texts a worker never finished with, resolved by a task the beat runs every few
minutes (``sms.resolve_stuck``):

- **sending** for over ``UNCONFIRMED_AFTER``: its worker died while handing it to the
  provider, so it may or may not have left. It is never handed over again (a customer
  texted twice is worse than a text missing); it is marked failed, saying so, on the
  message and on the campaign's timeline.
- **queued** for over ``LOST_AFTER``: the task that was to hand it over was lost (the
  broker was down at the commit). It is handed over again, outside the customer's quiet
  hours; one still queued after ``GIVE_UP_AFTER`` is dropped (a dunning text a day late
  helps no one, and its touch has moved on).

The task's own retries (30 s doubling, six tries) end well inside ``LOST_AFTER``.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..queue import enqueue
from ..recovery.models import Campaign
from . import config, delivery, policy, services
from .models import DROPPED, FAILED, OUTBOUND, QUEUED, SENDING, SmsMessage

log = logging.getLogger("backstop.sms")

UNCONFIRMED_AFTER = dt.timedelta(minutes=15)
LOST_AFTER = dt.timedelta(hours=1)
GIVE_UP_AFTER = dt.timedelta(hours=24)
BATCH = 500


def unconfirmed_detail(transport: str) -> str:
    return (
        f"unconfirmed: the worker stopped while handing it to {transport}, so it may have "
        "been sent; it is not tried again, so the customer is never texted twice"
    )


def resolve(session: Session, now: dt.datetime) -> dict[str, int]:
    """Resolve one batch of each kind of stuck text; what became of how many."""
    done = {"unconfirmed": 0, "handed_over": 0, "dropped": 0, "held_for_quiet_hours": 0}
    for message in _outbound(session, SENDING, SmsMessage.sending_since < now - UNCONFIRMED_AFTER):
        message.status = FAILED
        message.error = unconfirmed_detail(message.transport)[:1000]
        services.note_on_step(session, message)
        log.warning("sms.unconfirmed workspace=%s message=%s", message.workspace_id, message.id)
        done["unconfirmed"] += 1
    for message in _outbound(session, QUEUED, SmsMessage.created_at < now - LOST_AFTER):
        if message.created_at < now - GIVE_UP_AFTER:
            why = "it waited over a day for a worker (its task was lost)"
            message.status, message.error = DROPPED, f"not sent: {why}"
            delivery.note_dropped(session, message, why)
            done["dropped"] += 1
        elif _quiet_until(session, message, now) is not None:
            done["held_for_quiet_hours"] += 1
        else:
            enqueue(session, services.DELIVER_TASK, message.id)
            done["handed_over"] += 1
    session.flush()
    return done


def _outbound(session: Session, status: str, older: object) -> list[SmsMessage]:
    return list(
        session.execute(
            select(SmsMessage)
            .where(SmsMessage.status == status, SmsMessage.direction == OUTBOUND, older)
            .order_by(SmsMessage.id)
            .limit(BATCH)
        ).scalars()
    )


def _quiet_until(session: Session, message: SmsMessage, now: dt.datetime) -> dt.datetime | None:
    """When the customer's quiet hours end, if they are on now (texts of a campaign)."""
    campaign = session.get(Campaign, message.campaign_id) if message.campaign_id else None
    if campaign is None:
        return None
    row = config.settings_for(session, message.workspace_id)
    start, end = row.quiet_start_minute, row.quiet_end_minute
    return policy.next_allowed(now, campaign.customer_tz, start, end)
