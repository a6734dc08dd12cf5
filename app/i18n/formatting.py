"""Money and dates as a customer reads them in their language, through Babel.

Money is integer minor units plus an ISO currency (DESIGN §4): the amount becomes a
``Decimal`` from integers only, with exactly as many decimals as Stripe counts for the
currency (``app.money``), and is shown with all of them, never rounded by the
locale's own idea of the currency. Pure: the locale is an argument.
"""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_skeleton

from ..money import minor_digits
from .locales import DEFAULT

#: Babel's date widths, plus two patterns of our own named by what they show.
DATE_FORMATS = ("short", "medium", "long", "full", "day_month", "month_year")
_SKELETONS = {"day_month": "MMMMd", "month_year": "yMMMM"}


def amount(minor: int, currency: str | None) -> Decimal:
    """``minor`` units as an exact decimal amount (12345 usd -> Decimal("123.45"))."""
    sign, figures, _ = Decimal(int(minor)).as_tuple()
    # Built from its parts: exact at any size (arithmetic would round to 28 digits).
    return Decimal((sign, figures, -minor_digits(currency)))


def format_money(minor: int, currency: str | None, locale: str = DEFAULT) -> str:
    """``format_money(123456, "eur", "de") == "1.234,56\\xa0€"``: every minor unit shown."""
    code = (currency or "").upper()
    digits = minor_digits(code)
    where = Locale.parse(locale)
    pattern = copy.copy(where.currency_formats["standard"])
    pattern.frac_prec = (digits, digits)
    return pattern.apply(amount(minor, code), where, currency=code, currency_digits=False)


def format_date(value: dt.date | dt.datetime, locale: str = DEFAULT, format: str = "long") -> str:
    """A date (a datetime's own calendar day) in ``locale``: ``format`` is one of
    :data:`DATE_FORMATS` (``long``: "December 29, 2025", "29. Dezember 2025")."""
    day = value.date() if isinstance(value, dt.datetime) else value
    if format in _SKELETONS:
        return format_skeleton(_SKELETONS[format], day, locale=locale)
    return babel_format_date(day, format=format, locale=locale)


def format_percent(percent: int | float | str | Decimal, locale: str = DEFAULT) -> str:
    """``25`` (a percentage) as "25%", "25 %" (German, French and Spanish spacing);
    up to two decimals are kept (``12.5`` is "12.5%", never rounded to 12)."""
    where = Locale.parse(locale)
    pattern = copy.copy(where.percent_formats[None])
    pattern.frac_prec = (0, 2)
    return pattern.apply(Decimal(str(percent)) / 100, where)
