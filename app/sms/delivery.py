"""A stored text leaves in two committed phases, so that no worker ever hands it over
twice: :func:`begin` re-checks it (its reason may have gone since it was stored) and
marks it ``sending`` (one conditional update: of two copies of the task, one wins);
:func:`hand_over` calls the transport and records the answer. A text found ``sending``
(its worker died during the call) is never handed over again: at most once is right for
a customer's phone. ``app.sms.stuck`` resolves such texts, and texts whose task was
lost."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from flask import current_app
from sqlalchemy import update
from sqlalchemy.orm import Session

from ..observability.metrics.instruments import TEXTS
from ..recovery.models import Step
from . import config, services, touches
from .models import BLOCKED, DROPPED, FAILED, QUEUED, SENDING, SmsMessage
from .transport import (
    UNSUBSCRIBED_RECIPIENT,
    Outgoing,
    SmsTransport,
    SmsTransportError,
    build,
)

log = logging.getLogger("backstop.sms")


def transport_for(session: Session, workspace_id: int, http_client: Any = None) -> SmsTransport:
    """The transport the settings name, with the workspace's own Twilio account."""
    row = config.settings_for(session, workspace_id)
    return build(
        current_app.config["BACKSTOP"].sms_transport,
        account_sid=row.account_sid,
        auth_token=config.auth_token(row),
        http_client=http_client,
    )


def begin(session: Session, message: SmsMessage, *, now: dt.datetime) -> bool:
    """Re-check a queued text and mark it ``sending``; False when it must not go (it is
    dropped or blocked, saying why, or another worker has it)."""
    if message.status != QUEUED:
        return False
    row = config.settings_for(session, message.workspace_id)
    reason = config.blocked_reason(row)
    if reason is None and services.opted_out(session, message.workspace_id, message.to_number):
        reason = "the number replied STOP before the text left"
    status = BLOCKED
    if reason is None and message.purpose == touches.PURPOSE:
        reason = touches.still_wanted(session, message)
        status = DROPPED
    if reason is not None:
        message.status = status
        message.error = f"not sent: {reason}"[:1000]
        note_dropped(session, message, reason)
        session.flush()
        log.info("sms.dropped workspace=%s message=%s", message.workspace_id, message.id)
        return False
    taken = session.execute(
        update(SmsMessage)
        .where(SmsMessage.id == message.id, SmsMessage.status == QUEUED)
        .values(status=SENDING, attempts=SmsMessage.attempts + 1, sending_since=now)
        .execution_options(synchronize_session=False)
    )
    session.refresh(message)
    return taken.rowcount == 1


def hand_over(
    session: Session, message: SmsMessage, transport: SmsTransport, *, now: dt.datetime
) -> str:
    """Give the ``sending`` text to ``transport`` and record the answer. A temporary
    failure puts it back in the queue and is raised (the task retries)."""
    row = config.settings_for(session, message.workspace_id)
    sender = config.sender_of(row) or ""
    text = Outgoing(
        to=message.to_number,
        body=message.body,
        sender=sender,
        status_callback=services.callback_url(row) if transport.name == "twilio" else None,
    )
    try:
        provider_id = transport.send(text)
    except SmsTransportError as exc:
        message.error = f"{transport.name}: {exc}"[:1000]
        if not exc.permanent:
            message.status = QUEUED
            session.flush()
            raise
        message.status = FAILED
        if exc.code == UNSUBSCRIBED_RECIPIENT:  # Twilio's own STOP list has the number
            services.opt_out(session, message.workspace_id, message.to_number, source="twilio")
        services.note_on_step(session, message)
        session.flush()
        log.warning("sms.failed message=%s transport=%s", message.id, transport.name)
        TEXTS.labels(transport.name, "failed").inc()
        return message.status
    services.mark_sent(message, provider_id, transport=transport.name, now=now)
    services.note_on_step(session, message)
    session.flush()
    log.info("sms.sent workspace=%s message=%s", message.workspace_id, message.id)
    TEXTS.labels(transport.name, "sent").inc()
    return message.status


def give_up(session: Session, message: SmsMessage, detail: str) -> None:
    message.status = FAILED
    message.error = detail[:1000]
    services.note_on_step(session, message)
    session.flush()


def note_dropped(session: Session, message: SmsMessage, reason: str) -> None:
    """The touch's timeline entry says the text never left, and why."""
    step = session.get(Step, message.step_id) if message.step_id is not None else None
    if step is not None:
        step.outcome = "dropped"
        step.outcome_detail = f"not sent: {reason}"[:500]
