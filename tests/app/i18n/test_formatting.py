"""Money, percentages and dates in the customer's language: exact, never rounded."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.i18n.formatting import amount, format_date, format_money, format_percent
from app.i18n.locales import SUPPORTED
from app.money import _THREE_DECIMAL, _ZERO_DECIMAL, minor_digits

NBSP, NNBSP = "\xa0", "\u202f"


@pytest.mark.parametrize(
    ("minor", "currency", "locale", "expected"),
    [
        (123456, "usd", "en", "$1,234.56"),
        (123456, "eur", "de", f"1.234,56{NBSP}€"),
        (123456, "eur", "fr", f"1{NNBSP}234,56{NBSP}€"),
        (123456, "eur", "es", f"1.234,56{NBSP}€"),
        (4900, "eur", "en", "€49.00"),
        (-5, "eur", "en", "-€0.05"),
        (0, "gbp", "en", "£0.00"),
        (1234, "jpy", "en", "¥1,234"),  # zero-decimal: 1234 yen, not 12.34
        (1234, "jpy", "de", f"1.234{NBSP}¥"),
        (1234, "kwd", "en", "KWD1.234"),  # three decimals: 1.234 dinars
        (1234, "bhd", "fr", f"1,234{NBSP}BHD"),
        (12345, "isk", "en", "ISK123.45"),  # Stripe counts ISK in hundredths
        (2900, "USD", "es", f"29,00{NBSP}US$"),
    ],
)
def test_money(minor, currency, locale, expected) -> None:
    assert format_money(minor, currency, locale) == expected


def test_amount_is_exact_decimal_from_integers() -> None:
    assert amount(12345, "usd") == Decimal("123.45")
    assert amount(10**30 + 1, "usd") == Decimal("10000000000000000000000000000.01")
    assert amount(7, "jpy") == Decimal(7) and amount(7, "kwd") == Decimal("0.007")
    assert str(amount(0, "usd")) == "0.00" and str(amount(-5, "eur")) == "-0.05"


currencies = st.sampled_from(
    ["usd", "eur", "gbp", "chf", "isk", "huf", *sorted(_ZERO_DECIMAL), *sorted(_THREE_DECIMAL)]
)


@given(st.integers(min_value=-(10**15), max_value=10**15), currencies, st.sampled_from(SUPPORTED))
def test_every_minor_unit_is_shown(minor, currency, locale) -> None:
    """Reading the digits back gives the minor units exactly: no float, no rounding."""
    text = format_money(minor, currency, locale)
    digits = re.sub(r"\D", "", text.replace(currency.upper(), ""))
    assert int(digits) == abs(minor)
    assert text.startswith("-") == (minor < 0)
    decimals = minor_digits(currency)
    separator = "." if locale == "en" else ","
    if decimals:
        assert re.search(rf"\{separator}\d{{{decimals}}}(?!\d)", text), text
    else:
        assert not re.search(r"[.,]\d{1,2}(?!\d)", text), text


@given(st.integers(min_value=0, max_value=10**9), currencies)
def test_the_same_amount_reads_the_same_in_every_language(minor, currency) -> None:
    readings = {re.sub(r"\D", "", format_money(minor, currency, loc)) for loc in SUPPORTED}
    assert len(readings) == 1


@pytest.mark.parametrize(
    ("percent", "locale", "expected"),
    [
        (25, "en", "25%"),
        (25, "de", f"25{NBSP}%"),
        (12.5, "fr", f"12,5{NBSP}%"),
        ("100", "es", f"100{NBSP}%"),
    ],
)
def test_percent(percent, locale, expected) -> None:
    assert format_percent(percent, locale) == expected


DAY = dt.date(2025, 12, 29)


@pytest.mark.parametrize(
    ("locale", "form", "expected"),
    [
        ("en", "long", "December 29, 2025"),
        ("de", "long", "29. Dezember 2025"),
        ("fr", "long", "29 décembre 2025"),
        ("es", "long", "29 de diciembre de 2025"),
        ("en", "day_month", "December 29"),
        ("de", "day_month", "29. Dezember"),
        ("es", "day_month", "29 de diciembre"),
        ("en", "month_year", "December 2025"),
        ("fr", "month_year", "décembre 2025"),
        ("es", "month_year", "diciembre de 2025"),
    ],
)
def test_dates(locale, form, expected) -> None:
    assert format_date(DAY, locale, form) == expected


def test_a_datetime_shows_its_own_calendar_day() -> None:
    late = dt.datetime(2025, 12, 29, 23, 30, tzinfo=dt.UTC)
    assert format_date(late, "de") == "29. Dezember 2025"


@given(st.dates(min_value=dt.date(1900, 1, 1)), st.sampled_from(SUPPORTED))
def test_every_date_names_its_year_and_day(day, locale) -> None:
    text = format_date(day, locale)
    assert str(day.year) in text and str(day.day) in text
