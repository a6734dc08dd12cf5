"""The Retain loop's pure rules: which flow and which arm a customer gets, which offers
need an owner's approval, what an offer saves the customer, and how it reads.

No Flask, no session, no clock: plain values in, plain values out.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..money import format_money

BUCKETS = 10_000


def bucket(*parts: object) -> int:
    """A stable number in [0, 10 000) for ``parts``: the same customer lands in the same
    place on every visit and in every process, and customers spread evenly."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


@dataclass(frozen=True)
class Arm:
    version_id: int
    weight: int  # percent of the flow's traffic


def pick_arm(arms: list[Arm], *, flow_id: int, customer_id: str) -> int | None:
    """The version ``customer_id`` sees. Arms are taken in version order and their
    weights (summing to 100) cut the customer's bucket; no live arm gives None."""
    live = sorted((a for a in arms if a.weight > 0), key=lambda a: a.version_id)
    total = sum(a.weight for a in live)
    if not live or total <= 0:
        return None
    point = bucket("arm", flow_id, customer_id) * total // BUCKETS
    for arm in live:
        if point < arm.weight:
            return arm.version_id
        point -= arm.weight
    return live[-1].version_id


def weights_problem(weights: dict[int, int]) -> str | None:
    """Why a traffic split cannot be saved, or None (whole percents summing to 100)."""
    if not weights:
        return "Publish a version first."
    if any(
        isinstance(w, bool) or not isinstance(w, int) or not 0 <= w <= 100 for w in weights.values()
    ):
        return "Each share is a whole percent from 0 to 100."
    if sum(weights.values()) != 100:
        return f"The shares add up to {sum(weights.values())} %; they must add up to 100 %."
    return None


@dataclass(frozen=True)
class FlowTarget:
    flow_id: int
    is_default: bool
    price_ids: tuple[str, ...]  # empty: every plan
    share: int  # percent of customers (1-100)


def targets_anyone(flow: FlowTarget) -> bool:
    """A flow other than the default reaches customers only once it targets some: plans,
    or a share of customers (a new flow never takes the default's traffic by itself)."""
    return flow.is_default or bool(flow.price_ids) or flow.share < 100


def choose_flow(flows: list[FlowTarget], *, price_ids: set[str], customer_id: str) -> int | None:
    """The flow for a customer on ``price_ids``: the oldest targeted flow whose plans and
    share include them, else the workspace's default flow."""
    for flow in sorted(flows, key=lambda f: f.flow_id):
        if flow.is_default or not targets_anyone(flow):
            continue
        if flow.price_ids and not price_ids & set(flow.price_ids):
            continue
        if bucket("share", flow.flow_id, customer_id) * 100 // BUCKETS >= flow.share:
            continue
        return flow.flow_id
    default = next((f for f in flows if f.is_default), None)
    return default.flow_id if default else None


@dataclass(frozen=True)
class Thresholds:
    """Offers above these need an owner's approval before a version can carry them."""

    max_percent_off: int = 50
    max_free_months: int = 3
    max_pause_months: int = 3


def approval_reasons(offers: list[dict[str, Any]], limits: Thresholds) -> list[str]:
    """Why these offers need an owner's approval (empty: they do not)."""
    reasons = []
    for offer in offers:
        kind = offer.get("type")
        if kind == "discount" and (offer.get("percent_off") or 0) > limits.max_percent_off:
            reasons.append(f"{offer['percent_off']} % off is more than {limits.max_percent_off} %")
        elif kind == "free_months" and offer.get("months", 0) > limits.max_free_months:
            reasons.append(f"{offer['months']} free months is more than {limits.max_free_months}")
        elif kind == "pause" and offer.get("months", 0) > limits.max_pause_months:
            reasons.append(
                f"a {offer['months']}-month pause is longer than {limits.max_pause_months} months"
            )
    return reasons


@dataclass(frozen=True)
class Plan:
    """What the customer pays now, per billing period."""

    name: str
    amount_minor: int
    currency: str
    interval: str  # day | week | month | year
    interval_count: int = 1

    @property
    def monthly_minor(self) -> int:
        """The plan's price per month (MRR), rounded down to the cent."""
        per = {"day": 30, "week": 30 / 7, "month": 1, "year": 1 / 12}.get(self.interval, 1)
        return int(self.amount_minor * per / max(self.interval_count, 1))


def periods_in_months(plan: Plan, months: int) -> int:
    """How many of ``plan``'s billing periods ``months`` months cover (at least one)."""
    if plan.interval == "year":
        return max(1, months // (12 * plan.interval_count))
    if plan.interval == "month":
        return max(1, months // plan.interval_count)
    return max(1, round(months * plan.monthly_minor / max(plan.amount_minor, 1)))


def saving_minor(offer: dict[str, Any], plan: Plan, new_amount_minor: int | None = None) -> int:
    """What accepting ``offer`` saves the customer over its whole length, in minor units
    (0 for link offers, and for a switch to a dearer plan)."""
    kind = offer.get("type")
    months = offer.get("months", 0)
    if kind == "discount":
        periods = periods_in_months(plan, months)
        if offer.get("percent_off") is not None:
            return plan.amount_minor * offer["percent_off"] // 100 * periods
        return min(offer.get("amount_off", 0), plan.amount_minor) * periods
    if kind in ("pause", "free_months"):
        return plan.monthly_minor * months
    if kind == "plan_switch" and new_amount_minor is not None:
        return max(0, plan.amount_minor - new_amount_minor)
    return 0


def describe_offer(offer: dict[str, Any]) -> str:
    """The offer in the merchant's words, for the builder and the analytics."""
    kind, months = offer.get("type"), offer.get("months", 0)
    plural = "s" if months != 1 else ""
    if kind == "discount":
        if offer.get("percent_off") is not None:
            off = f"{offer['percent_off']} % off"
        else:
            off = f"{format_money(offer.get('amount_off', 0), offer.get('currency', 'usd'))} off"
        return f"{off} for {months} month{plural}"
    if kind == "pause":
        return f"Pause for {months} month{plural}"
    if kind == "free_months":
        return f"{months} free month{plural}"
    if kind == "plan_switch":
        return "Switch plan"
    return {
        "book_call": "Book a call",
        "contact_support": "Contact support",
        "redirect": "Link",
    }.get(str(kind), "Offer")


def coupon_id(offer: dict[str, Any]) -> str:
    """One Stripe coupon per offer shape, reused by every customer who accepts it."""
    months = offer["months"]
    if offer["type"] == "free_months":
        return f"backstop_free_{months}m"
    if offer.get("percent_off") is not None:
        return f"backstop_{offer['percent_off']}pct_{months}m"
    return f"backstop_{offer['amount_off']}{offer['currency']}_{months}m"


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, lower-cased; None for anything else."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = {"http": 80, "https": 443}[parts.scheme]
    suffix = f":{port}" if port and port != default else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{suffix}"


def return_url_allowed(url: str, origins: list[str]) -> bool:
    """A customer is sent back only to the merchant's own origins (no open redirect)."""
    origin = origin_of(url)
    return origin is not None and origin in {origin_of(o) for o in origins}
