"""The retry policy as text: durations, cadences and the settings form (pure)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.recovery.declines import DeclineClass
from app.recovery.policy import DEFAULT_POLICY, LEGAL_MAXIMA, PAYDAY, Policy
from app.recovery.policy_text import (
    PolicyForm,
    PolicyTextError,
    form_from_fields,
    format_duration,
    format_steps,
    parse_duration,
    parse_steps,
    policy_from_form,
    policy_to_form,
)

MINUTE, HOUR, DAY = dt.timedelta(minutes=1), dt.timedelta(hours=1), dt.timedelta(days=1)

durations = st.integers(min_value=0, max_value=400 * 24 * 60).map(lambda m: m * MINUTE)
steps = st.lists(st.one_of(durations, st.just(PAYDAY)), max_size=6).map(tuple)
UNIT_WORDS = {"d": ("d", "day", "days"), "h": ("h", "hr", "hours"), "m": ("m", "min", "minutes")}


@st.composite
def duration_texts(draw) -> tuple[str, dt.timedelta]:
    """Any way a merchant may type a duration, and what it means."""
    units = draw(st.lists(st.sampled_from("dhm"), min_size=1, max_size=3, unique=True))
    units.sort(key="dhm".index)
    parts, total = [], dt.timedelta(0)
    for unit in units:
        count = draw(st.integers(min_value=0, max_value=999))
        word = draw(st.sampled_from(UNIT_WORDS[unit]))
        space = draw(st.sampled_from(["", " "]))
        parts.append(f"{count}{space}{word}")
        total += count * {"d": DAY, "h": HOUR, "m": MINUTE}[unit]
    joiner = draw(st.sampled_from(["", " ", "  "]))
    text = joiner.join(parts)
    return draw(st.sampled_from([text, text.upper(), f" {text} "])), total


# -- durations ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1d", DAY),
        ("36h", 36 * HOUR),
        ("1d12h", DAY + 12 * HOUR),
        ("1d 12h", DAY + 12 * HOUR),
        ("90 min", 90 * MINUTE),
        ("2 days", 2 * DAY),
        (" 4H ", 4 * HOUR),
        ("10m", 10 * MINUTE),
        ("0m", dt.timedelta(0)),
        ("1 day 2 hours 3 minutes", DAY + 2 * HOUR + 3 * MINUTE),
    ],
)
def test_parse_duration(text, expected) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "1",
        "d",
        "1x",
        "1.5d",
        "-1d",
        "+1d",
        "12h1d",
        "1d1d",
        "1d, 2d",
        "payday",
        "1234567d",
        "1d 2",
        "one day",
        "1dd",
    ],
)
def test_parse_duration_refuses(text) -> None:
    with pytest.raises(ValueError, match=r"duration|unit|once"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("offset", "text"),
    [
        (DAY, "1d"),
        (36 * HOUR, "1d12h"),
        (90 * MINUTE, "1h30m"),
        (14 * DAY, "14d"),
        (dt.timedelta(0), "0m"),
        (DAY + MINUTE, "1d1m"),
    ],
)
def test_format_duration(offset, text) -> None:
    assert format_duration(offset) == text


@pytest.mark.parametrize(
    "offset", [dt.timedelta(seconds=30), -DAY, dt.timedelta(minutes=1, microseconds=1)]
)
def test_format_duration_refuses_what_cannot_be_typed(offset) -> None:
    with pytest.raises(ValueError, match="minutes"):
        format_duration(offset)


@given(durations)
def test_parse_reads_back_what_format_writes(offset) -> None:
    assert parse_duration(format_duration(offset)) == offset


@given(duration_texts())
def test_format_of_parse_is_the_canonical_text(case) -> None:
    text, meaning = case
    canonical = format_duration(parse_duration(text))
    assert parse_duration(text) == meaning
    assert canonical == format_duration(meaning)
    assert format_duration(parse_duration(canonical)) == canonical  # a fixed point
    assert canonical == canonical.strip().lower() and " " not in canonical


# -- cadences -------------------------------------------------------------------------------


def test_parse_steps() -> None:
    assert parse_steps("1d, payday, 7d, 14d") == (DAY, PAYDAY, 7 * DAY, 14 * DAY)
    assert parse_steps("PAYDAY,2d") == (PAYDAY, 2 * DAY)
    assert parse_steps("  ") == ()
    assert parse_steps("10m, 1h, 4h", allow_payday=False) == (10 * MINUTE, HOUR, 4 * HOUR)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1d,,2d", "step 2 is empty"),
        ("1d, 2d,", "step 3 is empty"),
        ("1d, 2x", '"2x" has an unknown unit "x"'),
        ("1d; 2d", "not a duration"),
    ],
)
def test_parse_steps_names_the_bad_step(text, message) -> None:
    with pytest.raises(ValueError, match=message):
        parse_steps(text)


def test_payday_is_refused_where_it_makes_no_sense() -> None:
    with pytest.raises(ValueError, match="payday"):
        parse_steps("10m, payday", allow_payday=False)


@given(steps)
def test_steps_round_trip(cadence) -> None:
    assert parse_steps(format_steps(cadence)) == cadence
    assert format_steps(parse_steps(format_steps(cadence))) == format_steps(cadence)


# -- the form -------------------------------------------------------------------------------


def test_the_default_policy_round_trips_through_the_form() -> None:
    form = policy_to_form(DEFAULT_POLICY)
    assert form.cadences[0] == ("default", "3d, 5d, 7d")
    assert ("insufficient_funds", "1d, payday, 7d, 14d") in form.cadences
    assert form.immediate == "10m, 1h, 4h"
    assert form.caps["max_attempts_per_invoice_30d"] == "6"
    assert policy_from_form(form) == DEFAULT_POLICY


@st.composite
def policies(draw) -> Policy:
    codes = draw(st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True), max_size=4))
    cadences = {code: draw(steps.filter(bool)) for code in ["default", *codes]}
    overrides = {
        code: draw(st.sampled_from(list(DeclineClass)))
        for code in draw(st.lists(st.from_regex(r"[a-z_]{1,20}", fullmatch=True), max_size=3))
    }
    caps = {name: draw(st.integers(0, maximum)) for name, maximum in LEGAL_MAXIMA.items()}
    immediate = draw(st.lists(durations, max_size=3).map(tuple))
    return Policy(cadences=cadences, immediate_offsets=immediate, overrides=overrides, **caps)


@given(policies())
def test_any_policy_round_trips_through_the_form(policy) -> None:
    """Shape only: the form gives back exactly the policy it showed (valid or not)."""
    assert policy_from_form(policy_to_form(policy)) == policy


def test_fields_are_read_in_row_order_and_blank_rows_dropped() -> None:
    data = {
        "cadence-0-code": "default",
        "cadence-0-steps": "3d",
        "cadence-2-code": "",
        "cadence-2-steps": "",
        "cadence-10-code": "Try_Again_Later",
        "cadence-10-steps": "12h, 2d",
        "override-0-code": "generic_decline",
        "override-0-class": "immediate",
        "override-1-code": "do_not_honor",
        "override-1-class": "",
        "immediate": "5m",
        **{name: str(value) for name, value in LEGAL_MAXIMA.items()},
        "unrelated": "x",
    }
    form = form_from_fields(data)
    assert form.cadences == [("default", "3d"), ("Try_Again_Later", "12h, 2d")]
    policy = policy_from_form(form)
    assert policy.cadences == {"default": (3 * DAY,), "try_again_later": (12 * HOUR, 2 * DAY)}
    assert policy.overrides == {"generic_decline": DeclineClass.IMMEDIATE}  # blank class: none
    assert policy.immediate_offsets == (5 * MINUTE,)


def test_every_shape_error_is_reported_with_its_field_and_the_rest_still_parsed() -> None:
    current = DEFAULT_POLICY
    form = PolicyForm(
        cadences=[
            ("default", "3d, 5d"),
            ("insufficient_funds", "1d, soon"),
            ("bad code!", "1d"),
            ("", "2d"),
            ("do_not_honor", "1d"),
            ("DO_NOT_HONOR", "2d"),
        ],
        immediate="10m, payday",
        overrides=[("generic_decline", "sometimes")],
        caps={**{n: str(v) for n, v in LEGAL_MAXIMA.items()}, "max_auto_retries": "nine"},
    )
    with pytest.raises(PolicyTextError) as caught:
        policy_from_form(form, current)
    error = caught.value
    assert len(error.errors) == 7, error.errors
    assert error.fields == {
        "cadence-1-steps",
        "cadence-2-code",
        "cadence-3-code",
        "cadence-5-code",
        "immediate",
        "override-0-class",
        "max_auto_retries",
    }
    assert "'nine' is not a whole number" in str(error)
    partial = error.partial
    assert partial is not None
    assert partial.cadences["default"] == (3 * DAY, 5 * DAY)  # what parsed is kept
    assert partial.cadences["insufficient_funds"] == current.cadences["insufficient_funds"]
    assert partial.cadences["do_not_honor"] == (DAY,)
    assert partial.immediate_offsets == current.immediate_offsets
    assert partial.max_auto_retries == current.max_auto_retries
    assert partial.errors() == []


def test_meaning_is_not_checked_here() -> None:
    form = policy_to_form(DEFAULT_POLICY)
    form.caps["max_auto_retries"] = "9"
    policy = policy_from_form(form)  # a whole number: the shape is fine
    assert policy.max_auto_retries == 9
    assert any("legal maximum of 4" in e for e in policy.errors())
