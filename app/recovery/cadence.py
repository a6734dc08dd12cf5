"""When to retry: code-specific cadences, payday alignment, and landing at 10:00 on a
weekday in the customer's timezone (DESIGN §6). Every function takes ``now``.

Offsets chain: each step counts from the previous attempt (the failure, then each
planned retry). The quick retries of the ``immediate`` class (10 min, 1 h, 4 h) chase a
technical glitch and are not moved to 10:00; every other retry is.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .declines import DeclineClass, normalize
from .policy import DEFAULT_POLICY, PAYDAY, Policy, Step

UTC = dt.UTC
LANDING_TIME = dt.time(10, 0)
CARD_CHANGE_DELAY = dt.timedelta(hours=24)
FALLBACK_PAYDAYS = (1, 15)
MIN_PAYDAY_SIGHTINGS = 2


@dataclass(frozen=True)
class PlannedRetry:
    at: dt.datetime
    """When to attempt, in UTC."""
    reason: str
    """Why now, why not earlier: shown on the campaign timeline."""
    automatic: bool = True
    """False for the retry a card change triggers: it does not use up the campaign's
    automatic retries."""
    landed: bool = True
    """True when moved to 10:00 local on a weekday (all but the quick retries)."""


def pick_timezone(customer_tz: str | None, workspace_tz: str | None) -> str:
    """The customer's IANA timezone if we know a valid one, else the workspace's, else UTC."""
    for name in (customer_tz, workspace_tz):
        if name and _zone(name) is not None:
            return name
    return "UTC"


def land(earliest: dt.datetime, tz: str) -> tuple[dt.datetime, bool]:
    """The first 10:00 on a weekday in ``tz`` at or after ``earliest`` (UTC), and
    whether a weekend pushed it."""
    zone = _zone_or_utc(tz)
    day = earliest.astimezone(zone).date()
    pushed = day.weekday() >= 5
    if _at_landing(day, zone) < earliest:
        day += dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
        pushed = True
    return _at_landing(day, zone), pushed


def payday_of_month(payday_history: Sequence[dt.datetime], tz: str) -> int | None:
    """The customer's own payday: the day of month (local) seen in at least two
    successful payments, the most frequent one (the earliest on a tie); else None."""
    zone = _zone_or_utc(tz)
    counts = Counter(_aware(paid_at).astimezone(zone).day for paid_at in payday_history)
    ranked = sorted(counts.items(), key=lambda day_count: (-day_count[1], day_count[0]))
    if ranked and ranked[0][1] >= MIN_PAYDAY_SIGHTINGS:
        return ranked[0][0]
    return None


def next_payday(after: dt.date, own_day: int | None) -> dt.date:
    """The first payday strictly after ``after``: ``own_day`` each month (the last day
    in shorter months), else the 1st or the 15th."""
    days = (own_day,) if own_day is not None else FALLBACK_PAYDAYS
    year, month = after.year, after.month
    while True:
        last = calendar.monthrange(year, month)[1]
        for day in sorted({min(d, last) for d in days}):
            candidate = dt.date(year, month, day)
            if candidate > after:
                return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def plan_retries(
    failure_at: dt.datetime,
    cls: DeclineClass,
    code: str | None,
    *,
    tz: str,
    attempts_so_far: int,
    payday_history: Sequence[dt.datetime] = (),
    policy: Policy = DEFAULT_POLICY,
    now: dt.datetime,
    window_ends_at: dt.datetime | None = None,
) -> list[PlannedRetry]:
    """The automatic retries still to make after a failure at ``failure_at``.

    ``attempts_so_far`` is the number of automatic retries the campaign already made:
    the plan resumes the cadence there and stops at the per-campaign maximum. Retries
    at or after ``window_ends_at`` (the campaign's 30 days) are dropped.
    """
    failure_at, now = _aware(failure_at), _aware(now)
    if cls in (DeclineClass.CUSTOMER_ACTION, DeclineClass.NO_RECOVERY):
        return []
    steps: list[tuple[Step, bool]] = [(step, False) for step in policy.cadence_for(code)]
    if cls is DeclineClass.IMMEDIATE:
        steps = [(offset, True) for offset in policy.immediate_offsets] + steps
    start = max(attempts_so_far, 0)
    remaining = max(policy.max_auto_retries - start, 0)
    label = _label(code)
    own_day = payday_of_month(payday_history, tz)
    plan: list[PlannedRetry] = []
    previous = failure_at
    for number, (step, quick) in enumerate(steps[start : start + remaining], start + 1):
        if quick:
            assert isinstance(step, dt.timedelta)
            at = max(previous + step, now)
            reason = (
                f"{label}: quick retry {number}, {_human(step)} after the previous attempt "
                "(a temporary error usually clears within minutes)"
            )
            retry = PlannedRetry(at.astimezone(UTC), reason, landed=False)
        else:
            retry = _cadence_retry(step, number, label, previous, now, tz, own_day)
        if window_ends_at is not None and retry.at >= _aware(window_ends_at):
            break
        plan.append(retry)
        previous = retry.at
    return plan


def retry_after_card_change(
    changed_at: dt.datetime,
    *,
    last_failure_at: dt.datetime | None,
    tz: str,
    now: dt.datetime,
) -> PlannedRetry | None:
    """The one polite retry after the payment method changed (e.g. Stripe's card
    updater), 24 h later at the next weekday 10:00; None if it changed before the
    last failure (that card was already tried)."""
    changed_at, now = _aware(changed_at), _aware(now)
    if last_failure_at is not None and changed_at <= _aware(last_failure_at):
        return None
    at, pushed = land(max(changed_at + CARD_CHANGE_DELAY, now), tz)
    reason = (
        f"payment method changed: one retry 24 h after the change, at 10:00 {tz}, "
        f"{_weekday(at, tz, pushed)}"
    )
    return PlannedRetry(at, reason, automatic=False)


def _cadence_retry(
    step: Step,
    number: int,
    label: str,
    previous: dt.datetime,
    now: dt.datetime,
    tz: str,
    own_day: int | None,
) -> PlannedRetry:
    if step == PAYDAY:
        local_previous = max(previous, now).astimezone(_zone_or_utc(tz)).date()
        payday = next_payday(local_previous, own_day)
        at, pushed = land(_at_landing(payday, _zone_or_utc(tz)), tz)
        whose = "the customer's usual payment day" if own_day else "no usual payment day seen yet"
        why = f"next payday ({_ordinal(payday.day)}: {whose})"
    else:
        assert isinstance(step, dt.timedelta)
        earliest = previous + step
        late = now > earliest
        at, pushed = land(max(earliest, now), tz)
        why = f"{_human(step)} after the previous attempt"
        if late:
            why += " (that time had passed)"
    weekday = _weekday(at, tz, pushed)
    return PlannedRetry(at, f"{label}: retry {number}, {why} at 10:00 {tz}, {weekday}")


def _weekday(at: dt.datetime, tz: str, pushed: bool) -> str:
    local = at.astimezone(_zone_or_utc(tz))
    when = f"{local:%A} {local:%Y-%m-%d}"
    return f"moved past the weekend to {when}" if pushed else f"a weekday ({when})"


def _at_landing(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, LANDING_TIME, tzinfo=zone).astimezone(UTC)


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _zone_or_utc(name: str) -> ZoneInfo:
    return _zone(name) or ZoneInfo("UTC")


def _aware(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment!r} has no timezone: pass aware datetimes")
    return moment.astimezone(UTC)


def _label(code: str | None) -> str:
    return (normalize(code) or "unknown decline").replace("_", " ")


def _human(offset: dt.timedelta) -> str:
    seconds = int(offset.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return str(offset)


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"
