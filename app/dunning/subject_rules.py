"""A/B subject lines of dunning touches: which arm a campaign is in, and whether one
subject recovers more than the other. Pure rules over plain values.

The split: a campaign is in arm B when ``HMAC-SHA256(workspace salt, invoice id)``, read
as a number in [0, 1), is at least 0.5 (the holdout's draw, with a salt of its own): the
same invoice always lands in the same arm, for every touch, and anyone holding the salt
can check it. The verdict: the difference of the two recovery rates (B - A) with
Newcombe's 95 % interval (``app.insights.holdout``); a subject wins when the interval
leaves out zero and each arm has at least :data:`MIN_ENDED` ended campaigns.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..insights import holdout as lift
from ..recovery.holdout import score
from ..retain.significance import MIN_SESSIONS

A, B = "a", "b"
ARMS = (A, B)
#: Below this many ended campaigns in either arm, no subject is declared better.
MIN_ENDED = MIN_SESSIONS


def arm_for(salt: str, invoice_id: str) -> str:
    """The campaign's arm: half of the invoices (by their HMAC) get subject B."""
    return B if score(salt, invoice_id) >= 0.5 else A


@dataclass(frozen=True)
class Verdict:
    text: str
    winner: str | None
    """``a`` or ``b`` once one is significantly better; None until then."""
    more_needed: int | None
    difference: lift.Difference | None
    """B's rate minus A's, with its 95 % interval; None until both arms have one."""


def verdict(a: tuple[int, int], b: tuple[int, int]) -> Verdict:
    """Which subject recovers more, from (recovered, ended) campaigns of each arm."""
    measured = lift.measure(b, a, 0.5)
    difference = measured.difference
    (_xa, na), (_xb, nb) = a, b
    short = 2 * max(0, MIN_ENDED - min(na, nb))  # both arms fill at the same pace
    if difference is not None and difference.is_significant and not short:
        winner = B if difference.diff > 0 else A
        points = abs(difference.diff) * 100
        low, high = sorted((abs(difference.low) * 100, abs(difference.high) * 100))
        return Verdict(
            f"{winner.upper()} is better: {points:.1f} points more recovered "
            f"(95 % interval {low:.1f} to {high:.1f}).",
            winner,
            0,
            difference,
        )
    if difference is None:
        return Verdict(_more_text(short), None, short, None)
    needed = measured.more_needed
    if needed is None and not short:
        return Verdict(
            "No difference yet: both subjects recover at the same rate so far.",
            None,
            None,
            difference,
        )
    more = max(needed or 0, short)
    return Verdict(_more_text(more), None, more, difference)


def _more_text(more: int) -> str:
    if more <= 0:  # the estimate says enough, the interval still holds zero: chance so far
        return "No difference yet: the gap so far is within chance; keep the test running."
    return f"No difference yet: about {more} more ended campaigns needed."
