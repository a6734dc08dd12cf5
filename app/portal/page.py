"""What the portal page shows a customer, read from the mirror and the portal's cache.

Stripe is asked only for what no local row answers yet (a subscription's upcoming
invoice, the card on file, a price's product name, tax ids), and the answer is kept
until the mirror shows the thing it came from changed. A warm page makes no Stripe call.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..recovery.campaigns import open_campaigns
from ..stripe import clocks
from ..stripe import portal as stripe_portal
from ..stripe import subscriptions as stripe_subs
from ..stripe.billing import _epoch
from ..stripe.models import MirrorCustomer, MirrorSubscription, StripeConnection
from ..tenancy import scoped
from . import cache, policy
from .invoices import InvoiceView, invoice_history
from .models import PortalChange
from .settings import PortalConfig

#: Subscriptions shown: everything not ended, and what ended in the last 90 days.
ENDED_SHOWN_FOR = dt.timedelta(days=90)
LIVE = ("active", "trialing", "past_due", "unpaid", "paused", "incomplete")


@dataclass(frozen=True)
class PriceOption:
    id: str
    name: str
    amount_minor: int
    currency: str
    interval: str
    interval_count: int
    is_upgrade: bool


@dataclass(frozen=True)
class SubscriptionView:
    id: str
    status: str
    plan_name: str
    amount_minor: int
    currency: str
    interval: str
    interval_count: int
    quantity: int
    period_end: dt.datetime | None
    cancel_at: dt.datetime | None
    ended_at: dt.datetime | None
    trial_end: dt.datetime | None
    paused_until: dt.datetime | None
    is_paused: bool
    discount: dict[str, Any] | None
    upcoming: dict[str, Any] | None
    scheduled_change: PortalChange | None
    switch_options: list[PriceOption] = field(default_factory=list)
    pause_choices: list[int] = field(default_factory=list)
    can_cancel: bool = False
    max_quantity: int = 0
    """Seats the customer may choose up to (0: no seat changes here)."""

    @property
    def is_live(self) -> bool:
        return self.status in LIVE


@dataclass(frozen=True)
class PortalPage:
    customer: dict[str, Any]
    card: dict[str, Any] | None
    subscriptions: list[SubscriptionView]
    invoices: list[InvoiceView]
    more_invoices: bool
    tax_ids: list[dict[str, Any]]
    has_failed_payment: bool


def _basis(row: Any) -> str:
    return f"{row.source_created}:{row.updated_at.isoformat()}" if row else "none"


def _price(
    session: Session,
    connection: StripeConnection,
    workspace_id: int,
    known: dict[str, Any],
    price_id: str,
    now: dt.datetime,
) -> dict[str, Any]:
    def fetch() -> tuple[dict[str, Any], None]:
        facts = stripe_subs.read_price(connection, price_id)
        return facts.__dict__.copy(), None

    return cache.through(
        session,
        workspace_id,
        known,
        f"price:{price_id}",
        basis="v1",
        now=now,
        ttl=cache.PRICE_TTL,
        fetch=fetch,
    )


def prices_for(
    session: Session,
    connection: StripeConnection,
    workspace_id: int,
    price_ids: list[str],
    *,
    now: dt.datetime,
) -> dict[str, dict[str, Any]]:
    """Name, amount and interval of each price (cached; Stripe asked once a day)."""
    known = cache.read_many(session, workspace_id, [f"price:{p}" for p in price_ids])
    return {p: _price(session, connection, workspace_id, known, p, now) for p in price_ids}


def _discount(sub: dict[str, Any]) -> dict[str, Any] | None:
    found = sub.get("discount") or next(
        (d for d in sub.get("discounts") or [] if isinstance(d, dict)), None
    )
    if not found:
        return {"generic": True} if sub.get("discounts") else None
    coupon = found.get("coupon") or (found.get("source") or {}).get("coupon") or {}
    if not isinstance(coupon, dict):
        return {"generic": True}
    return {
        "name": coupon.get("name"),
        "percent_off": coupon.get("percent_off"),
        "amount_off": coupon.get("amount_off"),
        "currency": coupon.get("currency"),
        "ends_at": _epoch(found.get("end")),
    }


def build(
    session: Session,
    connection: StripeConnection,
    workspace_id: int,
    customer_id: str,
    config: PortalConfig,
    *,
    now: dt.datetime,
    all_invoices: bool = False,
) -> PortalPage:
    customer_row = session.execute(
        scoped(MirrorCustomer, workspace_id).where(MirrorCustomer.stripe_id == customer_id)
    ).scalar_one_or_none()
    customer = customer_row.data if customer_row is not None else {"id": customer_id}
    sub_rows = list(
        session.execute(
            scoped(MirrorSubscription, workspace_id)
            .where(MirrorSubscription.customer_stripe_id == customer_id)
            .order_by(MirrorSubscription.id)
        ).scalars()
    )
    keys = [f"upcoming:{r.stripe_id}" for r in sub_rows] + [
        f"card:{customer_id}",
        f"tax_ids:{customer_id}",
    ]
    price_ids = set(config.switch_price_ids)
    for row in sub_rows:
        facts = stripe_subs.subscription_facts(row.data)
        if facts.price_id:
            price_ids.add(facts.price_id)
    keys += [f"price:{p}" for p in sorted(price_ids)]
    known = cache.read_many(session, workspace_id, keys)
    changes = {
        c.subscription_stripe_id: c
        for c in session.execute(
            scoped(PortalChange, workspace_id).where(
                PortalChange.customer_stripe_id == customer_id, PortalChange.status == "pending"
            )
        ).scalars()
    }
    prices = {
        p: _price(session, connection, workspace_id, known, p, now) for p in sorted(price_ids)
    }
    subscriptions = [
        view
        for row in sub_rows
        if (
            view := _subscription(
                session, connection, workspace_id, row, known, prices, changes, config, now
            )
        )
        is not None
    ]
    subscriptions.sort(key=lambda s: (not s.is_live, s.plan_name))
    invoices, more = invoice_history(session, workspace_id, customer_id, all_invoices=all_invoices)
    live_ids = [s.id for s in subscriptions if s.is_live]

    def fetch_card() -> tuple[dict[str, Any], None]:
        return {"card": stripe_portal.card_on_file(connection, customer_id, live_ids)}, None

    card_basis = "|".join([_basis(customer_row), *(_basis(r) for r in sub_rows)])
    card = cache.through(
        session,
        workspace_id,
        known,
        f"card:{customer_id}",
        basis=card_basis,
        now=now,
        ttl=cache.CARD_TTL,
        fetch=fetch_card,
    )["card"]
    tax_ids: list[dict[str, Any]] = []
    if "tax_id" in config.detail_fields:
        tax_ids = cache.through(
            session,
            workspace_id,
            known,
            f"tax_ids:{customer_id}",
            basis="v1",
            now=now,
            ttl=cache.TAX_IDS_TTL,
            fetch=lambda: (
                {"data": stripe_portal.list_tax_ids(connection, customer_id)},
                None,
            ),
        )["data"]
    return PortalPage(
        customer=customer,
        card=card,
        subscriptions=subscriptions,
        invoices=invoices,
        more_invoices=more,
        tax_ids=tax_ids,
        has_failed_payment=bool(open_campaigns(session, workspace_id, customer_id)),
    )


def _subscription(
    session: Session,
    connection: StripeConnection,
    workspace_id: int,
    row: MirrorSubscription,
    known: dict[str, Any],
    prices: dict[str, dict[str, Any]],
    changes: dict[str, PortalChange],
    config: PortalConfig,
    now: dt.datetime,
) -> SubscriptionView | None:
    data = row.data
    facts = stripe_subs.subscription_facts(data)
    ended_at = _epoch(data.get("ended_at") or data.get("canceled_at"))
    if not facts.is_cancelled and facts.status not in LIVE:
        return None
    if facts.is_cancelled and (ended_at is None or now - ended_at > ENDED_SHOWN_FOR):
        return None
    price = prices.get(facts.price_id or "") or {}
    at = clocks.now_for(session, workspace_id, facts.test_clock, now)
    pause = data.get("pause_collection") or {}
    upcoming = None
    if facts.status in LIVE and not facts.cancel_at_period_end:

        def fetch() -> tuple[dict[str, Any], dt.datetime | None]:
            found = stripe_portal.upcoming_invoice(connection, facts)
            if found is None:
                return {"none": True}, None
            value = {"amount_minor": found.amount_minor, "currency": found.currency}
            value["at"] = found.at.isoformat() if found.at else None
            return value, found.at

        upcoming = cache.through(
            session,
            workspace_id,
            known,
            f"upcoming:{row.stripe_id}",
            basis=_basis(row),
            now=at,
            ttl=cache.UPCOMING_TTL,
            fetch=fetch,
        )
        if upcoming.get("none"):
            upcoming = None
        else:  # kept as JSON: the date comes back as text
            at_text = upcoming.get("at")
            upcoming = {**upcoming, "at": dt.datetime.fromisoformat(at_text) if at_text else None}
    current = (
        policy.PriceShape(
            facts.price_id,
            facts.amount_minor,
            facts.currency,
            facts.interval,
            facts.interval_count,
        )
        if facts.price_id
        else None
    )
    live = facts.status in ("active", "trialing") and not facts.cancel_at_period_end
    options = []
    if live and current is not None and facts.item_id and not facts.is_paused:
        shapes = [
            policy.PriceShape(
                pid,
                int(p.get("amount_minor") or 0),
                str(p.get("currency") or ""),
                str(p.get("interval") or "month"),
                int(p.get("interval_count") or 1),
            )
            for pid, p in prices.items()
            if p
        ]
        for shape in policy.switch_targets(current, shapes, allowed_ids=config.switch_price_ids):
            options.append(
                PriceOption(
                    id=shape.id,
                    name=prices[shape.id].get("name") or shape.id,
                    amount_minor=shape.amount_minor,
                    currency=shape.currency,
                    interval=shape.interval,
                    interval_count=shape.interval_count,
                    is_upgrade=policy.is_upgrade(current, shape),
                )
            )
    return SubscriptionView(
        id=row.stripe_id,
        status="paused" if facts.is_paused and facts.status == "active" else facts.status,
        plan_name=facts.plan_name or price.get("name") or "Subscription",
        amount_minor=facts.amount_minor,
        currency=facts.currency,
        interval=facts.interval,
        interval_count=facts.interval_count,
        quantity=sum(int(i.get("quantity") or 1) for i in (data.get("items") or {}).get("data", []))
        or 1,
        period_end=facts.period_end,
        cancel_at=facts.period_end if facts.cancel_at_period_end else _epoch(data.get("cancel_at")),
        ended_at=ended_at if facts.is_cancelled else None,
        trial_end=_epoch(data.get("trial_end")) if facts.status == "trialing" else None,
        paused_until=_epoch(pause.get("resumes_at")) if pause else None,
        is_paused=facts.is_paused,
        discount=_discount(data),
        upcoming=upcoming,
        scheduled_change=changes.get(row.stripe_id),
        switch_options=options,
        pause_choices=policy.pause_choices(config.pause_months)
        if live and not facts.is_paused
        else [],
        can_cancel=config.can_cancel and facts.status in LIVE and not facts.cancel_at_period_end,
        max_quantity=config.max_quantity
        if live and not facts.is_paused and len((data.get("items") or {}).get("data") or []) == 1
        else 0,
    )


def subscription_of(
    session: Session, workspace_id: int, customer_id: str, subscription_id: str
) -> MirrorSubscription | None:
    """The customer's own subscription (another customer's id finds nothing)."""
    return session.execute(
        select(MirrorSubscription).where(
            MirrorSubscription.workspace_id == workspace_id,
            MirrorSubscription.customer_stripe_id == customer_id,
            MirrorSubscription.stripe_id == subscription_id,
        )
    ).scalar_one_or_none()
