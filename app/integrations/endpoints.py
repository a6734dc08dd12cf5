"""Webhook endpoints: add, change, turn on and off, rotate the secret, send a test
event, resend a delivery. Services take explicit arguments, flush, never commit."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ..crypto import decrypt, encrypt
from ..errors import Conflict, Refusal
from . import catalogue, signing
from .addresses import AddressRefused, check_url
from .deliveries import cancel_open, hand_over_new
from .models import OPEN_STATES, PENDING, Delivery, WebhookEndpoint

#: After a rotation the old secret keeps signing (beside the new one) for this long, so
#: the merchant can deploy the new one without dropping a delivery.
ROTATION_OVERLAP = dt.timedelta(hours=24)
MAX_ENDPOINTS = 16


@dataclass(frozen=True)
class Rules:
    """What the deployment allows as a target (from settings)."""

    allow_loopback: bool = False

    @property
    def require_https(self) -> bool:
        return not self.allow_loopback


def check(url: str, event_types: list[str], rules: Rules) -> list[str]:
    """Everything wrong with an endpoint's URL and event types, one sentence each."""
    errors = []
    try:
        check_url(url, allow_loopback=rules.allow_loopback, require_https=rules.require_https)
    except AddressRefused as exc:
        errors.append(f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
    if not event_types:
        errors.append("Choose at least one event to send (or all of them).")
    unknown = [t for t in event_types if t != catalogue.ALL and t not in catalogue.SENT]
    if unknown:
        errors.append(f"Backstop does not send {', '.join(sorted(unknown))}.")
    return errors


def create(
    session: Session,
    workspace_id: int,
    *,
    url: str,
    event_types: list[str],
    description: str,
    rules: Rules,
) -> WebhookEndpoint:
    errors = check(url, event_types, rules)
    count = session.query(WebhookEndpoint).filter_by(workspace_id=workspace_id).count()
    if count >= MAX_ENDPOINTS:
        errors.append(f"A workspace has at most {MAX_ENDPOINTS} endpoints.")
    if errors:
        raise Refusal(*errors)
    endpoint = WebhookEndpoint(
        workspace_id=workspace_id,
        url=url,
        event_types=_normal(event_types),
        description=description[:200],
        secret_enc=encrypt(signing.new_secret()),
    )
    session.add(endpoint)
    session.flush()
    return endpoint


def update_endpoint(
    session: Session,
    endpoint: WebhookEndpoint,
    *,
    url: str,
    event_types: list[str],
    description: str,
    rules: Rules,
) -> None:
    errors = check(url, event_types, rules)
    if errors:
        raise Refusal(*errors)
    endpoint.url = url
    endpoint.event_types = _normal(event_types)
    endpoint.description = description[:200]
    session.flush()


def set_enabled(
    session: Session, endpoint: WebhookEndpoint, enabled: bool, *, now: dt.datetime, reason: str
) -> None:
    """Turn an endpoint on (a fresh start: its failure streak forgotten) or off (what it
    had still to deliver is cancelled)."""
    endpoint.is_enabled = enabled
    endpoint.failing_since = None
    if enabled:
        endpoint.disabled_at = endpoint.disabled_reason = None
    else:
        endpoint.disabled_at = now
        endpoint.disabled_reason = reason[:500]
        cancel_open(session, endpoint_id=endpoint.id, why=f"the endpoint was disabled: {reason}")
    session.flush()


def secret(endpoint: WebhookEndpoint) -> str:
    """The current secret, in clear (owners and admins only; raises SecretUnreadable)."""
    return decrypt(endpoint.secret_enc)


def signing_secrets(endpoint: WebhookEndpoint, now: dt.datetime) -> list[str]:
    """The secrets a delivery is signed with now: the current one, and the one it
    replaced while their overlap lasts."""
    found = [decrypt(endpoint.secret_enc)]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret_enc and expires is not None and now < expires:
        found.append(decrypt(endpoint.previous_secret_enc))
    return found


def rotate(
    session: Session, endpoint: WebhookEndpoint, *, now: dt.datetime, overlap: bool = True
) -> None:
    """A new secret; the old one keeps signing beside it for :data:`ROTATION_OVERLAP`
    (or stops at once with ``overlap=False``, when it leaked)."""
    endpoint.previous_secret_enc = endpoint.secret_enc if overlap else None
    endpoint.previous_secret_expires_at = now + ROTATION_OVERLAP if overlap else None
    endpoint.secret_enc = encrypt(signing.new_secret())
    session.flush()


def send_test(
    session: Session,
    endpoint: WebhookEndpoint,
    event_type: str,
    *,
    workspace_slug: str,
    now: dt.datetime,
    lease: dt.timedelta,
) -> Delivery:
    """Post a sample event of ``event_type`` (marked ``"test": true``), once, now."""
    if event_type not in catalogue.SENT:
        raise Refusal("Choose one of the events Backstop sends.")
    if not endpoint.is_enabled:
        raise Conflict("Turn the endpoint on before sending it a test event.")
    payload = catalogue.sample(
        event_type, workspace=workspace_slug, now=now, test_id="evt_test_" + secrets.token_hex(8)
    )
    delivery = Delivery(
        workspace_id=endpoint.workspace_id,
        endpoint_id=endpoint.id,
        event_type=event_type,
        payload=payload,
        is_test=True,
        status=PENDING,
        due_at=now,
    )
    hand_over_new(session, [delivery], now=now, lease=lease)
    return delivery


def resend(session: Session, delivery: Delivery, *, now: dt.datetime, lease: dt.timedelta) -> None:
    """Deliver again, now, exactly what was sent (same event id: receivers that drop
    duplicates drop it), with a fresh retry window."""
    if delivery.endpoint_id is None:
        raise Refusal("Only webhook deliveries can be resent.")
    endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
    if endpoint is None or not endpoint.is_enabled:
        raise Conflict("Turn the endpoint on before resending to it.")
    if delivery.status in OPEN_STATES:
        raise Conflict("This delivery is still being tried; wait for it to finish.")
    delivery.status = PENDING
    delivery.due_at = now
    delivery.attempts = 0
    delivery.first_attempt_at = None
    delivery.finished_at = None
    session.flush()
    hand_over_new(session, [delivery], now=now, lease=lease)


def _normal(event_types: list[str]) -> list[str]:
    if catalogue.ALL in event_types:
        return [catalogue.ALL]
    return [t for t in catalogue.SENT if t in event_types]
