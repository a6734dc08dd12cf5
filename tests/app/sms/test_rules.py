"""The pure rules of SMS dunning: numbers, consent, reply keywords, quiet hours (over
midnight, across DST), segments, the cap's month and when texts go."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.sms import copy, policy

UTC = dt.UTC


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("+1 (415) 555-0134", None, "+14155550134"),
        ("0049 151 1234 5678", None, "+4915112345678"),
        ("0151 12345678", "DE", "+4915112345678"),
        ("(415) 555-0134", "US", "+14155550134"),
        ("1 415 555 0134", "US", "+14155550134"),
        ("07700 900123", "GB", "+447700900123"),
        ("0151 12345678", None, None),  # no country: never guessed
        ("0151 12345678", "ZZ", None),
        ("+0 123", None, None),
        ("call me", "US", None),
        ("", "US", None),
        (None, None, None),
    ],
)
def test_numbers_become_e164_or_nothing(raw, country, expected) -> None:
    assert policy.normalise_phone(raw, country) == expected


@pytest.mark.parametrize(
    ("metadata", "agreed"),
    [
        ({"backstop_sms_consent": "true"}, True),
        ({"backstop_sms_consent": "YES"}, True),
        ({"backstop_sms_consent": "2026-05-01T10:00:00Z"}, True),
        ({"backstop_sms_consent": "false"}, False),
        ({"backstop_sms_consent": "maybe"}, False),
        ({"backstop_sms_consent": ""}, False),
        ({"phone": "+14155550134"}, False),  # a number alone is no consent
        (None, False),
    ],
)
def test_consent_is_explicit(metadata, agreed) -> None:
    assert policy.has_consent(metadata) is agreed


@pytest.mark.parametrize(
    ("body", "verdict"),
    [
        ("STOP", "stop"),
        (" stop ", "stop"),
        ("Stop.", "stop"),
        ("unsubscribe", "stop"),
        ("STOPALL", "stop"),
        ("quit", "stop"),
        ("Cancel", "stop"),
        ("END", "stop"),
        ("start", "start"),
        ("UNSTOP", "start"),
        ("help", "help"),
        ("please stop texting me", None),
        ("when is my payment due?", None),
        ("", None),
    ],
)
def test_reply_keywords(body, verdict) -> None:
    assert policy.keyword_of(body) == verdict


def test_twilios_own_verdict_wins() -> None:
    assert policy.keyword_of("arrêt", "STOP") == "stop"
    assert policy.keyword_of("whatever", "start") == "start"


def test_quiet_hours_over_midnight_move_to_their_end() -> None:
    start, end = 21 * 60, 9 * 60
    evening = dt.datetime(2026, 7, 1, 21, 30, tzinfo=ZoneInfo("Europe/Paris"))
    assert policy.next_allowed(evening, "Europe/Paris", start, end) == dt.datetime(
        2026, 7, 2, 7, 0, tzinfo=UTC
    )
    early = dt.datetime(2026, 7, 2, 3, 0, tzinfo=ZoneInfo("Europe/Paris"))
    assert policy.next_allowed(early, "Europe/Paris", start, end) == dt.datetime(
        2026, 7, 2, 7, 0, tzinfo=UTC
    )
    noon = dt.datetime(2026, 7, 2, 12, 0, tzinfo=ZoneInfo("Europe/Paris"))
    assert policy.next_allowed(noon, "Europe/Paris", start, end) is None
    assert policy.next_allowed(noon, "Europe/Paris", None, None) is None


def test_quiet_hours_within_a_day_and_across_a_dst_change() -> None:
    # 08:00-11:00 quiet; on the spring-forward day in New York 10:00 local is 14:00 UTC.
    at = dt.datetime(2026, 3, 8, 9, 0, tzinfo=ZoneInfo("America/New_York"))
    moved = policy.next_allowed(at, "America/New_York", 8 * 60, 11 * 60)
    assert moved == dt.datetime(2026, 3, 8, 15, 0, tzinfo=UTC)
    assert moved.astimezone(ZoneInfo("America/New_York")).hour == 11


@given(
    st.datetimes(
        min_value=dt.datetime(2025, 1, 1),
        max_value=dt.datetime(2028, 12, 31),
        timezones=st.just(UTC),
    ),
    st.integers(0, 1439),
    st.integers(0, 1439),
    st.sampled_from(["UTC", "Europe/Berlin", "America/Los_Angeles", "Asia/Kolkata"]),
)
def test_a_moved_text_lands_outside_quiet_hours_and_later(at, start, end, tz) -> None:
    moved = policy.next_allowed(at, tz, start, end)
    if moved is None:
        local = at.astimezone(ZoneInfo(tz))
        assert not policy.is_quiet(local.hour * 60 + local.minute, start, end)
        return
    assert moved > at - dt.timedelta(minutes=1)
    assert moved - at <= dt.timedelta(hours=26)
    local = moved.astimezone(ZoneInfo(tz))
    assert not policy.is_quiet(local.hour * 60 + local.minute, start, end) or (
        # a quiet end that does not exist that day (a DST gap) lands just past it
        local.hour * 60 + local.minute != end
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("a" * 160, (1, "gsm7")),
        ("a" * 161, (2, "gsm7")),
        ("a" * 306, (2, "gsm7")),
        ("a" * 307, (3, "gsm7")),
        ("€" * 80, (1, "gsm7")),  # the extension table counts twice
        ("€" * 81, (2, "gsm7")),
        ("Grüße, élève, año", (1, "gsm7")),
        ("ç" * 70, (1, "ucs2")),
        ("ç" * 71, (2, "ucs2")),
        ("😀" * 35, (1, "ucs2")),
        ("😀" * 36, (2, "ucs2")),
    ],
)
def test_segments(body, expected) -> None:
    assert policy.segments(body) == expected


def test_the_copy_stays_one_gsm7_segment_with_a_typical_link() -> None:
    link = "https://pay.example.com/update-card/" + "x" * 43
    body = copy.reminder(merchant="Studio Yoga Co", amount="$29.00", link=link, is_first=True)
    assert policy.segments(body) == (1, "gsm7")
    assert body.endswith("Reply STOP to opt out.") and link in body


def test_babels_spaces_and_quotes_are_made_plain() -> None:
    body = copy.reminder(
        merchant="L\u2019Atelier\u00a0Café", amount="29,00\u202f€", link="L", is_first=False
    )
    assert "L'Atelier Café" in body and "29,00 €" in body
    assert policy.segments(body)[1] == "gsm7"


def test_long_merchant_names_are_shortened() -> None:
    assert len(copy.merchant_name("A" * 80)) == copy.MAX_MERCHANT


def test_the_caps_month_is_the_workspaces() -> None:
    late = dt.datetime(2026, 6, 30, 23, 30, tzinfo=UTC)
    assert policy.month_of(late, "UTC") == "2026-06"
    assert policy.month_of(late, "Europe/Berlin") == "2026-07"


def test_texts_go_whole_days_from_the_emails_at_ten() -> None:
    failed = dt.datetime(2026, 7, 1, 11, 0, tzinfo=UTC)  # after 10:00: emails start next day
    window = failed + dt.timedelta(days=30)
    plan = policy.plan_texts([5, 1], failed, "UTC", window_ends_at=window)
    assert plan == [
        ("d1", 1, dt.datetime(2026, 7, 3, 10, 0, tzinfo=UTC)),
        ("d5", 5, dt.datetime(2026, 7, 7, 10, 0, tzinfo=UTC)),
    ]
    short_window = failed + dt.timedelta(days=29)  # no text after the window ends
    assert policy.plan_texts([29], failed, "UTC", window_ends_at=short_window) == []


def test_touch_days_are_checked_against_the_emails() -> None:
    assert policy.touch_days_errors([1, 5], (0, 3, 7, 14)) == []
    errors = policy.touch_days_errors([3, 3, 40, 1, 2], (0, 3, 7, 14))
    assert any("at most 4" in e for e in errors)
    assert any("0 to 29" in e for e in errors)
    assert any("one text" in e for e in errors)
    assert any("day 3 already has an email" in e for e in errors)
