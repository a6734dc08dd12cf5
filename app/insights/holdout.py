"""The holdout's measured lift: the recovery rate of the campaigns Backstop worked on
against that of the held-out ones (Stripe's retries and the customer only), with a
95 % interval for the difference and how many more failed payments it would take
before a difference of the size seen is significant. Pure statistics on counts.

Methods: the interval is Newcombe's hybrid score interval for a difference of two
proportions (his method 10, built from the two Wilson intervals); the difference is
significant when that interval leaves out zero. The sample size is the usual
two-proportion z-test estimate (pooled variance under the null, unpooled under the
alternative, no continuity correction) at a two-sided 5 % level and 80 % power.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..retain.significance import Z95, wilson

#: The one-sided normal quantile for 80 % power.
Z80 = 0.8416212335729143


@dataclass(frozen=True)
class Difference:
    """``p1 - p2`` with its interval (fractions, -1..1)."""

    diff: float
    low: float
    high: float

    @property
    def is_significant(self) -> bool:
        return self.low > 0 or self.high < 0


def newcombe(x1: int, n1: int, x2: int, n2: int, z: float = Z95) -> Difference:
    """The difference of two rates, ``x1/n1 - x2/n2``, with Newcombe's hybrid score
    interval; both arms must have at least one ended campaign."""
    if n1 <= 0 or n2 <= 0:
        raise ValueError("both arms need at least one ended campaign")
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1, z)
    l2, u2 = wilson(x2, n2, z)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return Difference(d, max(-1.0, low), min(1.0, high))


def sample_size(p1: float, p2: float, ratio: float, *, z_alpha: float = Z95, z_beta: float = Z80):
    """Ended campaigns needed in each arm, ``(n1, n2)`` with ``n2 = ratio * n1``, for a
    two-sided test at 5 % to find ``p1 != p2`` with 80 % power; None when the rates are
    equal (no difference to find) or the ratio is not positive."""
    if p1 == p2 or ratio <= 0:
        return None
    p_bar = (p1 + ratio * p2) / (1 + ratio)
    null = z_alpha * math.sqrt(p_bar * (1 - p_bar) * (1 + 1 / ratio))
    alternative = z_beta * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2) / ratio)
    n1 = (null + alternative) ** 2 / (p1 - p2) ** 2
    return math.ceil(n1), math.ceil(ratio * n1)


def more_needed(treated: tuple[int, int], held_out: tuple[int, int], share: float) -> int | None:
    """Roughly how many more failed payments (that end) it takes, split at ``share``
    held out, before the observed difference would be significant: 0 if it is already
    enough; None when it cannot be told (no difference seen, an empty arm, or no
    holdout now to fill it)."""
    (x1, n1), (x2, n2) = treated, held_out
    if n1 <= 0 or n2 <= 0 or not 0 < share < 1:
        return None
    needed = sample_size(x1 / n1, x2 / n2, share / (1 - share))
    if needed is None:
        return None
    need1, need2 = needed
    extra = max((need1 - n1) / (1 - share), (need2 - n2) / share, 0.0)
    return math.ceil(extra)


@dataclass(frozen=True)
class Lift:
    treated_recovered: int
    treated_ended: int
    holdout_recovered: int
    holdout_ended: int
    difference: Difference | None
    """None until both arms have an ended campaign."""
    more_needed: int | None

    @property
    def treated_rate(self) -> float | None:
        return self.treated_recovered / self.treated_ended if self.treated_ended else None

    @property
    def holdout_rate(self) -> float | None:
        return self.holdout_recovered / self.holdout_ended if self.holdout_ended else None


def measure(treated: tuple[int, int], held_out: tuple[int, int], share: float) -> Lift:
    """The lift from (recovered, ended) of each arm, at the holdout share now (0..1)."""
    (x1, n1), (x2, n2) = treated, held_out
    difference = newcombe(x1, n1, x2, n2) if n1 > 0 and n2 > 0 else None
    more = None
    if difference is not None and not difference.is_significant:
        more = more_needed(treated, held_out, share)
    return Lift(x1, n1, x2, n2, difference, more)
