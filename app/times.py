"""Moments and zones: UTC in the database, a merchant's or a customer's zone at the edge."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def aware(moment: dt.datetime) -> dt.datetime:
    """``moment`` with its zone: a naive one (SQLite forgets zones) is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def zone(name: str | None) -> ZoneInfo:
    """The IANA zone ``name``, or UTC for a missing or unknown one."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")
