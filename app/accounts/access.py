"""Who may see what: the current workspace of a signed-in user and role checks."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, g, request, session
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db, login_manager
from ..models import utcnow
from ..sessions import is_stateless
from . import user_sessions
from .models import Membership, User, Workspace

log = logging.getLogger(__name__)

ROLE_RANK = {"viewer": 0, "admin": 1, "owner": 2}


#: The session cookie's key naming the ``user_session`` row of this browser.
SESSION_KEY = "sid"


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    """The signed-in user, only while this browser's session row is live: a session
    signed out elsewhere (Settings → Security, a password change) ends on its next request."""
    now = utcnow()
    found = user_sessions.active_user(db.session, session.get(SESSION_KEY), user_id, now)
    if found is None:
        session.clear()
        return None
    user, last_seen_at = found
    g.user_session_id = sid = int(session[SESSION_KEY])
    if user_sessions.is_due_for_touch(last_seen_at, now):
        # Its own short transaction: the request's may be rolled back (every GET of the
        # dashboard is), and the user is loaded before a view writes anything.
        try:
            with db.engine.begin() as connection:
                connection.execute(user_sessions.touch_statement(sid, now))
        except SQLAlchemyError:
            # "Last active" is a courtesy: a busy database must not fail the page.
            log.warning("user_session.touch_failed", extra={"user_session_id": sid})
    return user


def load_user_first() -> None:
    """Load the signed-in user at the start of each request (none for machine endpoints),
    so a signed-out session ends here and its activity is noted before any view writes."""
    if is_stateless(request.path) or (request.endpoint or "").rsplit(".", 1)[-1] == "static":
        return  # machine endpoints and stylesheets need no user
    current_user.is_authenticated  # noqa: B018 - loads the user


def current_session_id() -> int | None:
    """The ``user_session`` id of this request's browser (after the user was loaded)."""
    if not current_user.is_authenticated:
        return None
    return g.get("user_session_id")


login_manager.login_view = "accounts.login"
login_manager.login_message = None


def membership() -> Membership:
    """The signed-in user's membership in the workspace chosen in the session."""
    if "membership" in g:
        return g.membership
    if not current_user.is_authenticated:
        abort(401)
    query = select(Membership).where(Membership.user_id == current_user.id)
    wanted = session.get("workspace_id")
    found = None
    if wanted is not None:
        found = db.session.execute(
            query.where(Membership.workspace_id == wanted)
        ).scalar_one_or_none()
    if found is None:
        found = db.session.execute(query.order_by(Membership.id).limit(1)).scalar_one_or_none()
    if found is None:
        abort(403)
    session["workspace_id"] = found.workspace_id
    g.membership = found
    return found


def current_workspace() -> Workspace:
    return membership().workspace


def require_role(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Allow the view only to members holding one of ``roles`` in the current workspace."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if membership().role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorate


def can(role: str) -> bool:
    """Whether the current member's role is at least ``role`` (for templates)."""
    return ROLE_RANK[membership().role] >= ROLE_RANK[role]
