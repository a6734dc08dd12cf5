"""Brute-force throttle for sign-in, the 2FA code form and password-reset requests.

Each key (an account, an address, a half-signed-in user) counts its failures; past a
few free ones, the next attempt waits twice as long as the last, up to a cap. The cap is
what keeps an attacker from locking a real user out for good: the account's wait never
passes 15 minutes, a quiet key is forgotten, and a password reset clears the account's
count. The per-address key has a higher allowance and a longer cap, so one address
guessing across many accounts is slowed without touching anyone else.

The law (:func:`delay_after`) is pure; the counters live in ``sign_in_throttle``.
Services flush; callers commit.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .models import SignInThrottle

#: Past this many doublings the cap has long been reached; bounds the arithmetic.
_MAX_DOUBLINGS = 40


@dataclass(frozen=True)
class Law:
    free: int  # failures that cost nothing
    base: dt.timedelta  # the wait after the first failure past the free ones
    cap: dt.timedelta  # no wait is longer
    forget_after: dt.timedelta  # a key quiet this long starts again from zero


ACCOUNT = Law(5, dt.timedelta(seconds=2), dt.timedelta(minutes=15), dt.timedelta(hours=12))
ADDRESS = Law(20, dt.timedelta(seconds=2), dt.timedelta(hours=1), dt.timedelta(hours=24))
TWO_FACTOR = Law(5, dt.timedelta(seconds=2), dt.timedelta(minutes=15), dt.timedelta(hours=12))
#: Reset emails: every request counts (a reset request never "fails").
RESET_ACCOUNT = Law(3, dt.timedelta(minutes=1), dt.timedelta(hours=1), dt.timedelta(hours=24))
RESET_ADDRESS = Law(10, dt.timedelta(minutes=1), dt.timedelta(hours=1), dt.timedelta(hours=24))
LAWS = (ACCOUNT, ADDRESS, TWO_FACTOR, RESET_ACCOUNT, RESET_ADDRESS)


class Throttled(Exception):
    """Too many attempts: try again after ``retry_after``."""

    def __init__(self, retry_after: dt.timedelta) -> None:
        super().__init__(f"retry after {retry_after}")
        self.retry_after = retry_after

    @property
    def seconds(self) -> int:
        return max(1, math.ceil(self.retry_after.total_seconds()))


def delay_after(failures: int, law: Law) -> dt.timedelta:
    """How long a key waits after its ``failures``-th failure."""
    if failures <= law.free:
        return dt.timedelta(0)
    doublings = min(failures - law.free - 1, _MAX_DOUBLINGS)
    return min(law.base * (2**doublings), law.cap)


def failures_after(
    previous: int, last_failure_at: dt.datetime | None, now: dt.datetime, law: Law
) -> int:
    """The count once one more failure lands at ``now`` (a quiet key starts over)."""
    if last_failure_at is None or now - last_failure_at >= law.forget_after:
        return 1
    return previous + 1


def check(session: Session, keys: list[str], now: dt.datetime) -> None:
    """Raise :class:`Throttled` (the longest wait) when any key is still blocked."""
    blocked = session.execute(
        select(SignInThrottle.blocked_until).where(
            SignInThrottle.key.in_(keys), SignInThrottle.blocked_until > now
        )
    ).scalars()
    waits = [until - now for until in blocked]
    if waits:
        raise Throttled(max(waits))


def fail(session: Session, key: str, law: Law, now: dt.datetime) -> dt.timedelta:
    """Count a failure against ``key``; the wait it now imposes."""
    row = session.execute(
        select(SignInThrottle).where(SignInThrottle.key == key)
    ).scalar_one_or_none()
    if row is None:
        try:
            with session.begin_nested():
                row = SignInThrottle(key=key, failures=0, last_failure_at=now)
                session.add(row)
        except IntegrityError:  # a concurrent failure made it first
            row = session.execute(
                select(SignInThrottle).where(SignInThrottle.key == key)
            ).scalar_one()
        previous, last = 0, None
    else:
        previous, last = row.failures, row.last_failure_at
    row.failures = failures_after(previous, last, now, law)
    row.last_failure_at = now
    wait = delay_after(row.failures, law)
    row.blocked_until = now + wait if wait else None
    session.flush()
    return wait


def fail_all(session: Session, keyed_laws: list[tuple[str, Law]], now: dt.datetime) -> None:
    """Count one failure against each key under its law."""
    for key, law in keyed_laws:
        fail(session, key, law, now)


def clear(session: Session, key: str) -> None:
    session.execute(delete(SignInThrottle).where(SignInThrottle.key == key))


def forget_quiet(session: Session, now: dt.datetime) -> int:
    """Delete the counters no law remembers any more (quiet past the longest
    ``forget_after`` and not blocking); how many."""
    longest = max(law.forget_after for law in LAWS)
    result = session.execute(
        delete(SignInThrottle).where(
            SignInThrottle.last_failure_at < now - longest,
            or_(SignInThrottle.blocked_until.is_(None), SignInThrottle.blocked_until < now),
        )
    )
    return result.rowcount


def account_key(kind: str, email: str) -> str:
    return f"{kind}:account:{email.strip().lower()[:254]}"


def address_key(kind: str, ip: str | None) -> str:
    return f"{kind}:ip:{ip or 'unknown'}"
