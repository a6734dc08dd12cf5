"""Cancelling from the portal: the workspace's cancel flow when one is published for
this customer (the Retain loop: never a bare cancel then), otherwise a plain
confirmation that ends the subscription the way the workspace chose (at the period's
end by default). Services flush, never commit."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from ..i18n import N_
from ..retain import flows, sessions
from ..stripe import portal as stripe_portal
from ..stripe import subscriptions as stripe_subs
from ..stripe.models import StripeConnection
from .actions import NotAllowed, Target, _changed, _key
from .models import PortalLink
from .settings import PortalConfig


def _check(target_: Target, config: PortalConfig) -> None:
    sub = target_.sub
    if not config.can_cancel:
        raise NotAllowed(N_("To cancel, please contact us."))
    if sub.is_cancelled or sub.cancel_at_period_end:
        raise NotAllowed(N_("This subscription is already set to end."))


def has_flow(session: Session, link: PortalLink, target_: Target) -> bool:
    version = flows.route(
        session,
        link.workspace_id,
        price_ids={target_.sub.price_id} if target_.sub.price_id else set(),
        customer_id=link.customer_stripe_id,
    )
    return version is not None


def start_flow(
    session: Session,
    connection: StripeConnection,
    link: PortalLink,
    target_: Target,
    config: PortalConfig,
    *,
    back_url: str,
    now: dt.datetime,
) -> str | None:
    """The token of a cancel-flow session that returns to the portal, or None when no
    flow is published for this customer (the portal then confirms a plain cancel)."""
    _check(target_, config)
    if not has_flow(session, link, target_):
        return None
    try:
        opened = sessions.open_session(
            session,
            connection,
            customer_id=link.customer_stripe_id,
            subscription_id=target_.sub.id,
            signature=None,
            return_url=back_url,
            now=now,
        )
    except sessions.NotFound:
        return None  # the flow went away between the two reads
    return opened.token


def ends_at_period_end(session: Session, workspace_id: int) -> bool:
    return flows.settings_of(session, workspace_id).cancel_mode != "immediately"


def cancel(
    session: Session,
    connection: StripeConnection,
    link: PortalLink,
    target_: Target,
    config: PortalConfig,
    *,
    nonce: str,
    now: dt.datetime,
) -> stripe_subs.SubscriptionFacts:
    """A plain cancel (no flow is published for this customer)."""
    _check(target_, config)
    if has_flow(session, link, target_):
        raise NotAllowed(N_("Please tell us why you're leaving first."))
    at_period_end = ends_at_period_end(session, link.workspace_id)
    facts = stripe_subs.cancel(
        connection,
        target_.sub.id,
        at_period_end=at_period_end,
        reason_key=None,
        comment=None,
        marker=f"portal:{link.id}",
        idempotency_key=_key(link, "cancel", target_.sub.id, nonce),
    )
    obj = stripe_portal.read_subscription(connection, target_.sub.id)
    _changed(session, link, obj, "cancelled", now=now, at_period_end=at_period_end)
    return facts
