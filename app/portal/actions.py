"""What a customer changes in the portal, applied on Stripe and mirrored at once.

Every change carries an idempotency key made of the link, the action and the nonce of
the form the customer submitted, so a double tap changes Stripe once. A change checks
the merchant's settings at the moment it runs (a form rendered before the merchant
turned pausing off cannot pause). Services flush, never commit.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import Refusal
from ..events import services as events
from ..i18n import N_
from ..stripe import clocks
from ..stripe import portal as stripe_portal
from ..stripe import subscriptions as stripe_subs
from ..stripe.models import MirrorSubscription, StripeConnection
from . import cache, policy, sync
from .models import PortalChange, PortalLink
from .page import subscription_of
from .settings import PortalConfig

log = logging.getLogger("backstop.portal")


class NotAllowed(Refusal):
    """Not something this customer may do here now (the page explains; nothing changed)."""


@dataclass(frozen=True)
class Target:
    sub: stripe_subs.SubscriptionFacts
    row: MirrorSubscription
    at: dt.datetime
    """The subscription's own time (its test clock's, if it has one)."""


def target(session: Session, link: PortalLink, subscription_id: str, *, now: dt.datetime) -> Target:
    """The link's customer's own subscription, or :class:`NotAllowed`."""
    row = subscription_of(session, link.workspace_id, link.customer_stripe_id, subscription_id)
    if row is None:
        raise NotAllowed(N_("We couldn't find that subscription."))
    sub = stripe_subs.subscription_facts(row.data)
    return Target(sub, row, clocks.now_for(session, link.workspace_id, sub.test_clock, now))


def _key(link: PortalLink, action: str, subscription_id: str, nonce: str) -> str:
    return f"portal:{link.id}:{action}:{subscription_id}:{nonce[:40]}"


def _changed(
    session: Session, link: PortalLink, obj: dict, action: str, *, now: dt.datetime, **data
) -> None:
    sync.keep(session, link.workspace_id, obj, now=now)
    cache.forget(
        session,
        link.workspace_id,
        f"upcoming:{obj['id']}",
        f"card:{link.customer_stripe_id}",
    )
    events.emit(
        session,
        link.workspace_id,
        f"portal.subscription.{action}",
        subject=obj["id"],
        data={"customer": link.customer_stripe_id, **data},
    )
    log.info("portal.%s workspace=%s subscription=%s", action, link.workspace_id, obj["id"])


# -- plan switches ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SwitchPlan:
    price: dict
    is_upgrade: bool
    now: bool
    """Takes effect now (an upgrade, or the merchant applies downgrades at once)."""
    effective_at: dt.datetime | None
    preview: stripe_subs.SwitchPreview | None


def _switch_price(
    target_: Target, price_id: str, config: PortalConfig, prices: dict[str, dict]
) -> tuple[policy.PriceShape, policy.PriceShape]:
    sub = target_.sub
    if sub.price_id is None or sub.item_id is None:
        raise NotAllowed(N_("This subscription can't change plans here."))
    if sub.status not in ("active", "trialing") or sub.cancel_at_period_end or sub.is_paused:
        raise NotAllowed(N_("This subscription can't change plans right now."))
    current = policy.PriceShape(
        sub.price_id, sub.amount_minor, sub.currency, sub.interval, sub.interval_count
    )
    info = prices.get(price_id)
    if info is None or price_id not in config.switch_price_ids:
        raise NotAllowed(N_("That plan isn't available."))
    shape = policy.PriceShape(
        price_id,
        int(info["amount_minor"]),
        info["currency"],
        info["interval"],
        int(info["interval_count"]),
    )
    if shape not in policy.switch_targets(current, [shape], allowed_ids=config.switch_price_ids):
        raise NotAllowed(N_("That plan isn't available."))
    return current, shape


def plan_switch(
    connection: StripeConnection,
    target_: Target,
    price_id: str,
    config: PortalConfig,
    prices: dict[str, dict],
) -> SwitchPlan:
    """What switching to ``price_id`` means, with Stripe's proration preview for a
    change that takes effect now."""
    current, shape = _switch_price(target_, price_id, config, prices)
    now = policy.takes_effect_now(current, shape, downgrade_timing=config.downgrade_timing)
    preview = (
        stripe_subs.preview_switch(connection, target_.sub, price_id, at=target_.at)
        if now
        else None
    )
    return SwitchPlan(
        price={**prices[price_id], "id": price_id},
        is_upgrade=policy.is_upgrade(current, shape),
        now=now,
        effective_at=None if now else target_.sub.period_end,
        preview=preview,
    )


def switch(
    session: Session,
    connection: StripeConnection,
    link: PortalLink,
    target_: Target,
    price_id: str,
    config: PortalConfig,
    prices: dict[str, dict],
    *,
    nonce: str,
    now: dt.datetime,
) -> SwitchPlan:
    plan = plan_switch(connection, target_, price_id, config, prices)
    sub = target_.sub
    _cancel_changes(session, link.workspace_id, sub.id)
    if plan.now:
        obj = stripe_portal.switch_now(
            connection, sub, price_id, at=target_.at, key=_key(link, "switch", sub.id, nonce)
        )
        _changed(session, link, obj, "switched", now=now, price=price_id, upgrade=plan.is_upgrade)
        return plan
    if sub.period_end is None:
        raise NotAllowed(N_("This subscription has no renewal date to change plans at."))
    session.add(
        PortalChange(
            workspace_id=link.workspace_id,
            customer_stripe_id=link.customer_stripe_id,
            subscription_stripe_id=sub.id,
            from_price_id=sub.price_id or "",
            to_price_id=price_id,
            to_plan_name=plan.price.get("name"),
            test_clock=sub.test_clock,
            due_at=policy.change_due_at(sub.period_end),
        )
    )
    events.emit(
        session,
        link.workspace_id,
        "portal.subscription.switch_scheduled",
        subject=sub.id,
        data={"customer": link.customer_stripe_id, "price": price_id},
    )
    session.flush()
    return plan


def _cancel_changes(session: Session, workspace_id: int, subscription_id: str) -> int:
    pending = session.execute(
        select(PortalChange).where(
            PortalChange.workspace_id == workspace_id,
            PortalChange.subscription_stripe_id == subscription_id,
            PortalChange.status == "pending",
        )
    ).scalars()
    count = 0
    for change in pending:
        change.status, change.outcome = "cancelled", "cancelled"
        change.outcome_detail = "the customer chose again"
        count += 1
    return count


def keep_current_plan(session: Session, link: PortalLink, target_: Target) -> bool:
    """Drop a plan change waiting for the renewal."""
    found = _cancel_changes(session, link.workspace_id, target_.sub.id) > 0
    session.flush()
    return found


# -- seats ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuantityPlan:
    quantity: int
    preview: stripe_subs.SwitchPreview


def _check_quantity(target_: Target, quantity: int, config: PortalConfig) -> None:
    sub = target_.sub
    if sub.status not in ("active", "trialing") or sub.is_paused or sub.cancel_at_period_end:
        raise NotAllowed(N_("This subscription's seats can't change right now."))
    if sub.price_id is None or sub.item_id is None:
        raise NotAllowed(N_("This subscription's seats can't change here."))
    problem = policy.quantity_problem(
        quantity, current=sub.quantity, max_quantity=config.max_quantity
    )
    if problem:
        raise NotAllowed(problem)


def plan_quantity(
    connection: StripeConnection, target_: Target, quantity: int, config: PortalConfig
) -> QuantityPlan:
    """Stripe's preview of ``quantity`` seats, now, with prorations."""
    _check_quantity(target_, quantity, config)
    sub = target_.sub
    preview = stripe_subs.preview_switch(
        connection, sub, sub.price_id or "", at=target_.at, quantity=quantity
    )
    return QuantityPlan(quantity, preview)


def change_quantity(
    session: Session,
    connection: StripeConnection,
    link: PortalLink,
    target_: Target,
    quantity: int,
    config: PortalConfig,
    *,
    nonce: str,
    now: dt.datetime,
) -> None:
    _check_quantity(target_, quantity, config)
    sub = target_.sub
    obj = stripe_portal.switch_now(
        connection,
        sub,
        sub.price_id or "",
        at=target_.at,
        key=_key(link, "quantity", sub.id, nonce),
        quantity=quantity,
    )
    _changed(session, link, obj, "quantity_changed", now=now, quantity=quantity)


# -- pause, resume, renew -----------------------------------------------------------------------


def pause(
    session: Session,
    connection: StripeConnection,
    link: PortalLink,
    target_: Target,
    months: int,
    config: PortalConfig,
    *,
    nonce: str,
    now: dt.datetime,
) -> dt.datetime:
    sub = target_.sub
    if months not in policy.pause_choices(config.pause_months):
        raise NotAllowed(N_("That pause isn't available."))
    if sub.status not in ("active", "trialing") or sub.is_paused or sub.cancel_at_period_end:
        raise NotAllowed(N_("This subscription can't be paused right now."))
    resumes_at = policy.resumes_at(target_.at, months)
    obj = stripe_portal.pause(
        connection, sub.id, resumes_at=resumes_at, key=_key(link, "pause", sub.id, nonce)
    )
    _changed(session, link, obj, "paused", now=now, months=months)
    return resumes_at


def resume(
    session: Session,
    connection: StripeConnection,
    link: PortalLink,
    target_: Target,
    *,
    nonce: str,
    now: dt.datetime,
) -> None:
    if not target_.sub.is_paused:
        raise NotAllowed(N_("This subscription isn't paused."))
    obj = stripe_portal.resume(
        connection, target_.sub.id, key=_key(link, "resume", target_.sub.id, nonce)
    )
    _changed(session, link, obj, "resumed", now=now)


def renew(
    session: Session,
    connection: StripeConnection,
    link: PortalLink,
    target_: Target,
    *,
    nonce: str,
    now: dt.datetime,
) -> None:
    if not target_.sub.cancel_at_period_end or target_.sub.is_cancelled:
        raise NotAllowed(N_("This subscription isn't set to end."))
    obj = stripe_portal.renew(
        connection, target_.sub.id, key=_key(link, "renew", target_.sub.id, nonce)
    )
    _changed(session, link, obj, "renewed", now=now)
