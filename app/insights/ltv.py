"""The lifetime value gained from recovered customers: what they paid since their payment
was recovered, and what they are expected to pay, from this workspace's own survival
curve (Kaplan-Meier). Pure: the caller passes the customers and ``now``.

Each recovered subscription is followed from the day its payment was recovered: it
either ended (a churn, at that age) or is still billing (censored at its age today). The
curve ``S(m)`` is the share still subscribed ``m`` months after a recovery. A customer
still billing at age ``a`` is then expected to pay ``S(k) / S(a)`` of each later month
``k`` up to the horizon, at their current monthly price. Past the months the data
covers, the curve goes on at the average monthly churn seen (a constant hazard), and
with no churn seen at all it stays flat: a projection, stated as an estimate.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

#: How far the projection looks, in months after the recovery.
HORIZON_MONTHS = 24
#: Days in an average month.
MONTH_DAYS = 365.25 / 12


@dataclass(frozen=True)
class Member:
    """One recovered subscription."""

    currency: str
    age_months: float
    """Months from the recovery to its end, or to now while it still bills."""
    ended: bool
    monthly_minor: int
    """Its price per month now (MRR)."""
    realized_minor: int
    """What it paid after the recovery (its later invoices, paid)."""
    months_paid: int


@dataclass
class Estimate:
    """The lifetime value gained in one currency."""

    currency: str
    customers: int = 0
    still_subscribed: int = 0
    realized_minor: int = 0
    months_paid: int = 0
    projected_minor: int = 0
    curve: list[float] = field(default_factory=list)
    observed_months: int = 0
    """Up to which month the curve comes from the data (the rest is extrapolated)."""

    @property
    def total_minor(self) -> int:
        return self.realized_minor + self.projected_minor

    @property
    def median_months(self) -> int | None:
        return median_month(self.curve)


def median_month(curve: Sequence[float]) -> int | None:
    """The first month by which half the recovered customers had left, if any."""
    return next((m for m, s in enumerate(curve) if s <= 0.5), None)


def survival_curve(
    members: Sequence[Member], horizon: int = HORIZON_MONTHS
) -> tuple[list[float], int]:
    """``S(0..horizon)`` by Kaplan-Meier on whole months, and the last month the data
    covers (someone was still followed then); beyond it, the average monthly hazard."""
    curve = [1.0]
    observed = 0
    for month in range(1, horizon + 1):
        at_risk = sum(1 for m in members if m.age_months > month - 1)
        if at_risk == 0:
            break
        ended = sum(1 for m in members if m.ended and month - 1 < m.age_months <= month)
        curve.append(curve[-1] * (1 - ended / at_risk))
        observed = month
    hazard = monthly_hazard(members)
    while len(curve) <= horizon:
        curve.append(curve[-1] * (1 - hazard))
    return curve, observed


def monthly_hazard(members: Iterable[Member]) -> float:
    """Churns per month followed, over every recovered subscription (0 with none)."""
    ended, followed = 0, 0.0
    for m in members:
        ended += m.ended
        followed += max(m.age_months, 0.0)
    return min(ended / followed, 1.0) if followed > 0 else 0.0


def expected_months_ahead(curve: Sequence[float], age_months: float) -> float:
    """The months a customer still subscribed at ``age_months`` is expected to pay from
    the next whole month up to the curve's horizon."""
    start = math.floor(age_months)
    if start >= len(curve) - 1 or curve[start] <= 0:
        return 0.0
    return sum(curve[k] / curve[start] for k in range(start + 1, len(curve)))


def estimate(members: Sequence[Member], horizon: int = HORIZON_MONTHS) -> dict[str, Estimate]:
    """Per currency: what recovered customers paid since, and what they are expected to
    pay up to ``horizon`` months after their recovery (never summed across currencies)."""
    by_currency: dict[str, list[Member]] = {}
    for member in members:
        by_currency.setdefault(member.currency, []).append(member)
    out = {}
    for currency, group in sorted(by_currency.items()):
        curve, observed = survival_curve(group, horizon)
        result = Estimate(currency, curve=curve, observed_months=observed)
        for m in group:
            result.customers += 1
            result.realized_minor += m.realized_minor
            result.months_paid += m.months_paid
            if not m.ended:
                result.still_subscribed += 1
                ahead = expected_months_ahead(curve, m.age_months)
                result.projected_minor += round(ahead * m.monthly_minor)
        out[currency] = result
    return out


def age_in_months(days: float) -> float:
    return max(days, 0.0) / MONTH_DAYS
