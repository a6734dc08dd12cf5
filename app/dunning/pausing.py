"""The pause offer's hosted page (``/pause-offer/<token>``): what a pause means for this
customer, and taking it. Taking it pauses collection on Stripe (``pause_collection``
behaviour void, resuming by itself), forgives the unpaid invoice (voided) and closes the
campaign as abandoned: the money is not recovered, the subscription is kept.

Each Stripe change carries an idempotency key from the link, and the link is spent by
the first acceptance under the campaign's lock: a double tap changes Stripe once.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..events import services as events
from ..recovery import campaigns, closing
from ..recovery.models import ABANDONED, Campaign
from ..stripe import billing, clocks
from ..stripe import subscriptions as stripe_subs
from ..stripe.models import StripeConnection
from . import links
from .models import CardUpdateLink
from .pause_offer import PURPOSE, unpausable

log = logging.getLogger("backstop.dunning")

OFFER, PAUSED, ALREADY_PAID, NO_PAUSE, CLOSED, EXPIRED, USED = (
    "offer",
    "paused",
    "already_paid",
    "no_pause",
    "closed",
    "expired",
    "used",
)
#: "Update my card instead" hands out at most this many card-update links an hour per
#: pause link (each click makes one: the pause link cannot know an earlier one's token).
CARD_LINKS_PER_HOUR = 5


@dataclass(frozen=True)
class Offer:
    state: str
    plan_name: str | None = None
    pause_days: int | None = None
    resumes_at: dt.datetime | None = None
    amount: tuple[int, str] | None = None


def _campaign(session: Session, link: CardUpdateLink) -> Campaign | None:
    if link.campaign_id is None:
        return None
    return session.execute(
        select(Campaign).where(
            Campaign.workspace_id == link.workspace_id, Campaign.id == link.campaign_id
        )
    ).scalar_one_or_none()


def offer_for(
    session: Session, connection: StripeConnection, link: CardUpdateLink, *, now: dt.datetime
) -> Offer:
    """What the page shows for a usable pause link right now (Stripe is asked: the invoice
    may have been paid, the subscription cancelled, since the email left)."""
    if link.purpose != PURPOSE or not link.pause_days:
        return Offer(NO_PAUSE)
    if link.used_at is not None:
        return Offer(USED)
    if links.is_expired(link, now):
        return Offer(EXPIRED)
    campaign = _campaign(session, link)
    invoice = billing.read_invoice(connection, link.invoice_stripe_id or "")
    if invoice.status == "paid":
        if campaign is not None:
            closing.settle(session, campaign, invoice, now=now)
        return Offer(ALREADY_PAID)
    if invoice.status != "open":
        return Offer(CLOSED)
    sub = stripe_subs.read_subscription(connection, link.subscription_stripe_id or "")
    if unpausable(sub):
        return Offer(NO_PAUSE)
    if link.opened_at is None:
        link.opened_at = now
    at = clocks.now_for(session, link.workspace_id, sub.test_clock, now)
    session.flush()
    return Offer(
        OFFER,
        plan_name=sub.plan_name,
        pause_days=link.pause_days,
        resumes_at=at + dt.timedelta(days=link.pause_days),
        amount=(invoice.amount_due_minor, invoice.currency),
    )


def accept(
    session: Session, connection: StripeConnection, link: CardUpdateLink, *, now: dt.datetime
) -> Offer:
    """Take the pause: pause collection, void the open invoice, close the campaign and
    spend the link. Returns the offer as taken (state :data:`PAUSED`), or why not."""
    campaign = _campaign(session, link)
    if campaign is not None:
        campaigns.lock(session, campaign)  # a double tap waits here for the first
    session.refresh(link)
    offer = offer_for(session, connection, link, now=now)
    if offer.state != OFFER:
        return offer
    assert offer.resumes_at is not None and offer.pause_days is not None
    subscription_id, invoice_id = link.subscription_stripe_id or "", link.invoice_stripe_id or ""
    stripe_subs.pause(
        connection,
        subscription_id,
        resumes_at=offer.resumes_at,
        idempotency_key=f"link:{link.id}:pause",
    )
    billing.void_invoice(connection, invoice_id, idempotency_key=f"link:{link.id}:void")
    link.used_at = now
    link.outcome = PAUSED
    reason = f"the customer paused for {offer.pause_days} days instead"
    if campaign is not None:
        at = clocks.now_of(session, campaign, now)
        closing.close(session, campaign, ABANDONED, reason=reason, at=at)
        events.emit(
            session,
            link.workspace_id,
            "recovery.campaign.paused_instead",
            subject=f"campaign:{campaign.id}",
            data={
                **closing.campaign_facts(campaign),
                "pause_days": offer.pause_days,
                "resumes_at": offer.resumes_at.isoformat(),
                "invoice_voided": True,
            },
            occurred_at=at,
        )
    log.info(
        "dunning.paused_instead workspace=%s link=%s subscription=%s days=%s",
        link.workspace_id,
        link.id,
        subscription_id,
        offer.pause_days,
    )
    session.flush()
    return Offer(
        PAUSED,
        plan_name=offer.plan_name,
        pause_days=offer.pause_days,
        resumes_at=offer.resumes_at,
        amount=offer.amount,
    )


def card_link(session: Session, link: CardUpdateLink, *, now: dt.datetime) -> str | None:
    """A card-update link for the same campaign ("Update my card instead"), or None when
    the pause link is spent or asked too often."""
    if not links.is_usable(link, now):
        return None
    recent = session.execute(
        select(func.count(CardUpdateLink.id)).where(
            CardUpdateLink.workspace_id == link.workspace_id,
            CardUpdateLink.campaign_id == link.campaign_id,
            CardUpdateLink.step_id == link.step_id,
            CardUpdateLink.purpose == "dunning",
            CardUpdateLink.created_at >= now - dt.timedelta(hours=1),
        )
    ).scalar_one()
    if recent >= CARD_LINKS_PER_HOUR:
        return None
    _card, token = links.issue(
        session,
        link.workspace_id,
        purpose="dunning",
        customer_id=link.customer_stripe_id,
        email=link.email,
        campaign_id=link.campaign_id,
        invoice_id=link.invoice_stripe_id,
        subscription_id=link.subscription_stripe_id,
        step_id=link.step_id,
        now=now,
    )
    return links.url_for_token(session, link.workspace_id, token)
