"""SMS tasks: hand one stored text to its transport (the text touches themselves are
steps of the recovery schedule, run by ``recovery.run_step``), and resolve texts a
worker never finished with (``app.sms.stuck``)."""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from flask import current_app

from app.extensions import db
from app.sms import delivery, stuck
from app.sms.models import SmsMessage
from app.sms.services import DELIVER_TASK
from app.sms.transport import SmsTransportError
from app.stripe.client import StripeError

log = logging.getLogger("backstop.workers")
MAX_DELIVERIES = 6
RESOLVE_STUCK = "sms.resolve_stuck"
BEAT = {"resolve-stuck-texts": {"task": RESOLVE_STUCK, "schedule": dt.timedelta(minutes=5)}}


@shared_task(name=DELIVER_TASK, bind=True, max_retries=MAX_DELIVERIES, acks_late=True)
def deliver(self, message_id: int) -> str | None:
    """Re-check a queued text, commit it as ``sending``, hand it over, record the answer.
    A temporary failure (Twilio, or Stripe for the re-check) retries with a backoff, then
    the text is marked failed."""
    now = dt.datetime.now(dt.UTC)
    message = db.session.get(SmsMessage, message_id)
    if message is None:
        return None
    try:
        going = delivery.begin(db.session, message, now=now)
        db.session.commit()
        if not going:
            return message.status
        http_client = current_app.extensions.get("backstop.twilio_http_client")
        transport = delivery.transport_for(db.session, message.workspace_id, http_client)
        status = delivery.hand_over(db.session, message, transport, now=now)
    except (SmsTransportError, StripeError) as exc:
        if isinstance(exc, SmsTransportError):
            db.session.commit()  # back in the queue, with what Twilio said
        else:
            db.session.rollback()
        message = db.session.get(SmsMessage, message_id)
        if self.request.retries + 1 >= MAX_DELIVERIES or self.request.is_eager:
            delivery.give_up(db.session, message, f"gave up: {exc}")
            db.session.commit()
            log.warning("sms.gave_up message=%s", message_id)
            return message.status
        raise self.retry(exc=exc, countdown=min(3600, 30 * 2**self.request.retries))
    db.session.commit()
    return status


@shared_task(name=RESOLVE_STUCK, acks_late=True)
def resolve_stuck() -> dict[str, int]:
    """Texts left ``sending`` by a dead worker, or ``queued`` by a lost task."""
    done = stuck.resolve(db.session, dt.datetime.now(dt.UTC))
    db.session.commit()
    if any(done.values()):
        log.warning("sms.stuck_resolved", extra=done)
    return done
