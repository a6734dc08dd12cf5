"""Amounts, dates and billing periods on the hosted pages, in the page's language
(Babel, through Flask-Babel's current locale). Money is integer minor units plus an
ISO currency: the Decimal is exact, never a float."""

from __future__ import annotations

import datetime as dt

from babel.dates import format_date
from flask import Flask
from flask_babel import get_locale, ngettext

from app.i18n import current_locale
from app.i18n.formatting import format_money


def money(minor: int | None, currency: str | None) -> str:
    if minor is None or not currency:
        return ""
    # One money format for every customer page: every minor unit as Stripe counts them.
    return format_money(int(minor), currency, current_locale())


def day(moment: dt.datetime | str | None) -> str:
    if moment is None:
        return ""
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    return format_date(moment, format="long", locale=get_locale())


def period(interval: str, count: int = 1) -> str:
    """ "month", "3 months", "year" — the billing period after a price."""
    count = max(int(count or 1), 1)
    if interval == "year":
        return ngettext("year", "%(num)d years", count)
    if interval == "week":
        return ngettext("week", "%(num)d weeks", count)
    if interval == "day":
        return ngettext("day", "%(num)d days", count)
    return ngettext("month", "%(num)d months", count)


def init_app(app: Flask) -> None:
    app.jinja_env.filters["local_money"] = money
    app.jinja_env.filters["local_date"] = day
    app.jinja_env.globals["billing_period"] = period
