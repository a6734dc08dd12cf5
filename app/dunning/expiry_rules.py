"""When to warn that a card expires (DESIGN §7). Pure rules: no I/O, no clock reads.

A card is good through the last day of its expiry month. Notices go 30, 15 and 7 days
before that, at 10:00 in the customer's timezone. A card first seen after a notice's
moment gets that notice at once (only the latest one missed, never a burst).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

NOTICE_DAYS = (30, 15, 7)
SEND_TIME = dt.time(10, 0)
#: The scan runs daily: it plans only what falls due before it has run a few more times.
HORIZON = dt.timedelta(days=7)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def expires_at(exp_month: int, exp_year: int, tz: str) -> dt.datetime:
    """The first moment the card no longer works: midnight local after its month ends."""
    if not 1 <= exp_month <= 12:
        raise ValueError(f"exp_month must be 1-12, not {exp_month}")
    year, month = (exp_year + 1, 1) if exp_month == 12 else (exp_year, exp_month + 1)
    return dt.datetime(year, month, 1, tzinfo=_zone(tz)).astimezone(dt.UTC)


def notice_at(exp_month: int, exp_year: int, days_before: int, tz: str) -> dt.datetime:
    zone = _zone(tz)
    end = expires_at(exp_month, exp_year, tz).astimezone(zone).date()
    day = end - dt.timedelta(days=days_before)
    return dt.datetime.combine(day, SEND_TIME, tzinfo=zone).astimezone(dt.UTC)


def plan_notices(
    exp_month: int, exp_year: int, tz: str, *, now: dt.datetime, horizon: dt.timedelta = HORIZON
) -> list[tuple[int, dt.datetime]]:
    """(days_before, due_at) of the notices to plan for this card now: those due within
    ``horizon``, plus the latest one already due (sent now); none once it has expired."""
    if now >= expires_at(exp_month, exp_year, tz):
        return []
    planned: list[tuple[int, dt.datetime]] = []
    missed: tuple[int, dt.datetime] | None = None
    for days in NOTICE_DAYS:  # 30, 15, 7: in time order
        at = notice_at(exp_month, exp_year, days, tz)
        if at > now + horizon:
            continue
        if at > now:
            planned.append((days, at))
        else:
            missed = (days, now)
    return ([missed] if missed else []) + planned
