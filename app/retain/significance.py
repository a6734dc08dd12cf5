"""Is one arm of a flow saving more customers than another? Pure statistics on counts:
Wilson intervals for a save rate and a two-proportion z-test between two arms, with a
verdict in plain words."""

from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.959963984540054
#: Below this many ended sessions in either arm, no verdict is given.
MIN_SESSIONS = 30


def wilson(saved: int, total: int, z: float = Z95) -> tuple[float, float]:
    """The 95 % interval of a save rate (0..1); (0, 1) with no sessions."""
    if total <= 0:
        return 0.0, 1.0
    p = saved / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    # At 0 % and 100 % the bound is exactly the rate; rounding must not move it.
    low = 0.0 if saved == 0 else max(0.0, centre - half)
    high = 1.0 if saved == total else min(1.0, centre + half)
    return low, high


def two_proportion_p(saved_a: int, total_a: int, saved_b: int, total_b: int) -> float:
    """Two-sided p-value that the two save rates differ only by chance (1.0 when it
    cannot be told: an empty arm, or every session saved or lost in both)."""
    if total_a <= 0 or total_b <= 0:
        return 1.0
    pooled = (saved_a + saved_b) / (total_a + total_b)
    variance = pooled * (1 - pooled) * (1 / total_a + 1 / total_b)
    if variance <= 0:
        return 1.0
    z = (saved_a / total_a - saved_b / total_b) / math.sqrt(variance)
    return math.erfc(abs(z) / math.sqrt(2))


@dataclass(frozen=True)
class Verdict:
    text: str
    p_value: float | None
    significant: bool


def verdict(
    name_a: str, saved_a: int, total_a: int, name_b: str, saved_b: int, total_b: int
) -> Verdict:
    """Which of two arms saves more, in words a merchant can act on."""
    if min(total_a, total_b) < MIN_SESSIONS:
        return Verdict(
            f"Too early to tell: each version needs {MIN_SESSIONS} ended sessions.", None, False
        )
    p = two_proportion_p(saved_a, total_a, saved_b, total_b)
    rate_a, rate_b = saved_a / total_a, saved_b / total_b
    if rate_a == rate_b:
        return Verdict(f"{name_a} and {name_b} save customers at the same rate so far.", p, False)
    ahead, behind = (name_a, name_b) if rate_a > rate_b else (name_b, name_a)
    if p < 0.05:
        return Verdict(f"{ahead} is ahead of {behind} (significant at 95 %).", p, True)
    return Verdict(f"{ahead} is ahead of {behind}, not yet significant.", p, False)
