"""The merchant's words for a campaign's Stripe ids: the customer's name or email and the
plan's name, read from the mirror once per list page (never one query per row), each
lookup scoped to the campaign's workspace."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import g
from sqlalchemy import Select

from app.extensions import db
from app.recovery.models import Campaign
from app.stripe.models import MirrorCustomer, MirrorInvoice, MirrorSubscription
from app.tenancy import scoped

#: How Stripe describes a subscription item's invoice line, "1 x Studio (at $29.00 / month)",
#: with a multiplication sign for the x.
ITEM_LINE = re.compile(r"^\d+ \N{MULTIPLICATION SIGN} (?P<name>.+?) \(at [^()]+\)$")


@dataclass(frozen=True)
class Names:
    customer: str | None = None
    """The customer's name, else their email; None when the mirror has neither."""
    email: str | None = None
    plan: str | None = None


def plan_name(
    subscription: Mapping[str, Any] | None, invoice: Mapping[str, Any] | None
) -> str | None:
    """What the merchant calls the plan: its prices' nicknames (or their products' names,
    when Stripe expanded them) on the subscription, else the item names on the invoice's
    lines; None when neither says. Several items read "Studio + Towels"."""
    names = []
    for item in _data(subscription, "items"):
        price = item.get("price") or item.get("plan") or {}
        product = price.get("product")
        name = price.get("nickname") or (product.get("name") if isinstance(product, dict) else None)
        if isinstance(name, str) and name.strip():
            names.append(name.strip())
    if not names:
        for line in _data(invoice, "lines"):
            details = (line.get("parent") or {}).get("subscription_item_details") or {}
            if details.get("proration") or line.get("proration"):
                continue
            match = ITEM_LINE.match((line.get("description") or "").strip())
            if match:
                names.append(match["name"])
    return " + ".join(dict.fromkeys(names)) or None


def _data(obj: Mapping[str, Any] | None, key: str) -> list[Mapping[str, Any]]:
    found = ((obj or {}).get(key) or {}).get("data") or []
    return [row for row in found if isinstance(row, Mapping)]


def remember(campaigns: Iterable[Campaign]) -> None:
    """Look up the names of a page's campaigns, a few queries per workspace on it."""
    cache: dict[int, Names] = g.setdefault("backstop_campaign_names", {})
    by_workspace: dict[int, list[Campaign]] = defaultdict(list)
    for campaign in campaigns:
        if campaign.id not in cache:
            by_workspace[campaign.workspace_id].append(campaign)
    for workspace_id, rows in by_workspace.items():
        customers = {
            c.stripe_id: c
            for c in _mirrored(MirrorCustomer, workspace_id, {r.customer_stripe_id for r in rows})
        }
        subscriptions = {
            s.stripe_id: s.data
            for s in _mirrored(
                MirrorSubscription, workspace_id, {r.subscription_stripe_id for r in rows}
            )
        }
        invoices = {
            i.stripe_id: i.data
            for i in _mirrored(MirrorInvoice, workspace_id, {r.invoice_stripe_id for r in rows})
        }
        for row in rows:
            customer = customers.get(row.customer_stripe_id)
            subscription = subscriptions.get(row.subscription_stripe_id or "")
            cache[row.id] = Names(
                customer=(customer.name or customer.email) if customer else None,
                email=customer.email if customer else None,
                plan=plan_name(subscription, invoices.get(row.invoice_stripe_id)),
            )


def _mirrored(model: Any, workspace_id: int, stripe_ids: set[str | None]) -> list[Any]:
    wanted = sorted(i for i in stripe_ids if i)
    if not wanted:
        return []
    query: Select[Any] = scoped(model, workspace_id).where(model.stripe_id.in_(wanted))
    return list(db.session.execute(query).scalars())


def names_of(campaign: Campaign) -> Names:
    remember([campaign])
    return g.backstop_campaign_names[campaign.id]
