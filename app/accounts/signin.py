"""Starting and ending a browser's sign-in (view helpers: they read the request).

A password alone may leave the browser half signed in: the session holds who is
waiting for a 2FA code and nothing else, so every page still asks for a log-in."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import g, render_template, request, session
from flask_login import current_user, login_user, logout_user

from ..audit import services as audit
from ..extensions import db
from ..models import utcnow
from . import throttle, user_sessions
from .access import SESSION_KEY, current_session_id
from .models import User

PENDING_KEY = "two_factor_pending"
#: A password check is good for this long while the 2FA code is typed.
PENDING_TTL = dt.timedelta(minutes=10)


def client_ip() -> str | None:
    return request.remote_addr


def sign_in(user: User) -> None:
    """A fresh session (no fixation) and its ``user_session`` row; the caller commits."""
    session.clear()
    record = user_sessions.start(
        db.session,
        user,
        ip=client_ip(),
        user_agent=request.user_agent.string,
        now=utcnow(),
    )
    login_user(user)
    session[SESSION_KEY] = record.id
    g.user_session_id = record.id
    audit_user(
        user, "user.signed_in", browser=user_sessions.describe_agent(request.user_agent.string)
    )


def sign_out() -> None:
    """End this browser's session, here and in the session list; the caller commits."""
    sid = current_session_id()
    if sid is not None:
        user_sessions.revoke(db.session, current_user.id, sid, utcnow())
    logout_user()
    session.clear()


def hold_for_second_factor(user: User, next_path: str) -> None:
    session.clear()
    session[PENDING_KEY] = {"user": user.id, "at": utcnow().timestamp(), "next": next_path}


def pending_second_factor() -> tuple[User, str] | None:
    """The user whose password was right and who still owes a 2FA code, if any."""
    data: Any = session.get(PENDING_KEY)
    if not isinstance(data, dict):
        return None
    try:
        started = dt.datetime.fromtimestamp(float(data["at"]), dt.UTC)
        user = db.session.get(User, int(data["user"]))
    except (KeyError, TypeError, ValueError):
        return None
    if user is None or not user.is_active_user or utcnow() - started > PENDING_TTL:
        return None
    return user, str(data.get("next") or "")


def throttled_page(exc: throttle.Throttled) -> tuple[str, int, dict[str, str]]:
    """A 429 that says how long to wait, with ``Retry-After``."""
    minutes = max(1, -(-exc.seconds // 60))
    return (
        render_template("accounts/throttled.html", seconds=exc.seconds, minutes=minutes),
        429,
        {"Retry-After": str(exc.seconds)},
    )


def audit_user(user: User, action: str, *, workspace_id: int | None = None, **details: Any) -> None:
    """A user's own sign-in or security change, in the audit log (actor: themselves):
    in ``workspace_id`` when the change is that workspace's, else once in each
    workspace they belong to, so its owners see it (Settings → Audit log), and once
    without a workspace for a user who belongs to none (staff)."""
    workspaces = [workspace_id] if workspace_id is not None else None
    workspaces = workspaces or [m.workspace_id for m in user.memberships] or [None]
    for each in workspaces:
        audit.record(
            db.session,
            actor_id=user.id,
            actor_label=user.email,
            action=action,
            target_type="user",
            target_id=str(user.id),
            workspace_id=each,
            ip=client_ip(),
            **details,
        )
