"""One try of one delivery, in the two phases the task commits apart: :func:`prepare`
re-checks the target at the moment of effect and builds the request; after the post
(no transaction open meanwhile) :func:`record` logs the try and decides what follows:
done, another try after a backoff, given up, the endpoint disabled, the channel
revoked. Services flush, never commit."""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.models import Membership, User, Workspace
from ..audit import services as audit
from ..crypto import SecretUnreadable
from ..outbox import services as outbox
from . import backoff, channels, endpoints, messages, signing
from .models import (
    ACTIVE,
    CANCELLED,
    CHANNEL_KINDS,
    DELIVERED,
    FAILED,
    PENDING,
    Delivery,
    DeliveryAttempt,
    NotificationChannel,
    WebhookEndpoint,
)
from .transport import Answer

log = logging.getLogger("backstop.integrations")

MAX_LOGGED = 8192
#: Past its window, a delivery whose tries were never recorded is given up.
STUCK = dt.timedelta(hours=1)
DISABLED_TEMPLATE, REVOKED_TEMPLATE = "webhook_disabled", "notification_revoked"


@dataclass(frozen=True)
class Request:
    url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    shown_url: str = ""
    """The URL as the log shows it (a Slack or Discord URL's token elided)."""


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def prepare(session: Session, delivery: Delivery, *, now: dt.datetime) -> Request | None:
    """The request to send now, or None when the delivery must not leave any more (it
    is then cancelled, saying why)."""
    first = delivery.first_attempt_at
    if first is not None and now >= first + backoff.WINDOW + STUCK:
        # Tried before but never recorded (the worker kept dying mid-post): stop.
        delivery.status, delivery.lease_until, delivery.finished_at = FAILED, None, now
        delivery.last_error = "gave up: no try could be recorded within the retry window"
        return None
    if delivery.endpoint_id is not None:
        endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
        if endpoint is None or not endpoint.is_enabled:
            return _cancel(delivery, "the endpoint was disabled before it left", now)
        body = encode(delivery.payload)
        try:
            secrets = endpoints.signing_secrets(endpoint, now)
        except SecretUnreadable:
            return _cancel(delivery, "the endpoint's secret can't be read: rotate it", now)
        headers = {
            "Content-Type": "application/json",
            signing.HEADER: signing.header(body, secrets, int(now.timestamp())),
            "Backstop-Event-Id": str(delivery.payload.get("id", "")),
            "Backstop-Delivery-Id": str(delivery.id),
        }
        request = Request(endpoint.url, body, headers, endpoint.url)
    else:
        channel = session.get(NotificationChannel, delivery.channel_id)
        if channel is None or channel.state != ACTIVE:
            return _cancel(delivery, "the channel was revoked or removed before it left", now)
        try:
            url = channels.decrypt_url(channel)
        except SecretUnreadable:
            return _cancel(delivery, "the channel's URL can't be read: add it again", now)
        body = encode(delivery.payload)
        request = Request(url, body, {"Content-Type": "application/json"}, channel.url_hint)
    if delivery.first_attempt_at is None:
        delivery.first_attempt_at = now
    session.flush()
    return request


def _cancel(delivery: Delivery, why: str, now: dt.datetime) -> None:
    delivery.status, delivery.lease_until = CANCELLED, None
    delivery.last_error, delivery.finished_at = why, now
    return


def record(
    session: Session,
    delivery: Delivery,
    request: Request,
    answer: Answer,
    *,
    now: dt.datetime,
    draw: float,
    mail_from: str,
    base_url: str,
) -> str:
    """Log the try and move the delivery on; returns what became of it."""
    ok = answer.ok and answer.error is None
    session.add(
        DeliveryAttempt(
            workspace_id=delivery.workspace_id,
            delivery_id=delivery.id,
            at=now,
            url=request.shown_url[:2048],
            request_headers=request.headers,
            request_body=request.body[:MAX_LOGGED].decode("utf-8", "replace"),
            response_status=answer.status,
            response_body=answer.body,
            duration_ms=answer.duration_ms,
            error=answer.error,
            is_success=ok,
        )
    )
    delivery.last_status = answer.status
    delivery.last_error = None if ok else (answer.error or f"answered HTTP {answer.status}")
    delivery.lease_until = None
    target: WebhookEndpoint | NotificationChannel | None = (
        session.get(WebhookEndpoint, delivery.endpoint_id)
        if delivery.endpoint_id is not None
        else session.get(NotificationChannel, delivery.channel_id)
    )
    if ok:
        delivery.status, delivery.finished_at = DELIVERED, now
        if target is not None and not delivery.is_test:
            target.failing_since = None
        session.flush()
        return DELIVERED
    if isinstance(target, NotificationChannel) and messages.is_revoked(
        target.kind, answer.status, answer.body
    ):
        delivery.status, delivery.finished_at = FAILED, now
        _revoked(session, target, answer, now=now, mail_from=mail_from, base_url=base_url)
        session.flush()
        return "revoked"
    if delivery.is_test or target is None:
        delivery.status, delivery.finished_at = FAILED, now
        session.flush()
        return FAILED
    target.failing_since = target.failing_since or now
    if isinstance(target, WebhookEndpoint) and backoff.should_disable(target.failing_since, now):
        _disable(session, target, now=now, mail_from=mail_from, base_url=base_url)
        delivery.status, delivery.finished_at = FAILED, now
        session.flush()
        return "disabled"
    first = delivery.first_attempt_at or now
    asked = backoff.retry_after(answer.retry_after, now)
    following = backoff.next_try(first, delivery.attempts, now, draw, asked)
    if following is None:
        delivery.status, delivery.finished_at = FAILED, now
    else:
        delivery.status, delivery.due_at = PENDING, following
    session.flush()
    return delivery.status


def _disable(
    session: Session, endpoint: WebhookEndpoint, *, now: dt.datetime, mail_from: str, base_url: str
) -> None:
    days = backoff.WINDOW.days
    reason = f"every delivery failed for {days} days"
    since = endpoint.failing_since
    endpoints.set_enabled(session, endpoint, False, now=now, reason=reason)
    audit.record(
        session,
        actor_id=None,
        actor_label="Backstop",
        action="webhooks.endpoint_disabled",
        target_type="webhook_endpoint",
        target_id=str(endpoint.id),
        workspace_id=endpoint.workspace_id,
        reason=reason,
    )
    tell_owners(
        session,
        endpoint.workspace_id,
        DISABLED_TEMPLATE,
        {
            "url": endpoint.url,
            "days": days,
            "since": since.strftime("%B %d, %Y at %H:%M UTC") if since else "",
            "settings_url": f"{base_url.rstrip('/')}/settings/webhooks/{endpoint.id}",
        },
        mail_from=mail_from,
    )
    log.warning("webhooks.endpoint_disabled workspace=%s endpoint=%s", endpoint.workspace_id,
                endpoint.id)  # fmt: skip


def _revoked(
    session: Session,
    channel: NotificationChannel,
    answer: Answer,
    *,
    now: dt.datetime,
    mail_from: str,
    base_url: str,
) -> None:
    name = CHANNEL_KINDS[channel.kind]
    said = (answer.body or "").strip()[:120]
    detail = f"{name} answered HTTP {answer.status}" + (f" ({said})" if said else "")
    if not channels.revoke(session, channel, detail, now=now):
        return
    audit.record(
        session,
        actor_id=None,
        actor_label="Backstop",
        action="notifications.channel_revoked",
        target_type="notification_channel",
        target_id=str(channel.id),
        workspace_id=channel.workspace_id,
        detail=detail,
    )
    tell_owners(
        session,
        channel.workspace_id,
        REVOKED_TEMPLATE,
        {
            "service": name,
            "url": channel.url_hint,
            "detail": detail,
            "settings_url": f"{base_url.rstrip('/')}/settings/notifications",
        },
        mail_from=mail_from,
    )
    log.warning("notifications.channel_revoked workspace=%s channel=%s", channel.workspace_id,
                channel.id)  # fmt: skip


def tell_owners(
    session: Session, workspace_id: int, template: str, context: dict[str, Any], *, mail_from: str
) -> int:
    """Email every owner of the workspace (plain English, merchant-facing)."""
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        return 0
    owners = session.execute(
        select(User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.workspace_id == workspace_id, Membership.role == "owner")
        .order_by(User.id)
    ).scalars()
    sent = 0
    for email in owners:
        outbox.send(
            session,
            template=template,
            to=email,
            from_email=mail_from,
            workspace_id=workspace_id,
            context={"workspace": workspace.name, **context},
        )
        sent += 1
    return sent
