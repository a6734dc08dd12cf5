"""Moments and zones: UTC in the database, a merchant's or a customer's zone at the edge."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def aware(moment: dt.datetime) -> dt.datetime:
    """``moment`` with its zone: a naive one (SQLite forgets zones) is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    return moment.replace(
        year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1])
    )


def zone(name: str | None) -> ZoneInfo:
    """The IANA zone ``name``, or UTC for a missing or unknown one."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def timezone_groups(names: Iterable[str]) -> list[tuple[str, list[tuple[str, str]]]]:
    """IANA zones grouped by region for a picker: ``("Europe", [("Europe/Paris", "Paris"),
    ...])``, regions and places in alphabetical order, UTC first on its own, and the
    legacy aliases (``EST``, ``Etc/GMT+5``, ``US/Pacific``) left out, as the tz database
    itself advises for new choices."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for name in names:
        region, _, place = name.partition("/")
        if region not in _REGIONS or not place:
            continue
        groups.setdefault(region, []).append((name, place.replace("_", " ").replace("/", ", ")))
    ordered = [("UTC", [("UTC", "UTC (Coordinated Universal Time)")])]
    for region in sorted(groups):
        ordered.append((region, sorted(groups[region], key=lambda choice: choice[1])))
    return ordered


_REGIONS = frozenset(
    {
        "Africa",
        "America",
        "Antarctica",
        "Arctic",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
    }
)
