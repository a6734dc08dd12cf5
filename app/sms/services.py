"""Texts: who may be texted (the STOP list), the monthly cap, storing a text and
queueing its delivery after the commit, the provider's status reports, and what a
customer's reply asks for. Services flush, never commit."""

from __future__ import annotations

import datetime as dt
import logging

from flask import current_app
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..events import services as events
from ..queue import enqueue
from ..recovery.models import Step
from . import policy
from .models import (
    BLOCKED,
    COUNTED,
    DELIVERED,
    FAILED,
    INBOUND,
    OUTBOUND,
    QUEUED,
    RECEIVED,
    SENDING,
    SENT,
    UNDELIVERED,
    SmsMessage,
    SmsOptOut,
    SmsSettings,
)

log = logging.getLogger("backstop.sms")
DELIVER_TASK = "sms.deliver"

# -- the STOP list ----------------------------------------------------------------------------


def opted_out(session: Session, workspace_id: int, phone: str) -> SmsOptOut | None:
    return session.execute(
        select(SmsOptOut).where(SmsOptOut.workspace_id == workspace_id, SmsOptOut.phone == phone)
    ).scalar_one_or_none()


def opt_out(
    session: Session,
    workspace_id: int,
    phone: str,
    *,
    source: str,
    keyword: str | None = None,
    message_id: int | None = None,
) -> SmsOptOut:
    """Put ``phone`` on the workspace's STOP list (once; the first reply stays)."""
    existing = opted_out(session, workspace_id, phone)
    if existing is not None:
        return existing
    row = SmsOptOut(
        workspace_id=workspace_id,
        phone=phone,
        keyword=(keyword or "")[:32] or None,
        source=source,
        message_id=message_id,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:  # the same STOP, delivered twice at once
        found = opted_out(session, workspace_id, phone)
        assert found is not None
        return found
    events.emit(
        session,
        workspace_id,
        "sms.opted_out",
        subject=f"sms_opt_out:{row.id}",
        data={"phone": phone, "source": source, "keyword": row.keyword},
    )
    log.info("sms.opted_out workspace=%s source=%s", workspace_id, source)
    return row


def opt_in(session: Session, workspace_id: int, phone: str) -> bool:
    """Take ``phone`` off the STOP list (it replied START); True when it was on it."""
    result = session.execute(
        delete(SmsOptOut).where(SmsOptOut.workspace_id == workspace_id, SmsOptOut.phone == phone)
    )
    session.flush()
    if result.rowcount:
        log.info("sms.opted_in workspace=%s", workspace_id)
    return bool(result.rowcount)


# -- the monthly cap ------------------------------------------------------------------------------


def used_in(session: Session, workspace_id: int, month: str) -> int:
    """Texts of the workspace that left (or are leaving) in ``month`` (``YYYY-MM``)."""
    return session.execute(
        select(func.count(SmsMessage.id)).where(
            SmsMessage.workspace_id == workspace_id,
            SmsMessage.month == month,
            SmsMessage.direction == OUTBOUND,
            SmsMessage.status.in_(COUNTED),
        )
    ).scalar_one()


# -- storing a text -----------------------------------------------------------------------------


def store(
    session: Session,
    settings: SmsSettings,
    *,
    purpose: str,
    to: str,
    body: str,
    month: str,
    locale: str | None = None,
    customer_id: str | None = None,
    campaign_id: int | None = None,
    step_id: int | None = None,
    blocked: str | None = None,
) -> SmsMessage:
    """Keep the text, and deliver it after the commit unless ``blocked`` says why not.
    The number on the STOP list blocks it too."""
    if blocked is None and opted_out(session, settings.workspace_id, to) is not None:
        blocked = "the number replied STOP"
    count, encoding = policy.segments(body)
    message = SmsMessage(
        workspace_id=settings.workspace_id,
        direction=OUTBOUND,
        purpose=purpose,
        to_number=to,
        from_number=settings.messaging_service_sid or settings.from_number,
        body=body,
        segments=count,
        encoding=encoding,
        locale=locale,
        transport=current_app.config["BACKSTOP"].sms_transport,
        status=BLOCKED if blocked else QUEUED,
        error=blocked[:1000] if blocked else None,
        month=month,
        customer_stripe_id=customer_id,
        campaign_id=campaign_id,
        step_id=step_id,
    )
    session.add(message)
    session.flush()
    if blocked:
        log.info("sms.blocked workspace=%s message=%s", message.workspace_id, message.id)
    else:
        enqueue(session, DELIVER_TASK, message.id)
    return message


def callback_url(settings: SmsSettings) -> str:
    """Where Twilio reports what became of a text (delivered, failed)."""
    base = current_app.config["BACKSTOP"].base_url.rstrip("/")
    return f"{base}/webhooks/twilio/{settings.webhook_token}/status"


def inbound_url(settings: SmsSettings) -> str:
    """The address the merchant gives Twilio for replies ("A message comes in")."""
    base = current_app.config["BACKSTOP"].base_url.rstrip("/")
    return f"{base}/webhooks/twilio/{settings.webhook_token}"


# -- what became of it ----------------------------------------------------------------------------

#: Twilio's statuses we record, and how far along each is (a report never moves back).
PROGRESS = {QUEUED: 0, SENDING: 1, SENT: 2, DELIVERED: 3, UNDELIVERED: 3, FAILED: 3}


def describe(message: SmsMessage) -> str:
    """The text on its touch's timeline entry: to whom, and its latest status."""
    words = f"texted {message.to_number} ({message.segments} part"
    words += "s)" if message.segments != 1 else ")"
    status = {
        QUEUED: "",
        SENDING: "; handed to Twilio",
        SENT: "; sent",
        DELIVERED: "; delivered",
        UNDELIVERED: "; not delivered",
        FAILED: "; failed",
    }.get(message.status, f"; {message.status}")
    error = (
        f": {message.error}" if message.error and message.status in (FAILED, UNDELIVERED) else ""
    )
    return f"{words}{status}{error}"


def note_on_step(session: Session, message: SmsMessage) -> None:
    """Keep the touch's timeline entry in step with its text's status."""
    if message.step_id is None:
        return
    step = session.get(Step, message.step_id)
    if step is not None and step.outcome == "sent":
        step.outcome_detail = describe(message)[:500]


def record_status(
    session: Session,
    workspace_id: int,
    provider_id: str,
    status: str,
    *,
    error_code: str | None,
    now: dt.datetime,
) -> SmsMessage | None:
    """A status report from Twilio; None for a text we do not know (not ours, or
    another workspace's). Reports that arrive out of order never move a text back."""
    message = session.execute(
        select(SmsMessage).where(
            SmsMessage.workspace_id == workspace_id,
            SmsMessage.provider_id == provider_id,
            SmsMessage.direction == OUTBOUND,
        )
    ).scalar_one_or_none()
    if message is None or status not in PROGRESS:
        return message
    if PROGRESS[status] < PROGRESS.get(message.status, 0):
        return message
    message.status = status
    message.status_at = now
    if status in (FAILED, UNDELIVERED):
        message.error = f"Twilio error {error_code}" if error_code else "the carrier refused it"
    note_on_step(session, message)
    session.flush()
    log.info("sms.status workspace=%s message=%s status=%s", workspace_id, message.id, status)
    return message


# -- replies ------------------------------------------------------------------------------------


def receive(
    session: Session,
    settings: SmsSettings,
    *,
    from_number: str,
    body: str,
    provider_id: str | None,
    month: str,
) -> SmsMessage:
    """Store a customer's reply (it is evidence like any text)."""
    message = SmsMessage(
        workspace_id=settings.workspace_id,
        direction=INBOUND,
        purpose="inbound",
        to_number=settings.from_number or settings.messaging_service_sid or "",
        from_number=from_number,
        body=body[:1600],
        segments=policy.segments(body)[0],
        encoding=policy.segments(body)[1],
        transport="twilio",
        status=RECEIVED,
        provider_id=(provider_id or "")[:64] or None,
        month=month,
    )
    session.add(message)
    session.flush()
    return message


def record_reply(
    session: Session,
    settings: SmsSettings,
    *,
    to: str,
    body: str,
    month: str,
    locale: str,
    customer_id: str | None,
    in_reply_to: SmsMessage,
    now: dt.datetime,
) -> SmsMessage:
    """Store the answer to a HELP, which leaves in the webhook's own response (TwiML)."""
    count, encoding = policy.segments(body)
    message = SmsMessage(
        workspace_id=settings.workspace_id,
        direction=OUTBOUND,
        purpose="help",
        to_number=to,
        from_number=in_reply_to.to_number or None,
        body=body,
        segments=count,
        encoding=encoding,
        locale=locale,
        transport="twiml",
        status=SENT,
        provider_id=f"reply:{in_reply_to.provider_id or in_reply_to.id}"[:64],
        month=month,
        customer_stripe_id=customer_id,
        sent_at=now,
    )
    session.add(message)
    session.flush()
    return message


def last_customer_of(session: Session, workspace_id: int, phone: str) -> str | None:
    """The customer the workspace last texted at ``phone`` (for a reply's language)."""
    return session.execute(
        select(SmsMessage.customer_stripe_id)
        .where(
            SmsMessage.workspace_id == workspace_id,
            SmsMessage.to_number == phone,
            SmsMessage.direction == OUTBOUND,
            SmsMessage.customer_stripe_id.is_not(None),
        )
        .order_by(SmsMessage.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def mark_sent(message: SmsMessage, provider_id: str, *, transport: str, now: dt.datetime) -> None:
    message.status = SENT
    message.provider_id = provider_id[:64]
    message.transport = transport
    message.error = None
    message.sent_at = now
