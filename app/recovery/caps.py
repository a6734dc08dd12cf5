"""The caps no attempt may break, checked at the moment of the attempt (DESIGN §6).

Windows are rolling: an attempt counts against a window of length W at ``now`` when it
happened less than W before ``now`` (attempts recorded "in the future", which a moved
clock can produce, count too: the check errs on the side of not charging).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from .declines import DeclineClass, card_block_reason, classify, normalize_brand
from .policy import DEFAULT_POLICY, Policy

DAY = dt.timedelta(days=1)
INVOICE_WINDOW = 30 * DAY
COLLECTIBLE_INVOICE_STATUSES = frozenset({"open"})
ENDED_SUBSCRIPTION_STATUSES = frozenset({"canceled", "incomplete_expired", "paused"})


@dataclass(frozen=True)
class Decline:
    decline_code: str | None = None
    failure_code: str | None = None
    advice_code: str | None = None
    network_advice_code: str | None = None
    fingerprint: str | None = None
    """The card that was declined, when known."""

    @property
    def cls(self) -> DeclineClass:
        # Overrides never move a class out of no_recovery, so none are needed here.
        return classify(
            self.decline_code, self.failure_code, self.advice_code, self.network_advice_code
        )


@dataclass(frozen=True)
class Attempt:
    """One charge attempt, ours or Stripe's, and its decline if it failed."""

    at: dt.datetime
    decline: Decline | None = None


@dataclass(frozen=True)
class Allowed:
    def __bool__(self) -> bool:
        return True


@dataclass(frozen=True)
class Refused:
    code: str
    """Stable: invoice_closed, subscription_ended, card_blocked, auto_retry_cap,
    invoice_cap, visa_cap, mastercard_24h_cap, mastercard_30d_cap."""
    reason: str

    def __bool__(self) -> bool:
        return False


def check_attempt(
    now: dt.datetime,
    *,
    invoice_attempts: Sequence[Attempt],
    campaign_auto_retries: int,
    card_history: Sequence[Attempt],
    brand: str | None,
    last_decline: Decline | None,
    invoice_status: str,
    subscription_status: str,
    fingerprint: str | None = None,
    automatic: bool = True,
    policy: Policy = DEFAULT_POLICY,
) -> Allowed | Refused:
    """May we charge now? ``invoice_attempts``: every attempt on this invoice, ours and
    Stripe's; ``card_history``: every attempt on this card fingerprint in the workspace;
    ``automatic``: False for the retry a card change triggers."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if invoice_status not in COLLECTIBLE_INVOICE_STATUSES:
        return Refused("invoice_closed", f"the invoice is {invoice_status}: nothing to collect")
    if subscription_status in ENDED_SUBSCRIPTION_STATUSES:
        return Refused("subscription_ended", f"the subscription is {subscription_status}")
    blocked = _card_block(brand, fingerprint, last_decline, card_history)
    if blocked:
        return Refused("card_blocked", f"never retry this card: {blocked}")
    if automatic and campaign_auto_retries >= policy.max_auto_retries:
        return Refused(
            "auto_retry_cap",
            f"{campaign_auto_retries} automatic retries made, the campaign allows "
            f"{policy.max_auto_retries}; only a card update can trigger another",
        )
    checks = [
        ("invoice_cap", invoice_attempts, INVOICE_WINDOW, policy.max_attempts_per_invoice_30d)
    ]
    network = normalize_brand(brand)
    if network == "visa":
        checks.append(("visa_cap", card_history, 30 * DAY, policy.visa_max_30d))
    elif network == "mastercard":
        checks.append(("mastercard_24h_cap", card_history, DAY, policy.mastercard_max_24h))
        checks.append(("mastercard_30d_cap", card_history, 30 * DAY, policy.mastercard_max_30d))
    for code, attempts, window, cap in checks:
        made = count_within(attempts, now, window)
        if made >= cap:
            return Refused(code, _cap_sentence(code, made, cap, window))
    return Allowed()


def count_within(attempts: Sequence[Attempt], now: dt.datetime, window: dt.timedelta) -> int:
    """Attempts less than ``window`` before ``now`` (or after it)."""
    return sum(1 for attempt in attempts if attempt.at > now - window)


def _card_block(
    brand: str | None,
    fingerprint: str | None,
    last_decline: Decline | None,
    card_history: Sequence[Attempt],
) -> str | None:
    declines = [attempt.decline for attempt in card_history if attempt.decline is not None]
    if last_decline is not None and (
        fingerprint is None
        or last_decline.fingerprint is None
        or last_decline.fingerprint == fingerprint
    ):
        declines.append(last_decline)
    for decline in declines:
        reason = card_block_reason(
            brand,
            decline.decline_code,
            decline.failure_code,
            decline.advice_code,
            decline.network_advice_code,
        )
        if reason:
            return reason
    return None


def _cap_sentence(code: str, made: int, cap: int, window: dt.timedelta) -> str:
    span = "24 h" if window == DAY else f"{window.days} days"
    subject = {
        "invoice_cap": "this invoice (ours and Stripe's)",
        "visa_cap": "this Visa card",
        "mastercard_24h_cap": "this Mastercard",
        "mastercard_30d_cap": "this Mastercard",
    }[code]
    return f"{made} attempts on {subject} in the last {span}; the cap is {cap}"
