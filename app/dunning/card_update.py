"""The hosted card-update page's rules (DESIGN §7): which state a link shows, the
SetupIntent for Stripe Elements, and what happens once the new card is confirmed: it
becomes the default where the failed payment came from and the open invoice is paid
at once, through the recovery runner so every cap is checked at that moment.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..accounts.branding import brand
from ..accounts.models import Workspace
from ..i18n import N_
from ..recovery import campaigns, closing, operations
from ..recovery.models import RETRY, Campaign, Step
from ..stripe import billing, cards, clocks
from ..stripe import connection as stripe_connection
from ..stripe.client import StripeError
from ..stripe.models import StripeConnection
from . import discounts, links
from .config import settings_for
from .copy import decline_message
from .mailing import send_to_customer
from .models import CardUpdateLink

log = logging.getLogger("backstop.dunning")

FORM, EXPIRED, USED, ALREADY_PAID, UNAVAILABLE = (
    "form",
    "expired",
    "used",
    "already_paid",
    "unavailable",
)
PAID, UPDATED, DECLINED, REQUIRES_ACTION = "paid", "updated", "declined", "requires_action"
FRESH_LINKS_PER_HOUR = 3
HOSTED_REASON = "the customer confirmed a new card on the hosted card-update page"


#: The workspace's connection when it is connected (the hosted pages' name for it).
connection_of = stripe_connection.connected


@dataclass(frozen=True)
class Result:
    state: str
    message: str
    client_secret: str | None = None
    """For ``requires_action``: the payment the customer's bank wants confirmed."""


def page_state(
    session: Session, connection: StripeConnection | None, link: CardUpdateLink, *, now: dt.datetime
) -> str:
    """What the page shows for ``link`` right now."""
    if link.used_at is not None:
        return USED
    if links.is_expired(link, now):
        return EXPIRED
    if connection is None:
        return UNAVAILABLE
    if link.invoice_stripe_id:
        invoice = billing.read_invoice(connection, link.invoice_stripe_id)
        if invoice.status == "paid":
            return ALREADY_PAID
    if link.opened_at is None:
        link.opened_at = now
        session.flush()
    return FORM


def amount_due(session: Session, link: CardUpdateLink) -> tuple[int, str] | None:
    """What the link's campaign is collecting: (minor units, currency), or None."""
    campaign = session.get(Campaign, link.campaign_id) if link.campaign_id else None
    return (campaign.amount_minor, campaign.currency) if campaign else None


@dataclass(frozen=True)
class Form:
    setup_secret: str
    """The SetupIntent the page's Stripe Elements confirm (one per link: reloading the
    page reuses it through the idempotency key)."""
    confirm_secret: str | None
    """The invoice's payment waiting for the bank (3-D Secure): the page offers to
    confirm it with the card on file before asking for another."""
    pause_days: int | None
    """The extended sequence's pause, when this link may take it."""
    discount: tuple[int, int] | None = None
    """The final touch's last-chance offer (percent, months) for paying now."""


def form_for(session: Session, connection: StripeConnection, link: CardUpdateLink) -> Form:
    setup = cards.create_setup_intent(
        connection, link.customer_stripe_id, idempotency_key=f"link:{link.id}:setup"
    )
    confirm = (
        cards.payment_needing_action(connection, link.invoice_stripe_id)
        if link.invoice_stripe_id
        else None
    )
    settings = settings_for(session, link.workspace_id)
    campaign = session.get(Campaign, link.campaign_id) if link.campaign_id else None
    pausable = (
        link.purpose == "dunning"
        and settings.sequence == "extended"
        and campaign is not None
        and campaign.is_open
        and bool(link.subscription_stripe_id)
    )
    return Form(
        setup.client_secret,
        confirm,
        settings.pause_days if pausable else None,
        discounts.offered(link) if link.invoice_stripe_id else None,
    )


def complete(
    session: Session,
    connection: StripeConnection,
    link: CardUpdateLink,
    *,
    setup_intent_id: str | None,
    now: dt.datetime,
) -> Result:
    """After Stripe.js confirmed the SetupIntent (or the bank confirmed the payment,
    ``setup_intent_id`` None): make the card the default and pay what is due. Paid
    through the final touch's link, its last-chance discount is applied."""
    result = _complete(session, connection, link, setup_intent_id=setup_intent_id, now=now)
    if result.state == PAID:
        discounts.take(session, connection, link, now=now)
    return result


def _complete(
    session: Session,
    connection: StripeConnection,
    link: CardUpdateLink,
    *,
    setup_intent_id: str | None,
    now: dt.datetime,
) -> Result:
    if not links.is_usable(link, now):
        return Result(USED if link.used_at else EXPIRED, N_("This link can no longer be used."))
    if setup_intent_id is not None:
        intent = cards.read_setup_intent(connection, setup_intent_id)
        if intent.customer_id != link.customer_stripe_id or intent.payment_method_id is None:
            return Result(DECLINED, N_("We could not confirm that card. Please try again."))
        if intent.status != "succeeded":
            return Result(DECLINED, intent.error or N_("Your bank did not confirm the card."))
        if link.purpose == "portal":  # the customer's card for everything, not one payment
            cards.set_default_card_everywhere(
                connection, link.customer_stripe_id, intent.payment_method_id
            )
            where = "everywhere"
        else:
            where = cards.set_default_card(
                connection,
                link.customer_stripe_id,
                link.subscription_stripe_id,
                intent.payment_method_id,
            )
        log.info(
            "dunning.card_updated workspace=%s link=%s on=%s", link.workspace_id, link.id, where
        )
    if not link.invoice_stripe_id:
        return _used(session, link, UPDATED, N_("Your new card is saved. Thank you!"), now)
    invoice = billing.read_invoice(connection, link.invoice_stripe_id)
    campaign = session.get(Campaign, link.campaign_id) if link.campaign_id else None
    if invoice.status == "paid":
        if campaign is not None:
            _settle_paid(session, connection, campaign, invoice, now)
        if setup_intent_id is None:  # the bank just confirmed the payment our page made
            return _used(session, link, PAID, N_("Thank you! Your payment went through."), now)
        return _used(session, link, ALREADY_PAID, N_("Your payment has already gone through."), now)
    if invoice.status != "open":
        return _used(session, link, UPDATED, N_("Your new card is saved; nothing is due now."), now)
    if setup_intent_id is None:
        # Back from the bank's confirmation without the invoice paid: it was refused.
        return Result(
            DECLINED, N_("Your bank did not confirm the payment. Try again or use another card.")
        )
    return _pay(session, connection, link, campaign, setup_intent_id, now)


def _pay(
    session: Session,
    connection: StripeConnection,
    link: CardUpdateLink,
    campaign: Campaign | None,
    setup_intent_id: str,
    now: dt.datetime,
) -> Result:
    if campaign is not None and campaign.is_open:
        step = operations.charge_now(session, connection, campaign, reason=HOSTED_REASON, now=now)
        outcome, detail = step.outcome, step.outcome_detail or ""
    else:
        # The campaign is over (lost, paused instead of cancelled): the customer paying
        # with a new card reactivates; Stripe's own rules still apply to the charge.
        result = billing.pay_invoice(
            connection, link.invoice_stripe_id or "", idempotency_key=f"link:{link.id}:pay"
        )
        outcome = "paid" if result.paid else "declined"
        detail = result.error or ""
        if result.paid and link.subscription_stripe_id:
            _resume(connection, link.subscription_stripe_id)
    if outcome == "paid":
        return _used(session, link, PAID, N_("Thank you! Your payment went through."), now)
    if outcome == "declined":
        secret = cards.payment_needing_action(connection, link.invoice_stripe_id or "")
        if secret:
            message = N_("Your bank wants you to confirm this payment.")
            return Result(REQUIRES_ACTION, message, secret)
        code = detail.removeprefix("declined: ") if detail.startswith("declined: ") else None
        link.outcome = DECLINED
        # The confirmed SetupIntent is spent: the next card needs a fresh one.
        fresh = cards.create_setup_intent(
            connection,
            link.customer_stripe_id,
            idempotency_key=f"link:{link.id}:after:{setup_intent_id}",
        )
        return Result(DECLINED, decline_message(code), fresh.client_secret)
    # Refused by a cap or closed meanwhile: the card is saved, nothing was charged now.
    return _used(
        session, link, UPDATED, N_("Your new card is saved. We'll take the payment shortly."), now
    )


def _settle_paid(
    session: Session,
    connection: StripeConnection,
    campaign: Campaign,
    invoice: billing.InvoiceFacts,
    now: dt.datetime,
) -> None:
    """The bank confirmed our page's payment: label the charge as ours, then close."""
    if not campaign.is_open:
        return
    ours = session.execute(
        select(Step)
        .where(Step.campaign_id == campaign.id, Step.kind == RETRY, Step.reason == HOSTED_REASON)
        .order_by(Step.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    charges = billing.list_charges(connection, invoice)
    mapping = {invoice.latest_charge_id: ours} if ours and invoice.latest_charge_id else {}
    campaigns.sync_attempts(session, campaign, charges, ours=mapping)
    closing.settle(session, campaign, invoice, now=now)


def _resume(connection: StripeConnection, subscription_id: str) -> None:
    try:
        cards.resume_subscription(connection, subscription_id)
    except StripeError:
        log.warning("dunning.resume_failed subscription=%s", subscription_id)


def _used(
    session: Session, link: CardUpdateLink, state: str, message: str, now: dt.datetime
) -> Result:
    link.used_at = now
    link.outcome = state
    session.flush()
    return Result(state, message)


def send_fresh_link(session: Session, link: CardUpdateLink, *, now: dt.datetime) -> bool:
    """Email a new link to the address the old one was sent to (never to one typed in
    on the page). At most a few an hour per customer; False when refused."""
    if not link.email:
        return False
    recent = session.execute(
        select(func.count(CardUpdateLink.id)).where(
            CardUpdateLink.workspace_id == link.workspace_id,
            CardUpdateLink.customer_stripe_id == link.customer_stripe_id,
            CardUpdateLink.purpose == "fresh",
            CardUpdateLink.created_at >= now - dt.timedelta(hours=1),
        )
    ).scalar_one()
    if recent >= FRESH_LINKS_PER_HOUR:
        return False
    workspace = session.get(Workspace, link.workspace_id)
    assert workspace is not None
    _fresh, token = links.issue(
        session,
        workspace.id,
        purpose="fresh",
        customer_id=link.customer_stripe_id,
        email=link.email,
        campaign_id=link.campaign_id,
        invoice_id=link.invoice_stripe_id,
        subscription_id=link.subscription_stripe_id,
        now=now,
    )
    send_to_customer(  # in the customer's language: Stripe's preferred_locales, else ours
        session,
        workspace,
        template="card_update_link",
        to=link.email,
        context={
            "brand": brand(workspace),
            "button_url": links.url_for_token(session, workspace.id, token),
            "link_days": links.LINK_TTL.days,
        },
        customer_id=link.customer_stripe_id,
        campaign_id=link.campaign_id,
    )
    return True


def pause_instead(
    session: Session, connection: StripeConnection, link: CardUpdateLink, *, now: dt.datetime
) -> dt.datetime | None:
    """The customer takes the extended sequence's offer: pause collection for the
    workspace's pause length instead of losing the subscription. Remaining touches stop.
    Returns when it resumes, or None when no pause is on offer for this link."""
    settings = settings_for(session, link.workspace_id)
    campaign = session.get(Campaign, link.campaign_id) if link.campaign_id else None
    if (
        link.purpose != "dunning"
        or not links.is_usable(link, now)
        or settings.sequence != "extended"
        or not settings.pause_days
        or not link.subscription_stripe_id
        or campaign is None
        or not campaign.is_open
    ):
        return None
    at = clocks.now_of(session, campaign, now)
    resumes_at = at + dt.timedelta(days=settings.pause_days)
    cards.pause_subscription(
        connection, link.subscription_stripe_id, resumes_at, key=f"link:{link.id}:pause"
    )
    closing.close(
        session,
        campaign,
        "abandoned",
        reason=f"the customer paused the subscription for {settings.pause_days} days instead",
        at=at,
    )
    _used(session, link, "paused", "paused", now)
    return resumes_at
