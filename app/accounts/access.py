"""Who may see what: the current workspace of a signed-in user and role checks."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, g, session
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db, login_manager
from .models import Membership, User, Workspace

ROLE_RANK = {"viewer": 0, "admin": 1, "owner": 2}


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    try:
        return db.session.get(User, int(user_id))
    except ValueError:
        return None


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
