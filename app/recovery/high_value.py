"""High-value payments (issue 18): a failed renewal at or above the workspace's threshold,
in the threshold's currency, is flagged when its campaign opens. Its first dunning email
goes early (``dunning.sequences.early_first_touch``), the workspace's owners and admins
get an email at once, ``recovery.campaign.high_value`` goes out (Slack and Discord hang
off it), and the dashboard lists it to be called (``calls.py``). Services flush only."""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.models import Membership, User, Workspace
from ..errors import Refusal
from ..events import services as events
from ..money import format_money, minor_digits
from ..outbox import services as outbox
from ..outbox.models import OutboxMessage
from ..stripe.models import MirrorCustomer
from . import closing
from .config import settings_for
from .models import Campaign, RecoverySettings

log = logging.getLogger("backstop.recovery")

EVENT = "recovery.campaign.high_value"
TEMPLATE = "high_value_failure"
#: Who is emailed when a high-value payment fails.
PINGED_ROLES = ("owner", "admin")
MAX_UNITS = 100_000_000

Threshold = tuple[int, str]
"""(amount in minor units, lowercase ISO currency)."""


class ThresholdRefused(Refusal):
    """The high-value threshold as typed makes no sense."""


# -- the rule -------------------------------------------------------------------------------


def is_high_value(amount_minor: int, currency: str, threshold: Threshold | None) -> bool:
    """At or above the threshold, in its currency (other currencies never compare:
    there is no exchange rate we could honestly apply)."""
    if threshold is None:
        return False
    minimum, in_currency = threshold
    return currency.lower() == in_currency and amount_minor >= minimum


def parse_threshold(amount: str, currency: str) -> Threshold | None:
    """The threshold from the form's text; None when the amount is empty (off)."""
    amount = (amount or "").strip().replace(",", "")
    currency = (currency or "").strip().lower()
    if not amount:
        return None
    errors = []
    if not re.fullmatch(r"[a-z]{3}", currency):
        errors.append("The currency must be a three-letter code, such as USD or EUR.")
    try:
        value: Decimal | None = Decimal(amount)
    except InvalidOperation:
        value = None
    digits = minor_digits(currency)
    if value is None or not value.is_finite():
        errors.append("The amount must be a number, such as 500 or 1250.00.")
    elif value <= 0 or value > MAX_UNITS:
        errors.append(f"The amount must be above 0 and at most {MAX_UNITS:,}.")
    elif not errors and value != value.quantize(Decimal(1).scaleb(-digits)):
        errors.append(f"An amount in {currency.upper()} has at most {digits} decimal digits.")
    if errors:
        raise ThresholdRefused(*errors)
    assert value is not None
    return int(value.scaleb(digits)), currency


# -- the setting ----------------------------------------------------------------------------


def threshold_of(session: Session, workspace_id: int) -> Threshold | None:
    row = session.execute(
        select(RecoverySettings.high_value_minor, RecoverySettings.high_value_currency).where(
            RecoverySettings.workspace_id == workspace_id
        )
    ).one_or_none()
    if row is None or row.high_value_minor is None or not row.high_value_currency:
        return None
    return int(row.high_value_minor), row.high_value_currency


def save_threshold(session: Session, workspace_id: int, threshold: Threshold | None) -> None:
    """Set (or, with None, turn off) the threshold for payments that fail from now on."""
    row = settings_for(session, workspace_id)
    row.high_value_minor, row.high_value_currency = threshold or (None, None)
    row.updated_at = dt.datetime.now(dt.UTC)
    session.flush()


def threshold_text(threshold: Threshold | None) -> str:
    return format_money(*threshold) if threshold else "off"


# -- at campaign open -----------------------------------------------------------------------


def flag(session: Session, workspace: Workspace, campaign: Campaign) -> bool:
    """Mark a campaign that just opened as high-value when it is (held-out ones never:
    Backstop leaves those alone), announce it and email the owners and admins. Called
    once, by whoever opened the campaign, before its touches are planned."""
    threshold = threshold_of(session, workspace.id)
    if campaign.is_holdout or not is_high_value(
        campaign.amount_minor, campaign.currency, threshold
    ):
        return False
    campaign.is_high_value = True
    contact = contact_of(session, workspace.id, campaign.customer_stripe_id)
    events.emit(
        session,
        workspace.id,
        EVENT,
        subject=f"campaign:{campaign.id}",
        data={
            **closing.campaign_facts(campaign),
            "threshold_minor": threshold[0] if threshold else None,
            "customer_name": contact.name,
            "customer_email": contact.email,
            "customer_phone": contact.phone,
        },
        occurred_at=campaign.opened_at,
    )
    sent = ping(session, workspace, campaign, contact)
    log.info(
        "recovery.campaign.high_value workspace=%s campaign=%s pinged=%s",
        workspace.id,
        campaign.id,
        len(sent),
    )
    return True


@dataclass(frozen=True)
class Contact:
    """The customer as the mirror knows them (any part may be unknown)."""

    name: str | None
    email: str | None
    phone: str | None


def contact_of(session: Session, workspace_id: int, customer_id: str) -> Contact:
    row = session.execute(
        select(MirrorCustomer).where(
            MirrorCustomer.workspace_id == workspace_id, MirrorCustomer.stripe_id == customer_id
        )
    ).scalar_one_or_none()
    return contact_from(row)


def contact_from(customer: MirrorCustomer | None) -> Contact:
    if customer is None:
        return Contact(None, None, None)
    phone = (customer.data or {}).get("phone")
    return Contact(customer.name, customer.email, phone if isinstance(phone, str) else None)


def ping(
    session: Session, workspace: Workspace, campaign: Campaign, contact: Contact
) -> list[OutboxMessage]:
    """Email the workspace's owners and admins: who to call, how, and the campaign's link."""
    settings = current_app.config["BACKSTOP"]
    base = settings.base_url.rstrip("/")
    who = contact.name or contact.email or campaign.customer_stripe_id
    context = {
        "workspace": workspace.name,
        "amount": format_money(campaign.amount_minor, campaign.currency),
        "customer": who,
        "customer_email": contact.email,
        "customer_phone": contact.phone,
        "campaign_url": f"{base}/recovery/campaigns/{campaign.id}",
        "settings_url": f"{base}/settings/recovery#high-value",
    }
    recipients = session.execute(
        select(User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.workspace_id == workspace.id, Membership.role.in_(PINGED_ROLES))
        .order_by(User.id)
    ).scalars()
    return [
        outbox.send(
            session,
            template=TEMPLATE,
            to=email,
            from_email=settings.mail_from,
            workspace_id=workspace.id,
            context=context,
        )
        for email in recipients
    ]
