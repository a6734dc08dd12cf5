"""Template filters of the dashboard's pages: money, local times, sentences."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from flask import Flask

from ..accounts.masking import customer_email, customer_emails_in
from ..money import format_money
from ..recovery.cadence import pick_timezone


def local(moment: dt.datetime | None, tz: str, weekday: bool = False) -> str:
    """A UTC moment as the wall-clock time in ``tz``: ``Mon 9 Mar 2026, 10:00``."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    at = moment.astimezone(zoneinfo.ZoneInfo(pick_timezone(tz, None)))
    text = f"{at.day} {at:%b %Y, %H:%M}"
    return f"{at:%a} {text}" if weekday else text


def local_input(moment: dt.datetime, tz: str) -> str:
    """A UTC moment as a ``datetime-local`` input's value in ``tz``."""
    return f"{moment.astimezone(zoneinfo.ZoneInfo(pick_timezone(tz, None))):%Y-%m-%dT%H:%M}"


def day(moment: dt.datetime | None) -> str:
    """A moment's date as people write it: ``1 Dec 2026``."""
    return "" if moment is None else f"{moment.day} {moment:%b %Y}"


def sentence(text: str | None) -> str:
    """Stored reasons start in lower case (they are log fragments); pages show sentences."""
    return f"{text[:1].upper()}{text[1:]}" if text else ""


def register(app: Flask) -> None:
    app.add_template_filter(format_money, "money")
    app.add_template_filter(local, "local")
    app.add_template_filter(local_input, "local_input")
    app.add_template_filter(day, "day")
    app.add_template_filter(sentence, "sentence")
    app.add_template_filter(customer_email, "customer_email")
    app.add_template_filter(customer_emails_in, "customer_emails_in")
