"""The A/B subject rules: a deterministic, even split by invoice, and a verdict built on
Newcombe's interval that names a winner only when the interval leaves out zero."""

from __future__ import annotations

import hashlib
import hmac

from hypothesis import given
from hypothesis import strategies as st

from app.dunning.subject_rules import MIN_ENDED, arm_for, verdict
from app.insights.holdout import newcombe

SALT = "ab" * 32


def test_the_split_is_stable_checkable_and_even() -> None:
    invoices = [f"in_{n:05d}" for n in range(4000)]
    arms = [arm_for(SALT, invoice) for invoice in invoices]
    assert arms == [arm_for(SALT, invoice) for invoice in invoices]  # the same every time
    assert 0.47 < arms.count("b") / len(arms) < 0.53
    digest = hmac.new(bytes.fromhex(SALT), b"in_00042", hashlib.sha256).digest()
    expected = "b" if int.from_bytes(digest[:8], "big") / 2**64 >= 0.5 else "a"
    assert arm_for(SALT, "in_00042") == expected  # anyone with the salt can check a draw
    assert arms != [arm_for("cd" * 32, invoice) for invoice in invoices]  # the salt matters


def test_verdicts_by_example() -> None:
    assert verdict((0, 0), (0, 0)).text == (
        f"No difference yet: about {2 * MIN_ENDED} more ended campaigns needed."
    )
    better = verdict((30, 100), (60, 100))
    assert better.winner == "b" and better.text.startswith("B is better: 30.0 points more")
    worse = verdict((60, 100), (30, 100))
    assert worse.winner == "a" and worse.text.startswith("A is better: 30.0 points more")
    assert worse.difference is not None and worse.difference.high < 0
    close = verdict((40, 100), (45, 100))
    assert close.winner is None and close.more_needed and close.more_needed > 100
    assert (
        close.text == f"No difference yet: about {close.more_needed} more ended campaigns needed."
    )
    same = verdict((20, 50), (20, 50))
    assert same.text == "No difference yet: both subjects recover at the same rate so far."
    # Striking, but too few ended campaigns in arm A to call it.
    early = verdict((0, 10), (40, 40))
    assert early.winner is None
    assert (
        early.text
        == f"No difference yet: about {2 * (MIN_ENDED - 10)} more ended campaigns needed."
    )


arms = st.integers(0, 400).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n)))


@given(arms, arms)
def test_a_winner_only_with_enough_campaigns_and_an_interval_clear_of_zero(a, b) -> None:
    found = verdict(a, b)
    swapped = verdict(b, a)
    if found.winner is not None:
        assert min(a[1], b[1]) >= MIN_ENDED
        interval = newcombe(b[0], b[1], a[0], a[1])
        assert interval.low > 0 if found.winner == "b" else interval.high < 0
        assert swapped.winner == ("a" if found.winner == "b" else "b")
        assert found.text.startswith(f"{found.winner.upper()} is better")
    else:
        assert found.text.startswith("No difference yet")
        assert swapped.winner is None
    if found.more_needed:
        assert f"about {found.more_needed} more" in found.text
