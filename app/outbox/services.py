"""Sending email: render, check the suppression list and the sender, store, then
deliver after the commit through the configured transport. Services flush only.

Every message is stored whatever its fate (it is dispute evidence later): ``blocked``
ones say why they never left, ``failed`` ones what the transport said.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import formataddr, parseaddr
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import emails

from ..crypto import SecretUnreadable, decrypt, encrypt
from ..events import services as events
from ..models import utcnow
from ..observability.metrics.instruments import EMAILS
from ..queue import enqueue
from . import guards
from .models import (
    BLOCKED,
    DROPPED,
    FAILED,
    QUEUED,
    SENT,
    OutboxMessage,
    SendDomain,
    Suppression,
)

log = logging.getLogger("backstop.outbox")

DELIVER_TASK = "email.deliver"
SUPPRESSION_REASONS = ("unsubscribed", "bounced", "complained")


@dataclass(frozen=True)
class Sender:
    from_addr: str
    blocked: str | None = None
    """Why nothing may be sent from this workspace right now (an unverified domain)."""


def normalise(email: str) -> str:
    return email.strip().lower()


# -- who may be written to ------------------------------------------------------------------------


def suppression_for(session: Session, workspace_id: int, email: str) -> Suppression | None:
    return session.execute(
        select(Suppression).where(
            Suppression.workspace_id == workspace_id, Suppression.email == normalise(email)
        )
    ).scalar_one_or_none()


def suppress(
    session: Session,
    workspace_id: int,
    email: str,
    reason: str,
    *,
    source: str,
    detail: str | None = None,
    message_id: int | None = None,
) -> Suppression:
    """Add ``email`` to the workspace's suppression list (once; the first reason stays)."""
    if reason not in SUPPRESSION_REASONS:
        raise ValueError(f"unknown suppression reason {reason!r}")
    existing = suppression_for(session, workspace_id, email)
    if existing is not None:
        return existing
    row = Suppression(
        workspace_id=workspace_id,
        email=normalise(email),
        reason=reason,
        source=source,
        detail=(detail or "")[:500] or None,
        message_id=message_id,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:  # suppressed a moment ago by another request
        found = suppression_for(session, workspace_id, email)
        assert found is not None
        return found
    # The loops that write to customers stop what they had planned for this address.
    events.emit(
        session,
        workspace_id,
        "email.suppressed",
        subject=f"suppression:{row.id}",
        data={"email": row.email, "reason": reason, "source": source},
    )
    log.info("email.suppressed workspace=%s reason=%s source=%s", workspace_id, reason, source)
    return row


def unsubscribe_token(workspace_id: int, email: str) -> str:
    """An encrypted token naming the workspace and address (the address must not show in
    URLs, logs or referrers). It never expires: mail sits in inboxes for years and RFC
    8058 wants the link to keep working; it reads as long as its key is configured."""
    return encrypt(json.dumps([workspace_id, normalise(email)]))


def read_unsubscribe_token(token: str) -> tuple[int, str] | None:
    if len(token) > 1000:
        return None
    try:
        workspace_id, email = json.loads(decrypt(token))
    except (SecretUnreadable, ValueError, TypeError):
        return None
    if not isinstance(workspace_id, int) or not isinstance(email, str):
        return None
    return workspace_id, email


def unsubscribe_url(workspace_id: int, email: str) -> str:
    base = current_app.config["BACKSTOP"].base_url.rstrip("/")
    return f"{base}/unsubscribe/{unsubscribe_token(workspace_id, email)}"


# -- who it comes from ----------------------------------------------------------------------------


def send_domain(session: Session, workspace_id: int) -> SendDomain | None:
    return session.execute(
        select(SendDomain).where(SendDomain.workspace_id == workspace_id)
    ).scalar_one_or_none()


def sender_for(session: Session, workspace_id: int, from_name: str) -> Sender:
    """The workspace's verified domain, or the shared sender when it has none. A domain
    added but not verified blocks: mail must not silently leave from someone else."""
    shared = current_app.config["BACKSTOP"].mail_from
    domain = send_domain(session, workspace_id)
    if domain is None:
        return Sender(_named(from_name, _address_of(shared)))
    if not domain.is_verified:
        return Sender(
            _named(from_name, domain.from_address),
            blocked=f"the send domain {domain.domain} is not verified yet (Settings → Send domain)",
        )
    return Sender(_named(from_name, domain.from_address))


def _address_of(value: str) -> str:
    return parseaddr(value)[1] or value


def _named(name: str, address: str) -> str:
    clean = " ".join(name.replace("\r", " ").replace("\n", " ").split())[:120]
    return formataddr((clean, address)) if clean else address


# -- sending --------------------------------------------------------------------------------------


def send(
    session: Session,
    *,
    template: str,
    to: str,
    context: dict[str, Any],
    from_email: str,
    workspace_id: int | None = None,
    reply_to: str | None = None,
    customer_id: str | None = None,
    campaign_id: int | None = None,
    step_id: int | None = None,
    blocked: str | None = None,
    locale: str = "en",
    overrides: Mapping[str, str] | None = None,
) -> OutboxMessage:
    """Render and store a message; it is delivered after the commit unless blocked.
    ``locale`` and ``overrides`` (the workspace's wording) are the recipient's language.

    Workspace mail (to the merchant's customers) carries ``List-Unsubscribe`` and its
    one-click POST (RFC 8058), and is never sent to a suppressed address."""
    to = normalise(to)
    headers: dict[str, str] = {}
    if workspace_id is not None:
        link = unsubscribe_url(workspace_id, to)
        headers = {
            "List-Unsubscribe": f"<{link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
        context = {**context, "unsubscribe_url": link}
        suppressed = suppression_for(session, workspace_id, to)
        if suppressed is not None and blocked is None:
            blocked = f"the address is on the suppression list ({suppressed.reason})"
    rendered = emails.render(template, context, locale=locale, overrides=overrides)
    return _store(
        session,
        OutboxMessage(
            workspace_id=workspace_id,
            template=template,
            to_email=to,
            from_email=from_email,
            reply_to=reply_to,
            subject=rendered.subject,
            body_text=rendered.text,
            body_html=rendered.html,
            headers=headers,
            customer_stripe_id=customer_id,
            campaign_id=campaign_id,
            step_id=step_id,
        ),
        blocked,
    )


def resend(session: Session, original: OutboxMessage) -> OutboxMessage:
    """Store a copy of a message as it was and deliver it again (staff action); the
    suppression list still wins."""
    blocked = None
    if original.workspace_id is not None:
        suppressed = suppression_for(session, original.workspace_id, original.to_email)
        if suppressed is not None:
            blocked = f"the address is on the suppression list ({suppressed.reason})"
    copy = OutboxMessage(
        workspace_id=original.workspace_id,
        template=original.template,
        to_email=original.to_email,
        from_email=original.from_email,
        reply_to=original.reply_to,
        subject=original.subject,
        body_text=original.body_text,
        body_html=original.body_html,
        headers=dict(original.headers or {}),
        customer_stripe_id=original.customer_stripe_id,
        campaign_id=original.campaign_id,
        resent_from_id=original.id,
    )
    return _store(session, copy, blocked)


def _store(session: Session, message: OutboxMessage, blocked: str | None) -> OutboxMessage:
    """Keep the message, and deliver it after the commit unless it is blocked."""
    message.transport = current_app.config["BACKSTOP"].mail_transport
    message.status = BLOCKED if blocked else QUEUED
    message.error = blocked[:1000] if blocked else None
    message.attempts = 0
    session.add(message)
    session.flush()
    if blocked:
        log.info(
            "email.blocked workspace=%s message=%s why=%s",
            message.workspace_id,
            message.id,
            blocked,
        )
    else:
        enqueue(session, DELIVER_TASK, message.id)
    return message


def as_message(row: OutboxMessage) -> emails.Message:
    return emails.Message(
        from_addr=row.from_email,
        to=row.to_email,
        subject=row.subject,
        text=row.body_text,
        html=row.body_html,
        reply_to=row.reply_to,
        headers=dict(row.headers or {}),
    )


def deliver(session: Session, row: OutboxMessage, transport: emails.Transport) -> str:
    """Re-check a queued message (its reason may have gone since it was stored), hand it
    to ``transport`` and record what came of it. A temporary failure is raised (the task
    retries); a permanent one marks the message failed."""
    if row.status != QUEUED:
        return row.status
    now = utcnow()
    reason = guards.why_not(session, row, now=now)
    if reason is not None:
        row.status = DROPPED
        row.error = f"not sent: {reason}"[:1000]
        guards.dropped(session, row, reason, now=now)
        session.flush()
        log.info("email.dropped workspace=%s message=%s why=%s", row.workspace_id, row.id, reason)
        EMAILS.labels(row.template, transport.name, DROPPED).inc()
        return row.status
    row.attempts += 1
    try:
        provider_id = transport.send(as_message(row))
    except emails.TransportError as exc:
        row.error = f"{transport.name}: {exc}"[:1000]
        if not exc.permanent:
            raise
        row.status = FAILED
        log.warning("email.failed message=%s transport=%s", row.id, transport.name)
        session.flush()
        EMAILS.labels(row.template, transport.name, FAILED).inc()
        return row.status
    row.status = SENT
    row.transport = transport.name
    row.provider_id = provider_id
    row.error = None
    row.sent_at = utcnow()
    guards.sent(session, row, now=row.sent_at)
    session.flush()
    log.info(
        "email.sent workspace=%s message=%s transport=%s", row.workspace_id, row.id, transport.name
    )
    EMAILS.labels(row.template, transport.name, SENT).inc()
    return row.status
