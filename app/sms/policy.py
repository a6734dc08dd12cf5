"""The rules of SMS dunning as plain functions: phone numbers, consent, the reply
keywords, quiet hours, segments, the monthly window and when the texts of a campaign
go. No I/O, no Flask, no clock reads (``now`` is passed in)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ..times import zone

#: The Stripe customer metadata key a merchant sets when the customer agreed to texts:
#: ``true`` (or ``yes``, ``1``) or the moment they agreed (``2026-05-01T10:00:00Z``).
CONSENT_KEY = "backstop_sms_consent"
SEND_TIME = dt.time(10, 0)
"""Texts go when the emails do, 10:00 in the customer's time, on days of their own: a
whole number of days from any email, so the 24-hour gap between two messages of a
campaign (DESIGN §4) holds without pushing either."""
DEFAULT_TOUCH_DAYS = (1, 5)
MAX_TOUCHES = 4
MAX_DAY = 29
DEFAULT_QUIET = (21 * 60, 9 * 60)
CAP_RANGE = (1, 100_000)
_LAST_TEXT_MARGIN = dt.timedelta(minutes=10)

# -- phone numbers -------------------------------------------------------------------------

#: Calling codes and trunk prefixes for numbers a merchant stored without ``+``: the
#: customer's address country says which (others must be stored in E.164).
CALLING_CODES: Mapping[str, tuple[str, str]] = {
    "US": ("1", "1"),
    "CA": ("1", "1"),
    "GB": ("44", "0"),
    "IE": ("353", "0"),
    "DE": ("49", "0"),
    "AT": ("43", "0"),
    "CH": ("41", "0"),
    "FR": ("33", "0"),
    "BE": ("32", "0"),
    "NL": ("31", "0"),
    "ES": ("34", ""),
    "IT": ("39", ""),
    "PT": ("351", ""),
    "AU": ("61", "0"),
    "NZ": ("64", "0"),
    "MX": ("52", ""),
}
_SEPARATORS = re.compile(r"[\s().\-/]")
_E164 = re.compile(r"\+[1-9]\d{6,14}")


def normalise_phone(raw: str | None, country: str | None = None) -> str | None:
    """``raw`` as E.164 (``+4915112345678``), or None when it cannot be one. A number
    without ``+`` or ``00`` is read in ``country`` (an ISO code) when we know its
    calling code; otherwise it is refused rather than guessed."""
    if not raw or not isinstance(raw, str) or len(raw) > 40:
        return None
    text = _SEPARATORS.sub("", raw.strip())
    if text.startswith("00"):
        text = "+" + text[2:]
    if not text.startswith("+"):
        code = CALLING_CODES.get((country or "").upper())
        if code is None or not text.isdigit():
            return None
        calling, trunk = code
        if calling == "1" and len(text) == 11 and text.startswith("1"):
            text = text[1:]
        elif trunk and text.startswith(trunk):
            text = text[len(trunk) :]
        text = f"+{calling}{text}"
    return text if _E164.fullmatch(text) else None


def masked(phone: str) -> str:
    """``+49 ••• 567``: enough for a merchant to recognise it in a log."""
    return f"{phone[:3]} ••• {phone[-3:]}" if len(phone) > 6 else phone


def has_consent(metadata: Mapping[str, Any] | None) -> bool:
    """Whether the customer agreed to texts: the merchant set :data:`CONSENT_KEY` to
    yes or to the moment of consent. A phone number alone is never consent."""
    value = (metadata or {}).get(CONSENT_KEY)
    if not isinstance(value, str):
        return False
    text = value.strip().lower()
    if text in ("true", "yes", "1"):
        return True
    try:
        dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


# -- replies ---------------------------------------------------------------------------------

STOP, START, HELP = "stop", "start", "help"
#: Twilio's standard opt-out, opt-in and help keywords (its Advanced Opt-Out list).
KEYWORDS: Mapping[str, str] = {
    **dict.fromkeys(
        ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"), STOP
    ),
    **dict.fromkeys(("START", "UNSTOP", "YES"), START),
    **dict.fromkeys(("HELP", "INFO"), HELP),
}


def keyword_of(body: str | None, opt_out_type: str | None = None) -> str | None:
    """What a reply asks for: ``stop``, ``start``, ``help`` or None (any other text).
    Twilio's own verdict (``OptOutType``) wins; else the reply is one keyword, in any
    case, with surrounding spaces and punctuation ignored."""
    verdict = (opt_out_type or "").strip().upper()
    if verdict in ("STOP", "START", "HELP"):
        return verdict.lower()
    word = re.sub(r"[^A-Za-z]", "", (body or "").strip())
    if len(word) > 12 or len((body or "").split()) > 1:
        return None
    return KEYWORDS.get(word.upper())


# -- quiet hours --------------------------------------------------------------------------------


def is_quiet(minute: int, start: int | None, end: int | None) -> bool:
    """Whether the local ``minute`` of the day falls in [start, end) (over midnight when
    start > end)."""
    if start is None or end is None or start == end:
        return False
    if start < end:
        return start <= minute < end
    return minute >= start or minute < end


def next_allowed(
    at: dt.datetime, tz: str, start: int | None, end: int | None
) -> dt.datetime | None:
    """The first minute at or after ``at`` outside the quiet hours in ``tz``, in UTC;
    None when ``at`` is not quiet."""
    zone_info = zone(tz)
    local = at.astimezone(zone_info)
    if not is_quiet(local.hour * 60 + local.minute, start, end):
        return None
    assert end is not None
    day = local.date()
    if start is not None and start > end and local.hour * 60 + local.minute >= start:
        day += dt.timedelta(days=1)
    until = dt.datetime.combine(day, dt.time(end // 60, end % 60), tzinfo=zone_info)
    return until.astimezone(dt.UTC)


def clock_label(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def parse_clock(text: str) -> int | None:
    """``"21:00"`` as 1260 minutes; None when it is not a time of day."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", (text or "").strip())
    if not match:
        return None
    hour, minute = int(match[1]), int(match[2])
    return hour * 60 + minute if hour < 24 and minute < 60 else None


# -- segments ---------------------------------------------------------------------------------

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")


def segments(body: str) -> tuple[int, str]:
    """How many SMS parts ``body`` takes and in which encoding: GSM-7 (160 characters,
    153 a part when split; the extension table's characters count twice) unless a
    character needs UCS-2 (70, 67 a part; characters beyond the BMP count twice)."""
    if all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in body):
        units = sum(2 if c in GSM7_EXTENDED else 1 for c in body)
        single, part, encoding = 160, 153, "gsm7"
    else:
        units = sum(2 if ord(c) > 0xFFFF else 1 for c in body)
        single, part, encoding = 70, 67, "ucs2"
    if units <= single:
        return 1, encoding
    return -(-units // part), encoding


# -- the cap's month -----------------------------------------------------------------------------


def month_of(at: dt.datetime, tz: str) -> str:
    """The calendar month of ``at`` in ``tz``, as ``YYYY-MM`` (the cap's window)."""
    return at.astimezone(zone(tz)).strftime("%Y-%m")


# -- when the texts go ----------------------------------------------------------------------------


def touch_key(day: int) -> str:
    return f"d{day}"


def send_time(failed_at: dt.datetime, day: int, tz: str) -> dt.datetime:
    """10:00 local, ``day`` calendar days after the first email's day (the first 10:00
    at or after the failure, as the emails count): a text is then whole days from every
    email of the sequence."""
    zone_info = zone(tz)
    first = dt.datetime.combine(
        failed_at.astimezone(zone_info).date(), SEND_TIME, tzinfo=zone_info
    ).astimezone(dt.UTC)
    if first < failed_at:
        first = dt.datetime.combine(
            failed_at.astimezone(zone_info).date() + dt.timedelta(days=1),
            SEND_TIME,
            tzinfo=zone_info,
        ).astimezone(dt.UTC)
    local_day = first.astimezone(zone_info).date() + dt.timedelta(days=day)
    return dt.datetime.combine(local_day, SEND_TIME, tzinfo=zone_info).astimezone(dt.UTC)


def plan_texts(
    days: Iterable[int], failed_at: dt.datetime, tz: str, *, window_ends_at: dt.datetime
) -> list[tuple[str, int, dt.datetime]]:
    """(touch key, day, when in UTC) of each text, in order; none after the window ends."""
    if failed_at.tzinfo is None:
        raise ValueError("failed_at must be timezone-aware")
    planned = []
    for day in sorted(set(days)):
        at = send_time(failed_at, day, tz)
        if at <= window_ends_at - _LAST_TEXT_MARGIN:
            planned.append((touch_key(day), day, at))
    return planned


def touch_days_errors(days: list[int], email_days: Iterable[int]) -> list[str]:
    """What is wrong with the days a merchant chose for texts."""
    errors = []
    if len(days) > MAX_TOUCHES:
        errors.append(f"send at most {MAX_TOUCHES} texts per failed payment")
    if any(not 0 <= d <= MAX_DAY for d in days):
        errors.append(f"texts go 0 to {MAX_DAY} days after the failure")
    if len(set(days)) != len(days):
        errors.append("each day can carry one text")
    clash = sorted(set(days) & set(email_days))
    if clash:
        words = ", ".join(str(d) for d in clash)
        errors.append(
            f"day {words} already has an email: a text that day would wait 24 hours behind it"
        )
    return errors


def position_label(position: int, count: int) -> str:
    """The text in the merchant's words: "first reminder text" ... "final reminder text"."""
    if position == count and count > 1:
        return "final reminder text"
    ordinals = ("first", "second", "third", "fourth")
    word = ordinals[position - 1] if 0 < position <= len(ordinals) else f"#{position}"
    return f"{word} reminder text"
