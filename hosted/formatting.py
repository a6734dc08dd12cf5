"""Billing periods on the hosted pages, in the page's language ("month", "3 months",
"year"). Amounts and dates are ``app.i18n``'s filters: ``localised_money`` and
``localised_date``."""

from __future__ import annotations

from flask import Flask
from flask_babel import ngettext


def period(interval: str, count: int = 1) -> str:
    """The billing period after a price: "month", "3 months", "year"."""
    count = max(int(count or 1), 1)
    if interval == "year":
        return ngettext("year", "%(num)d years", count)
    if interval == "week":
        return ngettext("week", "%(num)d weeks", count)
    if interval == "day":
        return ngettext("day", "%(num)d days", count)
    return ngettext("month", "%(num)d months", count)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["billing_period"] = period
