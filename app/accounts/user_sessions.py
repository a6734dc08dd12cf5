"""Server-side sign-in sessions: the cookie carries the id of a ``user_session`` row, so
every signed-in browser can be listed and signed out from anywhere. Services flush;
callers commit."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from .models import User, UserSession

#: ``last_seen_at`` is written at most this often per session (one UPDATE, not one a request).
TOUCH_EVERY = dt.timedelta(minutes=1)
#: A session unused this long is over (a cookie copied off an old laptop stops working).
IDLE_LIMIT = dt.timedelta(days=30)
USER_AGENT_MAX = 300
#: An ended session's row (its address and browser) is kept this long after it ended,
#: for a member asking "was that me?", then forgotten.
KEEP_ENDED = dt.timedelta(days=30)


def start(
    session: Session, user: User, *, ip: str | None, user_agent: str | None, now: dt.datetime
) -> UserSession:
    record = UserSession(
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        ip=(ip or None) and ip[:45],
        user_agent=(user_agent or "")[:USER_AGENT_MAX] or None,
    )
    session.add(record)
    session.flush()
    return record


def is_due_for_touch(last_seen_at: dt.datetime, now: dt.datetime) -> bool:
    return now - last_seen_at >= TOUCH_EVERY


def active_user(
    session: Session, session_id: object, user_id: object, now: dt.datetime
) -> tuple[User, dt.datetime] | None:
    """The user of a live session named by a cookie and when it was last seen, or None
    (unknown, revoked, idle for 30 days, another user's, a deactivated account's,
    malformed): one query, by primary key."""
    try:
        sid, uid = int(session_id), int(user_id)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
    row = session.execute(
        select(User, UserSession.last_seen_at)
        .join(User, User.id == UserSession.user_id)
        .where(
            UserSession.id == sid,
            UserSession.revoked_at.is_(None),
            UserSession.last_seen_at > now - IDLE_LIMIT,
            User.id == uid,
            User.is_active_user.is_(True),  # a deactivated account is signed out too
        )
    ).first()
    return None if row is None else (row[0], row[1])


def touch_statement(session_id: int, now: dt.datetime):
    """The UPDATE that records activity, a no-op when the session was seen this minute
    (so concurrent requests of one browser write at most once)."""
    return (
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.last_seen_at <= now - TOUCH_EVERY)
        .values(last_seen_at=now)
    )


def of_user(session: Session, user_id: int, now: dt.datetime) -> list[UserSession]:
    """A user's live sessions, the most recently active first."""
    return list(
        session.execute(
            select(UserSession)
            .where(
                UserSession.user_id == user_id,
                UserSession.revoked_at.is_(None),
                UserSession.last_seen_at > now - IDLE_LIMIT,
            )
            .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
        ).scalars()
    )


def revoke(session: Session, user_id: int, session_id: int, now: dt.datetime) -> bool:
    """Sign one of the user's sessions out; False when it is not theirs or not live."""
    result = session.execute(
        update(UserSession)
        .where(
            UserSession.id == session_id,
            UserSession.user_id == user_id,
            UserSession.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    return bool(result.rowcount)


def revoke_others(session: Session, user_id: int, keep_id: int | None, now: dt.datetime) -> int:
    """Sign out every session of the user but ``keep_id`` (the current one); how many."""
    query = update(UserSession).where(
        UserSession.user_id == user_id, UserSession.revoked_at.is_(None)
    )
    if keep_id is not None:
        query = query.where(UserSession.id != keep_id)
    return session.execute(query.values(revoked_at=now)).rowcount


def forget_ended(session: Session, now: dt.datetime) -> int:
    """Delete the rows of sessions that ended (signed out, or idle past the limit) more
    than KEEP_ENDED ago; how many."""
    result = session.execute(
        delete(UserSession).where(
            or_(
                UserSession.revoked_at < now - KEEP_ENDED,
                UserSession.last_seen_at < now - IDLE_LIMIT - KEEP_ENDED,
            )
        )
    )
    return result.rowcount


def describe_agent(user_agent: str | None) -> str:
    """A browser as people name it ("Firefox on macOS") from its User-Agent header."""
    agent = user_agent or ""
    browser = next(
        (
            name
            for token, name in (
                ("Edg/", "Edge"),
                ("OPR/", "Opera"),
                ("Firefox/", "Firefox"),
                ("Chrome/", "Chrome"),
                ("Safari/", "Safari"),
            )
            if token in agent
        ),
        "A browser",
    )
    system = next(
        (
            name
            for token, name in (
                ("iPhone", "iPhone"),
                ("iPad", "iPad"),
                ("Android", "Android"),
                ("Mac OS X", "macOS"),
                ("Windows", "Windows"),
                ("Linux", "Linux"),
            )
            if token in agent
        ),
        None,
    )
    return f"{browser} on {system}" if system else browser
