"""Email tasks: deliver one stored message through the configured transport."""

from __future__ import annotations

import logging

from celery import shared_task
from flask import current_app

import emails
from app.extensions import db
from app.observability.context import bind_workspace
from app.outbox import services as outbox
from app.outbox.models import FAILED, OutboxMessage
from app.outbox.transport import transport_from
from app.stripe.client import StripeError

log = logging.getLogger("backstop.workers")
MAX_DELIVERIES = 6


def _transport() -> emails.Transport:
    """One transport per process (SES and Resend keep their HTTP connections)."""
    cached = current_app.extensions.get("backstop.mail_transport")
    if cached is None:
        cached = transport_from(current_app.config["BACKSTOP"])
        current_app.extensions["backstop.mail_transport"] = cached
    return cached


@shared_task(name=outbox.DELIVER_TASK, bind=True, max_retries=MAX_DELIVERIES, acks_late=True)
def deliver(self, message_id: int) -> str | None:
    """Re-check a queued message and hand it to the transport; a temporary failure (of
    the transport, or of Stripe for the re-check) retries with a backoff, then the
    message is marked failed (staff can resend it)."""
    row = db.session.get(OutboxMessage, message_id)
    if row is None:
        return None
    bind_workspace(row.workspace_id)
    try:
        status = outbox.deliver(db.session, row, _transport())
    except (emails.TransportError, StripeError) as exc:
        if isinstance(exc, StripeError):
            db.session.rollback()
            row = db.session.get(OutboxMessage, message_id)
            row.error = f"not sent yet: Stripe could not say whether it is still due: {exc}"[:1000]
        tries = max(row.attempts, self.request.retries + 1)
        if tries >= MAX_DELIVERIES or self.request.is_eager:
            row.status = FAILED
            db.session.commit()
            log.warning("email.gave_up message=%s attempts=%s", message_id, row.attempts)
            return FAILED
        db.session.commit()  # the attempt and its error, for staff
        raise self.retry(exc=exc, countdown=min(3600, 30 * 2**self.request.retries))
    db.session.commit()
    return status
