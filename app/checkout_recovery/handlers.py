"""What checkout recovery does with Stripe's events and our own domain events: thin
translations to :mod:`.campaigns`.

``checkout.session.expired`` opens a campaign when the session is a subscription
checkout with an email, the customer's consent and a recovery URL;
``checkout.session.completed`` closes the campaigns it answers (same prices, same
person). Each re-reads the session from Stripe: events arrive late and out of order.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy.orm import Session

from ..events.models import DomainEvent
from ..models import utcnow
from ..stripe import checkout as stripe_checkout
from ..stripe import clocks
from ..stripe.models import StripeConnection
from . import campaigns, policy
from .models import STOPPED
from .settings import settings_for

log = logging.getLogger("backstop.checkout_recovery")
SUPPRESSED = {
    "unsubscribed": "the customer unsubscribed",
    "bounced": "the customer's address bounced",
    "complained": "the customer marked an email as spam",
}


def _object(payload: dict[str, Any]) -> dict[str, Any]:
    return (payload.get("data") or {}).get("object") or {}


def _epoch(value: Any) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(int(value), dt.UTC) if value else None


def session_expired(
    session: Session, connection: StripeConnection, payload: dict[str, Any]
) -> None:
    sent = _object(payload)
    workspace_id = connection.workspace_id
    if not isinstance(sent.get("id"), str) or sent.get("mode") != "subscription":
        return
    if campaigns.find(session, workspace_id, sent["id"]) is not None:
        return
    settings = settings_for(session, workspace_id)
    if not settings.is_enabled or settings.is_paused:
        return  # before asking Stripe anything
    checkout = stripe_checkout.read_session(connection, sent["id"])
    if checkout.status != "expired":
        return
    buyer = (
        stripe_checkout.buyer(connection, checkout.customer_id) if checkout.customer_id else None
    )
    email = policy.email_of(checkout.raw, buyer.email if buyer else None)
    consent = policy.consent_of(checkout.raw, settings.consent_source)
    why = policy.why_not(checkout.raw, email=email, consent=consent)
    if why is not None:
        log.info(
            "checkout_recovery.skipped workspace=%s session=%s why=%s",
            workspace_id,
            checkout.id,
            why,
        )
        return
    assert email is not None and consent is not None
    clock = buyer.test_clock if buyer else None
    clocks.ensure(session, connection, clock)
    campaigns.start(
        session,
        workspace_id,
        checkout,
        email=email,
        name=checkout.name or (buyer.name if buyer else None),
        consent=consent,
        test_clock=clock,
        expired_at=_epoch(payload.get("created")) or utcnow(),
        now=utcnow(),
    )


def session_completed(
    session: Session, connection: StripeConnection, payload: dict[str, Any]
) -> None:
    sent = _object(payload)
    if not isinstance(sent.get("id"), str) or sent.get("mode") != "subscription":
        return
    checkout = stripe_checkout.read_session(connection, sent["id"])
    if checkout.status != "complete":
        return
    buyer = (
        stripe_checkout.buyer(connection, checkout.customer_id) if checkout.customer_id else None
    )
    email = policy.email_of(checkout.raw, buyer.email if buyer else None)
    at = _epoch(payload.get("created")) or utcnow()
    for campaign in campaigns.open_matching(session, connection.workspace_id, checkout, email):
        campaigns.on_completed(session, campaign, checkout, at=at)


def address_suppressed(session: Session, event: DomainEvent) -> None:
    data = event.data or {}
    if data.get("email"):
        reason = SUPPRESSED.get(data.get("reason", ""), "the address was suppressed")
        campaigns.stop_where(session, event.workspace_id, reason, now=utcnow(), email=data["email"])


def customer_deleted(
    session: Session, connection: StripeConnection, payload: dict[str, Any]
) -> None:
    customer = _object(payload).get("id")
    if isinstance(customer, str):
        campaigns.stop_where(
            session,
            connection.workspace_id,
            "the customer was deleted in Stripe",
            now=utcnow(),
            customer=customer,
        )


def disconnected(session: Session, connection: StripeConnection, payload: dict[str, Any]) -> None:
    campaigns.stop_all(session, connection.workspace_id, "Stripe was disconnected", now=utcnow())


__all__ = ["STOPPED"]
