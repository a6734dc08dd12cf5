from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from app.recovery.cadence import (
    land,
    next_payday,
    payday_of_month,
    pick_timezone,
    plan_retries,
    retry_after_card_change,
)
from app.recovery.declines import DeclineClass
from app.recovery.policy import DAY, PAYDAY, Policy

C = DeclineClass
UTC = dt.UTC
PARIS = "Europe/Paris"


def local(tz: str, *args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def at_local(retry, tz: str) -> dt.datetime:
    return retry.at.astimezone(ZoneInfo(tz)).replace(tzinfo=None)


def plan(failure_at, cls, code, tz=PARIS, **kwargs):
    kwargs.setdefault("attempts_so_far", 0)
    kwargs.setdefault("now", failure_at)
    return plan_retries(failure_at, cls, code, tz=tz, **kwargs)


# -- landing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("earliest", "expected", "pushed"),
    [
        ((2026, 3, 16, 9, 59), (2026, 3, 16, 10, 0), False),  # Monday before 10:00
        ((2026, 3, 16, 10, 0), (2026, 3, 16, 10, 0), False),  # exactly 10:00
        ((2026, 3, 16, 10, 1), (2026, 3, 17, 10, 0), False),  # just missed: next day
        ((2026, 3, 13, 10, 1), (2026, 3, 16, 10, 0), True),  # Friday after 10 -> Monday
        ((2026, 3, 14, 8, 0), (2026, 3, 16, 10, 0), True),  # Saturday
        ((2026, 3, 15, 23, 59), (2026, 3, 16, 10, 0), True),  # Sunday night
        ((2026, 3, 29, 2, 30), (2026, 3, 30, 10, 0), True),  # EU spring-forward Sunday
        ((2026, 10, 25, 2, 30), (2026, 10, 26, 10, 0), True),  # EU fall-back Sunday
        ((2028, 2, 29, 11, 0), (2028, 3, 1, 10, 0), False),  # leap day -> March
        ((2026, 12, 31, 12, 0), (2027, 1, 1, 10, 0), False),  # year end (a Friday)
    ],
)
def test_land_in_paris(earliest, expected, pushed):
    at, was_pushed = land(local(PARIS, *earliest), PARIS)
    assert at.astimezone(ZoneInfo(PARIS)).replace(tzinfo=None) == dt.datetime(*expected)
    assert was_pushed is pushed


@pytest.mark.parametrize(
    ("tz", "day", "utc_hour"),
    [
        (PARIS, (2026, 3, 27), 9),  # CET, before the change
        (PARIS, (2026, 3, 30), 8),  # CEST, after
        (PARIS, (2026, 10, 26), 9),  # CET again
        ("America/New_York", (2026, 3, 6), 15),  # EST
        ("America/New_York", (2026, 3, 9), 14),  # EDT
        ("America/New_York", (2026, 11, 2), 15),  # EST
        ("Australia/Sydney", (2026, 4, 3), 23),  # AEDT: 10:00 is 23:00 UTC the day before
        ("Australia/Sydney", (2026, 4, 6), 0),  # AEST
        ("Asia/Kathmandu", (2026, 4, 6), 4),  # +05:45
        ("UTC", (2026, 4, 6), 10),
    ],
)
def test_land_handles_offsets_and_dst(tz, day, utc_hour):
    at, _ = land(local(tz, *day, 0, 0), tz)
    assert at.astimezone(ZoneInfo(tz)).replace(tzinfo=None) == dt.datetime(*day, 10, 0)
    assert at.hour == utc_hour
    assert at.tzinfo is UTC


def test_a_retry_across_the_dst_change_keeps_10_local():
    failure = local(PARIS, 2026, 3, 27, 9, 0)  # Friday, CET
    first = plan(failure, C.SCHEDULED, "generic_decline")[0]
    assert at_local(first, PARIS) == dt.datetime(2026, 3, 30, 10, 0)  # +3d = Monday
    assert first.at == dt.datetime(2026, 3, 30, 8, 0, tzinfo=UTC)


# -- paydays ---------------------------------------------------------------------------


def paid(*days, tz=PARIS, year=2025):
    return [local(tz, year, month, day, 12, 0) for month, day in days]


@pytest.mark.parametrize(
    ("history", "day"),
    [
        ([], None),
        (paid((1, 25)), None),  # seen once
        (paid((1, 25), (2, 25)), 25),
        (paid((1, 25), (2, 25), (3, 3), (4, 3), (5, 3)), 3),  # most frequent
        (paid((1, 5), (2, 5), (3, 20), (4, 20)), 5),  # tie: earliest
        (paid((1, 31), (3, 31)), 31),
        (paid((1, 2), (2, 7), (3, 9)), None),  # no day twice
    ],
)
def test_payday_of_month(history, day):
    assert payday_of_month(history, PARIS) == day


def test_payday_of_month_reads_the_local_day():
    # 23:30 UTC on the 14th is the 15th in Paris, the 14th in New York
    history = [dt.datetime(2025, m, 14, 23, 30, tzinfo=UTC) for m in (1, 2)]
    assert payday_of_month(history, PARIS) == 15
    assert payday_of_month(history, "America/New_York") == 14


@pytest.mark.parametrize(
    ("after", "own", "expected"),
    [
        ((2026, 3, 1), None, (2026, 3, 15)),
        ((2026, 3, 14), None, (2026, 3, 15)),
        ((2026, 3, 15), None, (2026, 4, 1)),  # strictly after
        ((2026, 12, 20), None, (2027, 1, 1)),
        ((2026, 3, 10), 25, (2026, 3, 25)),
        ((2026, 3, 25), 25, (2026, 4, 25)),
        ((2026, 1, 31), 31, (2026, 2, 28)),  # the 31st in February
        ((2028, 1, 31), 31, (2028, 2, 29)),  # leap year
        ((2028, 1, 31), 30, (2028, 2, 29)),
        ((2028, 2, 29), 31, (2028, 3, 31)),
        ((2026, 4, 1), 31, (2026, 4, 30)),  # 30-day month
        ((2026, 4, 30), 31, (2026, 5, 31)),
        ((2026, 2, 27), 29, (2026, 2, 28)),
        ((2026, 12, 31), 31, (2027, 1, 31)),
    ],
)
def test_next_payday(after, own, expected):
    assert next_payday(dt.date(*after), own) == dt.date(*expected)


def test_insufficient_funds_uses_the_customers_own_payday():
    history = paid((1, 31), (3, 31))
    failure = local(PARIS, 2026, 2, 2, 9, 0)  # Monday
    first, second, *_ = plan(failure, C.SCHEDULED, "insufficient_funds", payday_history=history)
    assert at_local(first, PARIS) == dt.datetime(2026, 2, 3, 10, 0)
    assert at_local(second, PARIS) == dt.datetime(2026, 3, 2, 10, 0)  # Feb 28 Sat -> Mon
    assert "next payday (28th: the customer's usual payment day)" in second.reason
    assert "moved past the weekend to Monday 2026-03-02" in second.reason


def test_insufficient_funds_falls_back_to_1st_or_15th():
    failure = local(PARIS, 2026, 5, 11, 9, 0)  # Monday
    retries = plan(failure, C.SCHEDULED, "insufficient_funds")
    assert [at_local(r, PARIS) for r in retries] == [
        dt.datetime(2026, 5, 12, 10, 0),  # +1d
        dt.datetime(2026, 5, 15, 10, 0),  # payday, a Friday
        dt.datetime(2026, 5, 22, 10, 0),  # +7d
        dt.datetime(2026, 6, 5, 10, 0),  # +14d
    ]
    assert retries[1].reason == (
        "insufficient funds: retry 2, next payday (15th: no usual payment day seen yet) "
        "at 10:00 Europe/Paris, a weekday (Friday 2026-05-15)"
    )


# -- cadences --------------------------------------------------------------------------

MONDAY_9 = local(PARIS, 2026, 5, 11, 9, 0)


@pytest.mark.parametrize(
    ("code", "days"),
    [
        ("generic_decline", [(5, 14), (5, 19), (5, 26)]),  # +3 Thu, +5 Tue, +7 Tue
        ("some_new_code", [(5, 14), (5, 19), (5, 26)]),
        ("do_not_honor", [(5, 12), (5, 15), (5, 22), (6, 5)]),
        ("card_velocity_exceeded", [(5, 12), (5, 14)]),
    ],
)
def test_scheduled_cadences(code, days):
    retries = plan(MONDAY_9, C.SCHEDULED, code)
    assert [at_local(r, PARIS) for r in retries] == [
        dt.datetime(2026, m, d, 10, 0) for m, d in days
    ]
    assert all(r.automatic and r.landed for r in retries)


def test_offsets_count_from_the_previous_landed_attempt():
    friday = local(PARIS, 2026, 5, 15, 11, 0)
    retries = plan(friday, C.SCHEDULED, "card_velocity_exceeded")
    # +1d = Saturday -> Monday 18th; +2d from Monday = Wednesday 20th
    assert [at_local(r, PARIS).date() for r in retries] == [
        dt.date(2026, 5, 18),
        dt.date(2026, 5, 20),
    ]


def test_immediate_quick_retries_then_as_scheduled():
    failure = dt.datetime(2026, 5, 11, 7, 0, tzinfo=UTC)
    retries = plan(failure, C.IMMEDIATE, "processing_error")
    assert [r.at for r in retries[:3]] == [
        dt.datetime(2026, 5, 11, 7, 10, tzinfo=UTC),
        dt.datetime(2026, 5, 11, 8, 10, tzinfo=UTC),
        dt.datetime(2026, 5, 11, 12, 10, tzinfo=UTC),
    ]
    assert [r.landed for r in retries] == [False, False, False, True]
    assert at_local(retries[3], PARIS) == dt.datetime(2026, 5, 15, 10, 0)  # +3d, past 10:00
    assert len(retries) == 4  # the campaign's 4 automatic retries


def test_plan_resumes_at_attempts_so_far_and_stops_at_the_cap():
    retries = plan(MONDAY_9, C.SCHEDULED, "do_not_honor", attempts_so_far=2)
    assert len(retries) == 2
    assert retries[0].reason.startswith("do not honor: retry 3, 7 days after")
    assert plan(MONDAY_9, C.SCHEDULED, "do_not_honor", attempts_so_far=4) == []
    assert plan(MONDAY_9, C.SCHEDULED, "do_not_honor", attempts_so_far=9) == []
    lowered = Policy(max_auto_retries=2)
    assert len(plan(MONDAY_9, C.SCHEDULED, "do_not_honor", policy=lowered)) == 2
    assert len(plan(MONDAY_9, C.IMMEDIATE, "processing_error", policy=lowered)) == 2


@pytest.mark.parametrize("cls", [C.CUSTOMER_ACTION, C.NO_RECOVERY])
def test_no_blind_retries(cls):
    assert plan(MONDAY_9, cls, "expired_card") == []


def test_window_drops_late_retries():
    retries = plan(
        MONDAY_9, C.SCHEDULED, "do_not_honor", window_ends_at=local(PARIS, 2026, 5, 22, 10, 0)
    )
    assert len(retries) == 2  # the 22nd at 10:00 is the window's end, excluded


def test_late_planning_never_plans_in_the_past():
    now = MONDAY_9 + 10 * DAY
    retries = plan(MONDAY_9, C.SCHEDULED, "do_not_honor", now=now)
    assert retries[0].at >= now
    assert "(that time had passed)" in retries[0].reason
    quick = plan(MONDAY_9, C.IMMEDIATE, "processing_error", now=now)
    assert quick[0].at == now


def test_workspace_cadences():
    policy = Policy(cadences={"default": (DAY, PAYDAY), "do_not_honor": (2 * DAY,)})
    assert len(plan(MONDAY_9, C.SCHEDULED, "do_not_honor", policy=policy)) == 1
    retries = plan(MONDAY_9, C.SCHEDULED, "generic_decline", policy=policy)
    assert [at_local(r, PARIS).date() for r in retries] == [
        dt.date(2026, 5, 12),
        dt.date(2026, 5, 15),
    ]


def test_reason_explains_why_now():
    reason = plan(MONDAY_9, C.SCHEDULED, "generic_decline")[1].reason
    assert reason == (
        "generic decline: retry 2, 5 days after the previous attempt at 10:00 Europe/Paris, "
        "a weekday (Tuesday 2026-05-19)"
    )


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone"):
        plan_retries(
            dt.datetime(2026, 5, 11),
            C.SCHEDULED,
            "x",
            tz=PARIS,
            attempts_so_far=0,
            now=MONDAY_9,
        )


# -- card change -----------------------------------------------------------------------


def test_retry_after_card_change_is_24h_later_landed_and_manual():
    changed = local(PARIS, 2026, 5, 14, 15, 0)  # Thursday afternoon
    retry = retry_after_card_change(changed, last_failure_at=MONDAY_9, tz=PARIS, now=changed)
    assert at_local(retry, PARIS) == dt.datetime(2026, 5, 18, 10, 0)  # Fri 15:00 -> Monday
    assert retry.automatic is False
    assert "24 h after the change" in retry.reason


def test_retry_after_card_change_only_if_changed_since_the_failure():
    assert (
        retry_after_card_change(MONDAY_9, last_failure_at=MONDAY_9, tz=PARIS, now=MONDAY_9) is None
    )
    earlier = MONDAY_9 - DAY
    assert (
        retry_after_card_change(earlier, last_failure_at=MONDAY_9, tz=PARIS, now=MONDAY_9) is None
    )
    assert retry_after_card_change(MONDAY_9, last_failure_at=None, tz=PARIS, now=MONDAY_9)


@pytest.mark.parametrize(
    ("customer", "workspace", "expected"),
    [
        ("America/New_York", PARIS, "America/New_York"),
        (None, PARIS, PARIS),
        ("", PARIS, PARIS),
        ("Mars/Olympus_Mons", PARIS, PARIS),
        ("../etc/passwd", PARIS, PARIS),
        (None, "Not/AZone", "UTC"),
        (None, None, "UTC"),
    ],
)
def test_pick_timezone(customer, workspace, expected):
    assert pick_timezone(customer, workspace) == expected
