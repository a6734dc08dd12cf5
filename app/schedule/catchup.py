"""Catching up without a burst (DESIGN §4). Pure rules: no I/O, no clock reads.

After an outage, a resume, an import or a jump of a test clock, several steps of one
campaign can be due at once. Only the newest that still makes sense runs; the others are
skipped and say which one they gave way to. And a customer never gets two messages of
one campaign closer together than the workspace's gap (24 h by default): a message due
sooner waits until the gap has passed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any

DEFAULT_GAP = dt.timedelta(hours=24)


@dataclass(frozen=True)
class Due:
    """A step as the rules see it: its rank (higher is newer) and its name in words."""

    key: Hashable
    rank: tuple[Any, ...]
    label: str


def superseded_by(step: Due, due_now: Iterable[Due]) -> Due | None:
    """The newest of ``due_now`` (the step's siblings that are due as well) when it
    outranks ``step``; None when ``step`` is the one to run."""
    newer = [other for other in due_now if other.key != step.key and other.rank > step.rank]
    return max(newer, key=lambda d: d.rank) if newer else None


def held_until(
    last_sent_at: dt.datetime | None, at: dt.datetime, gap: dt.timedelta = DEFAULT_GAP
) -> dt.datetime | None:
    """When a message due at ``at`` may leave, if the campaign's previous one left less
    than ``gap`` before; None when it may leave now."""
    if last_sent_at is None or gap <= dt.timedelta(0):
        return None
    earliest = last_sent_at + gap
    return earliest if at < earliest else None
