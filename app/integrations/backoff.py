"""When a failed delivery is tried again, and when an endpoint has failed long enough
to be turned off. Pure rules over plain values: no I/O, no clock reads (pass ``now``).

Exponential with jitter, capped: the n-th failure waits ``BASE * 2**(n-1)`` (at most
``CAP``), scaled by a factor drawn between ``1 - JITTER`` and 1, so retries of many
deliveries that failed together (a receiver's outage) spread out instead of returning
as one wave. Nothing is tried more than ``WINDOW`` after the delivery's first try; the
last try lands on the window's end, so a delivery gives up only once its endpoint has
had the whole window to come back.

A receiver that answers 429 (Slack and Discord do, past their rate limits) says in its
``Retry-After`` when it will take more; the next try is never sooner than that, at most
``CAP`` away, and still inside the window.
"""

from __future__ import annotations

import datetime as dt
from email.utils import parsedate_to_datetime

BASE = dt.timedelta(minutes=1)
CAP = dt.timedelta(hours=6)
JITTER = 0.5
#: Deliveries are retried for this long after their first try, and an endpoint whose
#: every try failed for this long is disabled.
WINDOW = dt.timedelta(days=3)


def delay(failures: int, draw: float) -> dt.timedelta:
    """The wait after the ``failures``-th failure in a row; ``draw`` is uniform in [0, 1)."""
    if failures < 1:
        raise ValueError("at least one failure")
    if not 0.0 <= draw < 1.0:
        raise ValueError("draw is in [0, 1)")
    nominal = CAP if failures > 20 else min(CAP, BASE * 2 ** (failures - 1))
    return nominal * (1.0 - JITTER * draw)


def retry_after(header: str | None, now: dt.datetime) -> dt.timedelta | None:
    """The wait a ``Retry-After`` header asks for (delay-seconds or an HTTP date), at
    most ``CAP``; None when there is none or it cannot be read."""
    value = (header or "").strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():
        wait = dt.timedelta(seconds=min(int(value), int(CAP.total_seconds())))
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:  # an HTTP date is always GMT
            when = when.replace(tzinfo=dt.UTC)
        wait = when - now
    return max(dt.timedelta(0), min(wait, CAP))


def next_try(
    first_try_at: dt.datetime,
    failures: int,
    now: dt.datetime,
    draw: float,
    asked: dt.timedelta | None = None,
) -> dt.datetime | None:
    """When to try again after a failure at ``now``, never sooner than the receiver
    ``asked`` (its ``Retry-After``); None once the window has ended."""
    deadline = first_try_at + WINDOW
    if now >= deadline:
        return None
    wait = max(delay(failures, draw), asked or dt.timedelta(0))
    return min(now + wait, deadline)


def should_disable(failing_since: dt.datetime | None, now: dt.datetime) -> bool:
    """An endpoint whose tries have all failed since ``failing_since`` for the whole
    window is turned off (its owners are told)."""
    return failing_since is not None and now - failing_since >= WINDOW
