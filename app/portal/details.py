"""The customer's billing details and card from the portal: email, name, address,
phone and tax ids where the merchant allows them; a new card through the hosted
card-update page (its Stripe Elements and 3-D Secure path), which also pays a failed
invoice at once. Services flush, never commit."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from ..dunning import links as card_links
from ..events import services as events
from ..i18n import N_
from ..recovery.campaigns import open_campaigns
from ..stripe import portal as stripe_portal
from ..stripe.client import InvalidRequestError
from ..stripe.models import MirrorCustomer, StripeConnection
from ..tenancy import scoped
from . import cache, policy, sync
from .actions import NotAllowed
from .models import PortalLink
from .settings import PortalConfig

#: A card link made from the portal is used at once; it need not live for weeks.
CARD_LINK_TTL = dt.timedelta(hours=24)


def _customer(session: Session, link: PortalLink) -> MirrorCustomer | None:
    return session.execute(
        scoped(MirrorCustomer, link.workspace_id).where(
            MirrorCustomer.stripe_id == link.customer_stripe_id
        )
    ).scalar_one_or_none()


def update_details(
    session: Session,
    connection: StripeConnection,
    link: PortalLink,
    form: dict[str, Any],
    config: PortalConfig,
    *,
    nonce: str,
    now: dt.datetime,
) -> dict[str, Any]:
    """Send what the customer typed to Stripe; raises ``policy.DetailsProblem``."""
    editable = [f for f in config.detail_fields if f != "tax_id"]
    if not editable:
        raise NotAllowed(N_("Billing details can't be changed here."))
    update = policy.clean_details(form, editable)
    customer = stripe_portal.update_customer(
        connection,
        link.customer_stripe_id,
        update,
        key=f"portal:{link.id}:details:{nonce[:40]}",
    )
    sync.keep(session, link.workspace_id, customer, now=now)
    events.emit(
        session,
        link.workspace_id,
        "portal.customer.updated",
        subject=link.customer_stripe_id,
        data={"fields": sorted(update)},
    )
    return customer


def add_tax_id(
    session: Session,
    connection: StripeConnection,
    link: PortalLink,
    kind: Any,
    value: Any,
    config: PortalConfig,
    *,
    nonce: str,
) -> None:
    if "tax_id" not in config.detail_fields:
        raise NotAllowed(N_("Tax ids can't be changed here."))
    kind, value = policy.clean_tax_id(kind, value)
    try:
        stripe_portal.add_tax_id(
            connection,
            link.customer_stripe_id,
            kind,
            value,
            key=f"portal:{link.id}:tax_id:{nonce[:40]}",
        )
    except InvalidRequestError as exc:
        if getattr(exc, "code", None) == "tax_id_invalid" or getattr(exc, "param", None):
            raise policy.DetailsProblem(
                "tax_id_value", N_("That number doesn't look right for this kind of tax id.")
            ) from exc
        raise
    cache.forget(session, link.workspace_id, f"tax_ids:{link.customer_stripe_id}")


def remove_tax_id(
    session: Session,
    connection: StripeConnection,
    link: PortalLink,
    tax_id: str,
    config: PortalConfig,
    known: list[dict[str, Any]],
) -> None:
    """Remove one of the customer's own tax ids (``known``: theirs, as the page read them)."""
    if "tax_id" not in config.detail_fields:
        raise NotAllowed(N_("Tax ids can't be changed here."))
    if tax_id not in {t.get("id") for t in known}:
        raise NotAllowed(N_("We couldn't find that tax id."))
    stripe_portal.remove_tax_id(connection, link.customer_stripe_id, tax_id)
    cache.forget(session, link.workspace_id, f"tax_ids:{link.customer_stripe_id}")


def card_link(session: Session, link: PortalLink, *, now: dt.datetime) -> str:
    """A token for the hosted card-update page: tied to the customer's failed payment
    when there is one (the new card then pays it at once), else a plain card change."""
    customer = _customer(session, link)
    campaigns = open_campaigns(session, link.workspace_id, link.customer_stripe_id)
    campaign = campaigns[-1] if campaigns else None
    _, token = card_links.issue(
        session,
        link.workspace_id,
        purpose="portal",
        customer_id=link.customer_stripe_id,
        now=now,
        email=customer.email if customer is not None else None,
        campaign_id=campaign.id if campaign else None,
        invoice_id=campaign.invoice_stripe_id if campaign else None,
        subscription_id=campaign.subscription_stripe_id if campaign else None,
        ttl=CARD_LINK_TTL,
    )
    cache.forget(session, link.workspace_id, f"card:{link.customer_stripe_id}")
    return token
