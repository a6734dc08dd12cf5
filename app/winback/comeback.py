"""The come-back page's rules (DESIGN §9): what a win-back link shows, and the one tap
that brings the customer back with the card on file: a new subscription on the old
price (or the merchant's chosen one, with the offer's coupon), the old one kept when its
cancel has not taken effect yet, or its unpaid invoice paid when Stripe kept it. A
decline or a 3-D Secure request is answered on the page through Stripe Elements; a
double tap makes one subscription (the idempotency key is the link's)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ..accounts.models import Workspace
from ..dunning.copy import decline_message
from ..dunning.mailing import send_to_customer
from ..i18n import N_
from ..i18n import services as i18n
from ..stripe import billing, cards, clocks
from ..stripe import subscriptions as stripe_subs
from ..stripe import winback as stripe_winback
from ..stripe.models import StripeConnection
from ..stripe.subscriptions import SubscriptionFacts
from . import campaigns, links, policy
from .models import ACTIVE, ENDED, STOPPED, WinbackCampaign, WinbackLink
from .settings import settings_for
from .touches import TEMPLATE, context_for

log = logging.getLogger("backstop.winback")

# What the page shows.
FORM, EXPIRED, USED, ALREADY_ACTIVE = "form", "expired", "used", "already_active"
# What the tap came to.
BACK, REQUIRES_ACTION, DECLINED = "back", "requires_action", "declined"
# How the customer comes back.
RESTART, KEEP, PAY = "restart", "keep", "pay"


@dataclass(frozen=True)
class Page:
    state: str
    campaign: WinbackCampaign
    mode: str | None = None
    price: stripe_subs.PriceFacts | None = None
    card: stripe_winback.CardOnFile | None = None
    offer: policy.Offer | None = None
    ends_at: dt.datetime | None = None
    """KEEP: when the old subscription would end."""


@dataclass(frozen=True)
class Result:
    state: str
    message: str
    client_secret: str | None = None
    """REQUIRES_ACTION: the payment the bank wants confirmed; DECLINED: a fresh
    SetupIntent for another card."""


def campaign_of(session: Session, link: WinbackLink) -> WinbackCampaign:
    campaign = session.get(WinbackCampaign, link.campaign_id)
    assert campaign is not None and campaign.workspace_id == link.workspace_id
    return campaign


def page(
    session: Session, connection: StripeConnection, link: WinbackLink, *, now: dt.datetime
) -> Page:
    """What the page shows for ``link`` right now (reads Stripe)."""
    campaign = campaign_of(session, link)
    if link.used_at is not None:
        return Page(USED, campaign)
    if links.is_expired(link, now):
        return Page(EXPIRED, campaign)
    mode, old = _mode(connection, campaign)
    if mode is None:
        return Page(ALREADY_ACTIVE, campaign)
    if link.opened_at is None:
        link.opened_at = now
        step = next((s for s in campaign.steps if s.id == link.step_id), None)
        if step is not None and step.clicked_at is None:
            step.clicked_at = now
        campaign.clicked_at = campaign.clicked_at or now
        session.flush()
    settings = settings_for(session, campaign.workspace_id)
    price_id = _price_id(campaign, settings) if mode == RESTART else (old.price_id if old else None)
    price = stripe_subs.read_price(connection, price_id) if price_id else None
    card = stripe_winback.card_on_file(
        connection, campaign.customer_stripe_id, campaign.subscription_stripe_id
    )
    offer = _offer(campaign, settings) if mode == RESTART else None
    ends_at = old.period_end if mode == KEEP and old is not None else None
    return Page(FORM, campaign, mode, price, card, offer, ends_at)


def _mode(
    connection: StripeConnection, campaign: WinbackCampaign
) -> tuple[str | None, SubscriptionFacts | None]:
    """How this customer comes back, or None when they are subscribed already."""
    every = stripe_winback.subscriptions(connection, campaign.customer_stripe_id)
    old = next((s for s in every if s.id == campaign.subscription_stripe_id), None)
    if old is not None and old.status in ("active", "trialing") and old.cancel_at_period_end:
        return KEEP, old
    if any(s.status in ("active", "trialing") for s in every):
        return None, None
    if old is not None and old.status in ("past_due", "unpaid"):
        return PAY, old
    return RESTART, None


def _price_id(campaign: WinbackCampaign, settings: object) -> str | None:
    return getattr(settings, "price_stripe_id", None) or campaign.price_stripe_id


def _offer(campaign: WinbackCampaign, settings: object) -> policy.Offer | None:
    return policy.offer_for(
        settings.offer_percent,  # type: ignore[attr-defined]
        settings.offer_months,  # type: ignore[attr-defined]
        settings.offer_to,  # type: ignore[attr-defined]
        campaign.reason,
        campaign.kind,
    )


def setup_secret(
    connection: StripeConnection, link: WinbackLink, customer_id: str, *, after: str = ""
) -> str:
    """A SetupIntent for the page's card form (one per link and attempt)."""
    key = f"winback-link:{link.id}:setup{':' + after if after else ''}"
    return cards.create_setup_intent(connection, customer_id, idempotency_key=key).client_secret


# -- the tap ------------------------------------------------------------------------------------


def tap(
    session: Session,
    connection: StripeConnection,
    link: WinbackLink,
    *,
    now: dt.datetime,
    payment_method_id: str | None = None,
) -> Result:
    """The one tap: bring the customer back the way :func:`page` offered."""
    campaign = campaign_of(session, link)
    if not links.is_usable(link, now):
        return Result(USED if link.used_at else EXPIRED, N_("This link can no longer be used."))
    if link.subscription_stripe_id:  # an earlier tap made the subscription: pay it
        return _pay_latest(
            session, connection, link, campaign, link.subscription_stripe_id, now, key="tap"
        )
    mode, old = _mode(connection, campaign)
    if mode is None:
        return _done(
            session, link, ALREADY_ACTIVE, N_("You're already subscribed. Welcome back!"), now
        )
    if mode == KEEP and old is not None:
        facts = stripe_winback.keep(
            connection, old.id, campaign.id, idempotency_key=f"winback-link:{link.id}:keep"
        )
        return _back(session, link, campaign, facts, now, outcome="renewed")
    if mode == PAY:
        assert old is not None
        stripe_winback.mark(
            connection, old.id, campaign.id, idempotency_key=f"winback-link:{link.id}:mark"
        )
        link.subscription_stripe_id = old.id
        return _pay_latest(session, connection, link, campaign, old.id, now, key="pay")
    settings = settings_for(session, campaign.workspace_id)
    price_id = _price_id(campaign, settings)
    if not price_id:
        return Result(DECLINED, N_("This plan is no longer available. Please contact us."))
    offer = _offer(campaign, settings)
    coupon = None
    if offer is not None:
        coupon = stripe_subs.ensure_coupon(
            connection,
            offer.coupon_id,
            {
                "percent_off": offer.percent,
                "duration": "repeating",
                "duration_in_months": offer.months,
                "name": f"Welcome back: {offer.describe}",
            },
        )
    if payment_method_id is None:
        card = stripe_winback.card_on_file(
            connection, campaign.customer_stripe_id, campaign.subscription_stripe_id
        )
        payment_method_id = card.payment_method_id if card else None
    if payment_method_id is None:
        return Result(
            DECLINED,
            N_("Add a card to restart your subscription."),
            setup_secret(connection, link, campaign.customer_stripe_id),
        )
    facts, _invoice = stripe_winback.subscribe(
        connection,
        customer_id=campaign.customer_stripe_id,
        price_id=price_id,
        quantity=max(campaign.quantity, 1),
        payment_method_id=payment_method_id,
        coupon_id=coupon,
        campaign_id=campaign.id,
        idempotency_key=f"winback-link:{link.id}:subscribe",
    )
    link.subscription_stripe_id = facts.id
    if offer is not None:
        campaign.offer_applied = offer.describe
    session.flush()
    if facts.status in ("active", "trialing"):
        return _back(session, link, campaign, facts, now, outcome="subscribed")
    return _pay_latest(session, connection, link, campaign, facts.id, now, key="first", pay=False)


def complete(
    session: Session,
    connection: StripeConnection,
    link: WinbackLink,
    *,
    setup_intent_id: str | None,
    now: dt.datetime,
) -> Result:
    """After Stripe.js confirmed a new card (``setup_intent_id``) or the bank a payment
    (None): the card becomes the customer's default, then the tap is made (again)."""
    campaign = campaign_of(session, link)
    if not links.is_usable(link, now):
        return Result(USED if link.used_at else EXPIRED, N_("This link can no longer be used."))
    if setup_intent_id is None:
        if link.subscription_stripe_id:
            facts, _ = stripe_winback.read(connection, link.subscription_stripe_id)
            if facts.status in ("active", "trialing"):
                return _back(session, link, campaign, facts, now, outcome="subscribed")
        return Result(
            DECLINED,
            N_("Your bank did not confirm the payment. Try again or use another card."),
            setup_secret(connection, link, campaign.customer_stripe_id, after="confirm"),
        )
    intent = cards.read_setup_intent(connection, setup_intent_id)
    if intent.customer_id != campaign.customer_stripe_id or intent.payment_method_id is None:
        return Result(DECLINED, N_("We could not confirm that card. Please try again."))
    if intent.status != "succeeded":
        return Result(DECLINED, intent.error or N_("Your bank did not confirm the card."))
    cards.set_default_card_everywhere(
        connection, campaign.customer_stripe_id, intent.payment_method_id
    )
    if link.subscription_stripe_id:
        return _pay_latest(
            session,
            connection,
            link,
            campaign,
            link.subscription_stripe_id,
            now,
            key=setup_intent_id,
        )
    return tap(session, connection, link, now=now, payment_method_id=intent.payment_method_id)


def _pay_latest(
    session: Session,
    connection: StripeConnection,
    link: WinbackLink,
    campaign: WinbackCampaign,
    subscription_id: str,
    now: dt.datetime,
    *,
    key: str,
    pay: bool = True,
) -> Result:
    """Collect the subscription's open invoice (a decline is shown, not raised)."""
    facts, invoice_id = stripe_winback.read(connection, subscription_id)
    if facts.status in ("active", "trialing"):
        return _back(session, link, campaign, facts, now, outcome="subscribed")
    if invoice_id is None:
        return Result(DECLINED, N_("Something went wrong. Please try again."))
    if pay:
        # What is still owed, oldest first: the subscription bills again once all is paid.
        for open_id in stripe_winback.open_invoices(connection, subscription_id):
            result = billing.pay_invoice(
                connection, open_id, idempotency_key=f"winback-link:{link.id}:pay:{open_id}:{key}"
            )
            if not result.paid:
                invoice_id = open_id
                break
        else:
            facts, _ = stripe_winback.read(connection, subscription_id)
            return _back(session, link, campaign, facts, now, outcome="paid")
    secret = cards.payment_needing_action(connection, invoice_id)
    if secret:
        return Result(REQUIRES_ACTION, N_("Your bank wants you to confirm this payment."), secret)
    invoice = billing.read_invoice(connection, invoice_id)
    code = invoice.failure.decline_code if invoice.failure else None
    session.flush()
    fresh = setup_secret(
        connection, link, campaign.customer_stripe_id, after=f"{key}:{invoice.attempt_count}"
    )
    return Result(DECLINED, decline_message(code), fresh)


def _back(
    session: Session,
    link: WinbackLink,
    campaign: WinbackCampaign,
    facts: SubscriptionFacts,
    now: dt.datetime,
    *,
    outcome: str,
) -> Result:
    at = clocks.now_of(session, campaign, now)
    if campaign.state in (ENDED, STOPPED):
        campaign.state = ACTIVE  # a link still valid after the campaign closed still wins
    campaigns.on_returned(session, campaign, facts, via_link=True, at=at, link_step_id=link.step_id)
    log.info(
        "winback.back workspace=%s campaign=%s via=%s", campaign.workspace_id, campaign.id, outcome
    )
    return _done(
        session, link, BACK, N_("Welcome back! Your subscription is active again."), now, outcome
    )


def _done(
    session: Session,
    link: WinbackLink,
    state: str,
    message: str,
    now: dt.datetime,
    outcome: str | None = None,
) -> Result:
    link.used_at = now
    link.outcome = outcome or state
    session.flush()
    return Result(state, message)


# -- a fresh link -------------------------------------------------------------------------------


def send_fresh_link(
    session: Session, connection: StripeConnection, link: WinbackLink, *, now: dt.datetime
) -> bool:
    """Email a new link to the address Stripe has for the customer (never one typed in
    on the page). A few an hour at most; False when refused or there is no address."""
    campaign = campaign_of(session, link)
    if links.fresh_links_lately(session, campaign, now) >= links.FRESH_LINKS_PER_HOUR:
        return False
    contact = cards.customer_contact(connection, campaign.customer_stripe_id)
    if not contact.email:
        return False
    workspace = session.get(Workspace, campaign.workspace_id)
    assert workspace is not None
    _fresh, token = links.issue(session, campaign, now=now, purpose="fresh")
    language = i18n.for_customer(session, workspace.id, campaign.customer_stripe_id)
    context = context_for(  # the first touch's words, with the new link
        workspace,
        campaign,
        number=1,
        count=1,
        settings=settings_for(session, workspace.id),
        customer_name=contact.name,
        link_url=links.url(session, workspace.id, token),
        language=language,
    )
    send_to_customer(
        session,
        workspace,
        template=TEMPLATE,
        to=contact.email,
        context=context,
        customer_id=campaign.customer_stripe_id,
        language=language,
    )
    return True
