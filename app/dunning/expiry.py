"""Card-expiry warnings: a daily scan plans notices into the schedule; each is sent when
due, unless the card was replaced or updated meanwhile (DESIGN §7)."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..accounts.branding import brand
from ..accounts.models import Workspace
from ..i18n import services as i18n
from ..outbox.models import OutboxMessage
from ..recovery.cadence import pick_timezone
from ..schedule import claims
from ..stripe import cards, clocks
from ..stripe import connection as stripe_connection
from ..stripe.models import StripeConnection
from . import links
from .expiry_rules import plan_notices
from .mailing import send_to_customer
from .models import ExpiryNotice

log = logging.getLogger("backstop.dunning")
TEMPLATE = "card_expiring"


def scan(session: Session, connection: StripeConnection, *, now: dt.datetime) -> int:
    """Plan the notices every active subscription's card still needs; returns how many
    were added (a notice already planned is never planned twice)."""
    workspace = session.get(Workspace, connection.workspace_id)
    assert workspace is not None
    added = 0
    for card in cards.active_subscription_cards(connection):
        clocks.ensure(session, connection, card.test_clock)
        at = clocks.now_for(session, workspace.id, card.test_clock, now)
        tz = pick_timezone(card.customer_tz, workspace.timezone)
        for days_before, due_at in plan_notices(card.exp_month, card.exp_year, tz, now=at):
            added += _add(session, workspace.id, card, days_before, due_at, tz)
    session.flush()
    return added


def _add(
    session: Session,
    workspace_id: int,
    card: cards.DefaultCard,
    days_before: int,
    due_at: dt.datetime,
    tz: str,
) -> int:
    exists = session.execute(
        select(ExpiryNotice.id).where(
            ExpiryNotice.workspace_id == workspace_id,
            ExpiryNotice.payment_method_id == card.payment_method_id,
            ExpiryNotice.exp_year == card.exp_year,
            ExpiryNotice.exp_month == card.exp_month,
            ExpiryNotice.days_before == days_before,
        )
    ).first()
    if exists:
        return 0
    notice = ExpiryNotice(
        workspace_id=workspace_id,
        customer_stripe_id=card.customer_id,
        subscription_stripe_id=card.subscription_id,
        payment_method_id=card.payment_method_id,
        card_brand=card.brand,
        card_last4=card.last4,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
        days_before=days_before,
        customer_tz=tz,
        test_clock=card.test_clock,
        due_at=due_at,
        status="pending",
        attempts=0,
    )
    try:
        with session.begin_nested():
            session.add(notice)
            session.flush()
    except IntegrityError:  # another scan planned it a moment ago
        return 0
    return 1


def finish(notice: ExpiryNotice, outcome: str, detail: str, *, at: dt.datetime) -> str:
    return claims.finish(notice, outcome, detail, at=at)


def send(
    session: Session,
    connection: StripeConnection | None,
    notice: ExpiryNotice,
    *,
    now: dt.datetime,
) -> str:
    """Send the notice if the subscription still charges that very card."""
    at = clocks.now_of(session, notice, now)
    gone = _reason_gone(connection, notice)
    if gone is not None:
        return finish(notice, "skipped", gone, at=at)
    contact = cards.customer_contact(connection, notice.customer_stripe_id)
    if not contact.email:
        return finish(notice, "skipped", "the customer has no email address in Stripe", at=at)
    workspace = session.get(Workspace, notice.workspace_id)
    assert workspace is not None
    _link, token = links.issue(
        session,
        workspace.id,
        purpose="expiry",
        customer_id=notice.customer_stripe_id,
        email=contact.email,
        subscription_id=notice.subscription_stripe_id,
        now=now,
    )
    language = i18n.for_customer(session, workspace.id, notice.customer_stripe_id)
    message = send_to_customer(
        session,
        workspace,
        template=TEMPLATE,
        to=contact.email,
        context=expiry_context(
            workspace,
            language=language,
            name=contact.name,
            brand_name=notice.card_brand,
            last4=notice.card_last4,
            exp_month=notice.exp_month,
            exp_year=notice.exp_year,
            days_before=notice.days_before,
            link_url=links.url_for_token(session, workspace.id, token),
        ),
        customer_id=notice.customer_stripe_id,
        language=language,
    )
    notice.message_id = message.id
    if message.status == "blocked":
        return finish(notice, "blocked", f"not sent: {message.error}", at=at)
    return finish(notice, "sent", f"emailed {contact.email}", at=at)


def _reason_gone(connection: StripeConnection | None, notice: ExpiryNotice) -> str | None:
    """Why the notice no longer applies: the subscription charges another card now."""
    if connection is None or not connection.is_connected:
        return "Stripe is disconnected"
    current = cards.current_card(connection, notice.subscription_stripe_id)
    if current is None:
        return "the subscription is no longer active"
    if current.payment_method_id != notice.payment_method_id:
        return "the card was replaced meanwhile"
    if (current.exp_year, current.exp_month) != (notice.exp_year, notice.exp_month):
        return "the card's expiry was updated meanwhile"
    return None


def _notice_of(session: Session, message: OutboxMessage) -> ExpiryNotice | None:
    return session.execute(
        select(ExpiryNotice).where(
            ExpiryNotice.workspace_id == message.workspace_id,
            ExpiryNotice.message_id == message.id,
        )
    ).scalar_one_or_none()


def still_wanted(session: Session, message: OutboxMessage, *, now: dt.datetime) -> str | None:
    """As the notice's message leaves: does the subscription still charge that card?"""
    notice = _notice_of(session, message)
    if notice is None or message.workspace_id is None:
        return None
    gone = _reason_gone(stripe_connection.of_workspace(session, message.workspace_id), notice)
    return f"{gone} before the email left" if gone else None


def note_dropped(
    session: Session, message: OutboxMessage, reason: str, *, now: dt.datetime
) -> None:
    notice = _notice_of(session, message)
    if notice is not None:
        notice.outcome = "dropped"
        notice.outcome_detail = f"not sent: {reason}"[:500]


def expiry_context(
    workspace: Workspace,
    *,
    name: str | None,
    brand_name: str | None,
    last4: str | None,
    exp_month: int,
    exp_year: int,
    days_before: int,
    link_url: str,
    language: i18n.Translator | None = None,
) -> dict:
    """The ``card_expiring`` email's values, in ``language`` (English when not given)."""
    language = language or i18n.translator()
    # A card network's name ("Visa", "American Express") is the same in every language.
    label = (brand_name or "").replace("_", " ").title() or language.gettext("card")
    return {
        "brand": brand(workspace),
        "name": (name or "").split(" ")[0] or language.gettext("there"),
        "card_label": (
            language.gettext("%(card)s ending in %(last4)s", card=label, last4=last4)
            if last4
            else label
        ),
        "expiry": language.date(dt.date(exp_year, exp_month, 1), "month_year"),
        "days_before": days_before,
        "button_url": link_url,
        "link_days": links.LINK_TTL.days,
    }
