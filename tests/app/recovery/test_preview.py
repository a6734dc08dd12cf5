"""The retry policy's preview as a pure function: a sample failure in, the plan out."""

from __future__ import annotations

import datetime as dt

from app.recovery import preview
from app.recovery.declines import DeclineClass
from app.recovery.policy import DEFAULT_POLICY

NOW = dt.datetime(2026, 3, 6, 14, 30, 45, tzinfo=dt.UTC)  # a Friday


def test_the_default_sample_is_insufficient_funds_on_visa_now() -> None:
    shown = preview.build(DEFAULT_POLICY, {}, "Europe/Paris", NOW)
    assert (shown.code, shown.brand, shown.tz) == ("insufficient_funds", "visa", "Europe/Paris")
    assert shown.failed_at == NOW.replace(second=0)
    assert shown.cls is DeclineClass.SCHEDULED and shown.error is None
    assert shown.retries and all(r.at > shown.failed_at for r in shown.retries)
    assert any("Visa" in limit for limit in shown.limits)


def test_a_local_failure_time_is_read_in_the_chosen_zone() -> None:
    args = {"tz": "America/New_York", "at": "2026-03-06T09:15", "brand": "mastercard"}
    shown = preview.build(DEFAULT_POLICY, args, "UTC", NOW)
    assert shown.failed_at == dt.datetime(2026, 3, 6, 14, 15, tzinfo=dt.UTC)
    assert any("Mastercard" in limit for limit in shown.limits)


def test_bad_choices_say_so_and_plan_nothing() -> None:
    for args in ({"code": "DROP TABLE"}, {"brand": "diners"}, {"tz": "Mars/Olympus"}):
        shown = preview.build(DEFAULT_POLICY, args, "UTC", NOW)
        assert shown.error and not shown.retries, args
    shown = preview.build(DEFAULT_POLICY, {"at": "next tuesday"}, "UTC", NOW)
    assert shown.error == "The failure time must look like 2026-03-06T15:30."


def test_a_card_that_must_never_be_retried_is_blocked() -> None:
    shown = preview.build(DEFAULT_POLICY, {"code": "stolen_card"}, "UTC", NOW)
    assert shown.cls is DeclineClass.NO_RECOVERY
    assert not shown.retries


def test_the_merchants_own_codes_get_a_group() -> None:
    groups = dict(preview.code_groups(DEFAULT_POLICY))
    assert "insufficient_funds" in groups["Retried on a cadence"]
    assert "Your own codes" not in groups
