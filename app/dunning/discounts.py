"""The last-chance discount (Settings → Emails): the final touch's link carries it, and
when the customer pays through that link the discount is set on the subscription on
Stripe, once. The coupon is Retain's of the same shape (one per percent and months)."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.orm import Session

from ..events import services as events
from ..recovery import closing
from ..recovery.models import Campaign
from ..stripe import clocks
from ..stripe import subscriptions as stripe_subs
from ..stripe.client import StripeError
from ..stripe.models import StripeConnection
from .models import CardUpdateLink
from .offers import coupon_id, coupon_params, discount_words

log = logging.getLogger("backstop.dunning")


def offered(link: CardUpdateLink) -> tuple[int, int] | None:
    """The (percent, months) the link still offers, or None."""
    if link.discount_applied_at is not None or not link.subscription_stripe_id:
        return None
    if link.discount_percent and link.discount_months:
        return link.discount_percent, link.discount_months
    return None


def take(
    session: Session, connection: StripeConnection, link: CardUpdateLink, *, now: dt.datetime
) -> bool:
    """The customer paid through ``link``: set its discount on the subscription (once;
    Stripe's idempotency keys make a repeat harmless), record it on the link and the
    campaign, and tell the timeline. False when the link offers none, or Stripe refused
    (the payment stands; the failure is logged for staff to apply it by hand)."""
    offer = offered(link)
    if offer is None:
        return False
    percent, months = offer
    subscription_id = link.subscription_stripe_id or ""
    try:
        coupon = stripe_subs.ensure_coupon(
            connection,
            coupon_id(percent, months),
            coupon_params(percent, months),
            idempotency_key=f"link:{link.id}:coupon",
        )
        stripe_subs.apply_coupon(
            connection, subscription_id, coupon, idempotency_key=f"link:{link.id}:discount"
        )
    except StripeError:
        log.warning(
            "dunning.discount_failed workspace=%s link=%s subscription=%s",
            link.workspace_id,
            link.id,
            subscription_id,
        )
        return False
    link.discount_applied_at = now
    words = discount_words(percent, months)
    campaign = session.get(Campaign, link.campaign_id) if link.campaign_id else None
    if campaign is not None:
        at = clocks.now_of(session, campaign, now)
        campaign.offer_taken = f"last-chance discount: {words}"
        campaign.offer_taken_at = at
        events.emit(
            session,
            link.workspace_id,
            "recovery.campaign.discount_taken",
            subject=f"campaign:{campaign.id}",
            data={
                **closing.campaign_facts(campaign),
                "percent_off": percent,
                "duration_in_months": months,
                "coupon": coupon,
            },
            occurred_at=at,
        )
    log.info(
        "dunning.discount_taken workspace=%s link=%s coupon=%s", link.workspace_id, link.id, coupon
    )
    session.flush()
    return True
