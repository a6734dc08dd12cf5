"""What the Win-back loop does with Stripe's events and our own domain events: thin
translations to :mod:`.campaigns`.

A campaign opens when a cancellation takes effect (``customer.subscription.deleted``:
a cancel now, or the period end of a scheduled one) and, for customers lost to failed
payments whose subscription Stripe keeps (unpaid), when the Recover campaign is lost.
Any subscription that bills again closes the customer's campaigns.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..events.models import DomainEvent
from ..models import utcnow
from ..outbox.services import normalise
from ..recovery.models import IN_FLIGHT, LOST
from ..recovery.models import Campaign as RecoveryCampaign
from ..retain.models import CancelSession
from ..stripe import cards, clocks
from ..stripe import connection as stripe_connection
from ..stripe import subscriptions as stripe_subs
from ..stripe import winback as stripe_winback
from ..stripe.client import InvalidRequestError
from ..stripe.models import MirrorSubscription, StripeConnection
from . import campaigns, policy
from .models import STOPPED
from .settings import settings_for

SUPPRESSED = {
    "unsubscribed": "the customer unsubscribed",
    "bounced": "the customer's address bounced",
    "complained": "the customer marked an email as spam",
}


def _object(payload: dict[str, Any]) -> dict[str, Any]:
    return (payload.get("data") or {}).get("object") or {}


def _epoch(value: Any) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(int(value), dt.UTC) if value else None


def subscription_deleted(
    session: Session, connection: StripeConnection, payload: dict[str, Any]
) -> None:
    sub = _object(payload)
    if not isinstance(sub.get("id"), str) or campaigns.find(
        session, connection.workspace_id, sub["id"]
    ):
        return
    facts = stripe_subs.subscription_facts(sub)
    ended_at = (
        _epoch(sub.get("ended_at"))
        or _epoch(sub.get("canceled_at"))
        or _epoch(payload.get("created"))
    ) or utcnow()
    details = sub.get("cancellation_details") or {}
    begin(
        session,
        connection,
        facts,
        ended_at=ended_at,
        stripe_reason=details.get("reason"),
        feedback=details.get("feedback"),
    )


def begin(
    session: Session,
    connection: StripeConnection,
    facts: stripe_subs.SubscriptionFacts,
    *,
    ended_at: dt.datetime,
    stripe_reason: str | None,
    feedback: str | None,
) -> campaigns.WinbackCampaign | None:
    """Gather what the campaign needs (who, why, in which timezone) and open it, unless
    the customer still has another subscription that bills (they have not left)."""
    workspace_id = connection.workspace_id
    settings = settings_for(session, workspace_id)
    if not settings.is_enabled or settings.is_paused:
        return None  # before asking Stripe anything
    others = [
        s
        for s in stripe_winback.live_subscriptions(connection, facts.customer_id)
        if s.id != facts.id
    ]
    if others:
        return None
    if not facts.plan_name:  # events carry the product as an id: read its name
        facts = stripe_subs.read_subscription(connection, facts.id)
    kind, reason, detail = classify(session, workspace_id, facts.id, stripe_reason, feedback)
    contact = cards.customer_contact(connection, facts.customer_id)
    ending = campaigns.Ending(
        subscription=facts,
        ended_at=ended_at,
        kind=kind,
        reason=reason,
        reason_detail=detail,
        email=normalise(contact.email) if contact.email else None,
        customer_name=contact.name,
        customer_tz=contact.timezone or "UTC",
    )
    return campaigns.start(session, workspace_id, ending, now=utcnow())


def classify(
    session: Session,
    workspace_id: int,
    subscription_id: str,
    stripe_reason: str | None,
    feedback: str | None,
) -> tuple[str, str, str]:
    """(kind, reason, where the reason came from): involuntary when Stripe ended it for
    non-payment or a Recover campaign was under way or lost; otherwise the survey answer
    of the customer's cancel session, else Stripe's feedback."""
    lost = session.execute(
        select(RecoveryCampaign.id)
        .where(
            RecoveryCampaign.workspace_id == workspace_id,
            RecoveryCampaign.subscription_stripe_id == subscription_id,
            RecoveryCampaign.state.in_((IN_FLIGHT, LOST)),
        )
        .limit(1)
    ).scalar_one_or_none()
    if stripe_reason == "payment_failed" or lost is not None:
        return policy.INVOLUNTARY, "other", "the payments failed and were not recovered"
    answer = session.execute(
        select(CancelSession.reason_key, CancelSession.reason_label)
        .where(
            CancelSession.workspace_id == workspace_id,
            CancelSession.subscription_stripe_id == subscription_id,
            CancelSession.outcome == "cancelled",
            ~CancelSession.is_simulation,
        )
        .order_by(CancelSession.id.desc())
        .limit(1)
    ).first()
    if answer is not None and answer.reason_key:
        detail = f"the cancel flow: “{answer.reason_label or answer.reason_key}”"
        return policy.VOLUNTARY, policy.reason_group(answer.reason_key, None), detail
    if feedback:
        return (
            policy.VOLUNTARY,
            policy.reason_group(None, feedback),
            f"Stripe's feedback: {feedback}",
        )
    return policy.VOLUNTARY, "other", "no reason given"


#: Cancels this recent, found when a merchant connects, get a campaign of their own.
IMPORT_LOOKBACK = dt.timedelta(days=30)


def imported(session: Session, connection: StripeConnection, payload: dict[str, Any]) -> None:
    """A newly connected account's customers who left in the last 30 days (by their
    clock) get their campaigns; a touch overdue already goes at once (only the newest)."""
    ended_subs = session.execute(
        select(MirrorSubscription.data).where(
            MirrorSubscription.workspace_id == connection.workspace_id,
            MirrorSubscription.status == "canceled",
        )
    ).scalars()
    for sub in ended_subs:
        ended_at = _epoch(sub.get("ended_at")) or _epoch(sub.get("canceled_at"))
        clock = sub.get("test_clock") if isinstance(sub.get("test_clock"), str) else None
        clocks.ensure(session, connection, clock)
        now = clocks.now_for(session, connection.workspace_id, clock, utcnow())
        if ended_at is None or now - ended_at > IMPORT_LOOKBACK:
            continue
        if campaigns.find(session, connection.workspace_id, sub["id"]) is not None:
            continue
        details = sub.get("cancellation_details") or {}
        begin(
            session,
            connection,
            stripe_subs.subscription_facts(sub),
            ended_at=ended_at,
            stripe_reason=details.get("reason"),
            feedback=details.get("feedback"),
        )


def subscription_billing(
    session: Session, connection: StripeConnection, payload: dict[str, Any]
) -> None:
    """``customer.subscription.created|updated``: a subscription that bills (again)
    brings the customer back, by whatever path."""
    sub = _object(payload)
    if not isinstance(sub.get("id"), str) or sub.get("status") not in ("active", "trialing"):
        return
    if sub.get("cancel_at_period_end") or sub.get("cancel_at"):
        return  # still on its way out
    customer = stripe_subs.subscription_facts(sub).customer_id
    open_ones = campaigns.open_for_customer(session, connection.workspace_id, customer)
    if not open_ones:
        return
    # Events arrive late and out of order (an old "active" of the subscription that
    # ended since): what counts is the subscription as Stripe has it now.
    facts = stripe_subs.read_subscription(connection, sub["id"])
    if facts.status not in ("active", "trialing") or facts.cancel_at_period_end:
        return
    marked = stripe_winback.marked_campaign(sub)
    at = _epoch(payload.get("created")) or utcnow()
    for campaign in open_ones:
        campaigns.on_returned(session, campaign, facts, via_link=marked == campaign.id, at=at)


def recovery_lost(session: Session, event: DomainEvent) -> None:
    """A Recover campaign was lost while Stripe keeps the subscription (unpaid, past
    due): the customer is gone all the same; win them back as involuntary."""
    subscription_id = (event.data or {}).get("subscription")
    if not subscription_id or campaigns.find(session, event.workspace_id, subscription_id):
        return
    connection = stripe_connection.connected(session, event.workspace_id)
    if connection is None:
        return
    try:
        facts = stripe_subs.read_subscription(connection, subscription_id)
    except InvalidRequestError as exc:
        if getattr(exc, "http_status", None) == 404:
            return  # gone from Stripe: nothing to win back
        raise
    if facts.status == "canceled":
        return  # its deletion event opens the campaign
    begin(
        session,
        connection,
        facts,
        ended_at=event.occurred_at,
        stripe_reason="payment_failed",
        feedback=None,
    )


def address_suppressed(session: Session, event: DomainEvent) -> None:
    data = event.data or {}
    if data.get("email"):
        reason = SUPPRESSED.get(data.get("reason", ""), "the address was suppressed")
        campaigns.stop_for_email(session, event.workspace_id, data["email"], reason, now=utcnow())


def customer_deleted(
    session: Session, connection: StripeConnection, payload: dict[str, Any]
) -> None:
    customer = _object(payload).get("id")
    if isinstance(customer, str):
        for campaign in campaigns.open_for_customer(session, connection.workspace_id, customer):
            campaigns.close(
                session, campaign, STOPPED, reason="the customer was deleted in Stripe", at=utcnow()
            )


def disconnected(session: Session, connection: StripeConnection, payload: dict[str, Any]) -> None:
    campaigns.stop_all(session, connection.workspace_id, "Stripe was disconnected", now=utcnow())
