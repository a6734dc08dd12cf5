"""What Backstop added: the counterfactual (the renewals that failed in a period, recovered
at the merchant's rate before Backstop) and the return on what Backstop costs.

The rules are pure, over amounts of one currency (a rate applies to any currency, an
amount never crosses one); :func:`save_cost` stores the merchant's monthly cost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import Refusal
from ..models import one_per
from ..money import minor_digits
from .models import InsightSettings

#: The largest monthly cost accepted, in whole units of its currency.
MAX_COST_UNITS = 10_000_000


class CostRefused(Refusal):
    """The monthly cost entered is not one we can use."""


@dataclass(frozen=True)
class Lift:
    """In one currency: recovered with Backstop against expected without it."""

    currency: str
    recovered_count: int
    recovered_minor: int
    failed_count: int
    failed_minor: int
    rate: float
    """The baseline: share of failed renewals paid back without Backstop."""

    @property
    def expected_count(self) -> float:
        return self.failed_count * self.rate

    @property
    def expected_minor(self) -> int:
        return round(self.failed_minor * self.rate)

    @property
    def lift_minor(self) -> int:
        return self.recovered_minor - self.expected_minor

    @property
    def lift_count(self) -> float:
        return self.recovered_count - self.expected_count


def lift(
    currency: str,
    *,
    recovered: tuple[int, int],
    failed: tuple[int, int],
    baseline: tuple[int, int],
) -> Lift | None:
    """``recovered`` and ``failed`` in the period, ``baseline`` (failed, recovered alone)
    before Backstop, each as (count, amount); None without a baseline to apply."""
    base_failed, base_recovered = baseline
    if base_failed <= 0:
        return None
    rate = min(max(base_recovered / base_failed, 0.0), 1.0)
    return Lift(currency, *recovered, *failed, rate)


def period_cost(monthly_minor: int, days: int) -> int:
    """The cost of ``days`` at ``monthly_minor`` a month (a month is a twelfth of a year)."""
    return round(monthly_minor * days * 12 / 365)


@dataclass(frozen=True)
class Return:
    """In the cost's currency: what Backstop brought over the period against its cost."""

    currency: str
    recovered_minor: int
    saved_mrr_minor: int
    won_back_mrr_minor: int
    cost_minor: int

    @property
    def value_minor(self) -> int:
        return self.recovered_minor + self.saved_mrr_minor + self.won_back_mrr_minor

    @property
    def ratio(self) -> float | None:
        return self.value_minor / self.cost_minor if self.cost_minor > 0 else None


def parse_cost(amount: str, currency: str) -> tuple[int, str] | None:
    """The monthly cost from the form's text as (minor units, currency), or None when
    the amount is left empty (no cost). Refuses with every problem found."""
    amount, currency = (amount or "").strip().replace(",", ""), (currency or "").strip().lower()
    errors = []
    if not re.fullmatch(r"[a-z]{3}", currency):
        errors.append("The currency must be a three-letter code, such as USD or EUR.")
    if not amount:
        if errors:
            raise CostRefused(*errors)
        return None
    digits = minor_digits(currency)
    try:
        value = Decimal(amount)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        errors.append("The monthly cost must be a number, such as 49.00.")
    elif value <= 0 or value > MAX_COST_UNITS:
        errors.append(f"The monthly cost must be above 0 and at most {MAX_COST_UNITS:,}.")
    elif value != value.quantize(Decimal(1).scaleb(-digits)):
        errors.append(
            f"The monthly cost in {currency.upper()} has at most {digits} decimal digits."
        )
    if errors:
        raise CostRefused(*errors)
    assert value is not None
    return int(value.scaleb(digits)), currency


def cost_text(minor: int, currency: str) -> str:
    """The cost as the form shows it back (``4900, "usd"`` -> ``"49.00"``)."""
    digits = minor_digits(currency)
    return str(Decimal(minor).scaleb(-digits).quantize(Decimal(1).scaleb(-digits)))


def settings_of(session: Session, workspace_id: int) -> InsightSettings | None:
    return session.execute(
        select(InsightSettings).where(InsightSettings.workspace_id == workspace_id)
    ).scalar_one_or_none()


def save_cost(session: Session, workspace_id: int, cost: tuple[int, str] | None) -> None:
    """Store what Backstop costs the workspace a month (None: forget it). Flushes."""
    row = one_per(session, InsightSettings, workspace_id=workspace_id)
    row.monthly_cost_minor, row.cost_currency = cost if cost is not None else (None, None)
    session.flush()
