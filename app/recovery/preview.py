"""The retry policy's preview: the retries a policy would plan for a sample failure (a
decline code, a card brand, a timezone, a local failure time), computed with the same
pure rules the runner uses. No session, no clock: the caller passes ``now``."""

from __future__ import annotations

import datetime as dt
import functools
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field

from .cadence import PlannedRetry, pick_timezone, plan_retries
from .declines import (
    CUSTOMER_ACTION_CODES,
    IMMEDIATE_CODES,
    NO_RECOVERY_CODES,
    SCHEDULED_CODES,
    DeclineClass,
    card_block_reason,
    classify,
    normalize_brand,
)
from .policy import CAMPAIGN_WINDOW, DEFAULT_CADENCE, Policy

BRANDS = {"visa": "Visa", "mastercard": "Mastercard", "amex": "American Express", "other": "Other"}
CLASS_NAMES = {
    DeclineClass.IMMEDIATE: "Temporary error",
    DeclineClass.SCHEDULED: "Retried on a cadence",
    DeclineClass.CUSTOMER_ACTION: "Needs the customer",
    DeclineClass.NO_RECOVERY: "Never retried",
}
_CODE = re.compile(r"[a-z0-9_]{1,64}")
_TABLES = {
    DeclineClass.IMMEDIATE: IMMEDIATE_CODES,
    DeclineClass.SCHEDULED: SCHEDULED_CODES,
    DeclineClass.CUSTOMER_ACTION: CUSTOMER_ACTION_CODES,
    DeclineClass.NO_RECOVERY: NO_RECOVERY_CODES,
}


@dataclass
class Preview:
    code: str
    brand: str
    tz: str
    failed_at: dt.datetime
    cls: DeclineClass | None = None
    retries: list[PlannedRetry] = field(default_factory=list)
    blocked: str | None = None
    error: str | None = None
    limits: list[str] = field(default_factory=list)


@functools.cache
def timezones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones() | {"UTC"}))


def build(policy: Policy, args: Mapping[str, str], workspace_tz: str, now: dt.datetime) -> Preview:
    """The retries ``policy`` would plan for the sample failure in ``args`` (``code``,
    ``brand``, ``tz``, ``at`` as local ``2026-03-06T15:30``; defaults: insufficient funds
    on a Visa card, the workspace's timezone, ``now``). A bad choice sets ``error``."""
    code = (args.get("code") or "insufficient_funds").strip().lower()
    brand = args.get("brand") or "visa"
    tz = args.get("tz") or pick_timezone(workspace_tz, None)
    preview = Preview(code=code, brand=brand, tz=tz, failed_at=now.replace(second=0, microsecond=0))
    if not _CODE.fullmatch(code) or brand not in BRANDS or tz not in timezones():
        preview.error = "Choose a decline code, a card brand and a timezone from the lists."
        return preview
    if args.get("at"):
        try:
            local = dt.datetime.fromisoformat(args["at"])
        except ValueError:
            preview.error = "The failure time must look like 2026-03-06T15:30."
            return preview
        preview.failed_at = local.replace(tzinfo=zoneinfo.ZoneInfo(tz)).astimezone(dt.UTC)
    preview.limits = limits(policy, brand)
    preview.cls = classify(code, overrides=policy.overrides)
    preview.blocked = card_block_reason(normalize_brand(brand), code)
    if preview.blocked is None:
        preview.retries = plan_retries(
            preview.failed_at,
            preview.cls,
            code,
            tz=tz,
            attempts_so_far=0,
            policy=policy,
            now=preview.failed_at,
            window_ends_at=preview.failed_at + CAMPAIGN_WINDOW,
        )
    return preview


def limits(policy: Policy, brand: str) -> list[str]:
    """The caps that bound the plan on a card of ``brand``, one sentence each."""
    found = [
        f"at most {policy.max_attempts_per_invoice_30d} attempts on the invoice in any 30 days, "
        f"Stripe's included, and {policy.max_auto_retries} automatic retries per campaign"
    ]
    if brand == "visa":
        found.append(f"Visa: at most {policy.visa_max_30d} attempts on one card in 30 days")
    elif brand == "mastercard":
        found.append(
            f"Mastercard: at most {policy.mastercard_max_24h} attempts on one card in 24 hours "
            f"and {policy.mastercard_max_30d} in 30 days"
        )
    return found


def code_groups(policy: Policy) -> list[tuple[str, list[str]]]:
    """The decline codes the preview offers, by class, plus the merchant's own codes."""
    own = (set(policy.cadences) | set(policy.overrides)) - {DEFAULT_CADENCE}
    known = set().union(*_TABLES.values())
    groups = [(CLASS_NAMES[cls], sorted(codes)) for cls, codes in _TABLES.items()]
    if own - known:
        groups.append(("Your own codes", sorted(own - known)))
    return groups
