"""Who may use the back office: staff only; ``support`` reads, ``admin`` acts.

Every view mixes in :class:`StaffOnly`, so the rule lives in one place: anonymous
visitors go to the log-in page, signed-in merchants get 403, and a ``support`` user
who reaches a write endpoint (create, edit, delete, actions) gets 403 as well.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import abort, redirect, request
from flask_admin import AdminIndexView, expose
from flask_login import current_user
from sqlalchemy import select

from app.accounts.models import User
from app.events.models import FAILED, DomainEvent
from app.extensions import db
from app.stripe.models import StripeConnection, StripeEvent

from .counting import capped_count, display_count

#: Flask-Admin endpoints that change something; only ``admin`` staff reach them.
WRITE_ENDPOINTS = frozenset(
    {"create_view", "edit_view", "delete_view", "action_view", "ajax_update"}
)


def is_staff() -> bool:
    return bool(current_user.is_authenticated and current_user.is_active and current_user.is_staff)


def is_admin() -> bool:
    return is_staff() and current_user.staff_role == "admin"


def actor() -> dict[str, Any]:
    """The signed-in staff member, as ``app.audit.services.record`` wants them."""
    user: User = current_user
    return {"actor_id": user.id, "actor_label": user.email}


class StaffOnly:
    """``is_accessible`` + ``inaccessible_callback`` for every back-office view."""

    def is_accessible(self) -> bool:
        return is_staff()

    def inaccessible_callback(self, name: str, **kwargs: Any) -> Any:
        if current_user.is_authenticated:
            abort(403)  # signed in, but not staff
        target = request.full_path if request.query_string else request.path
        return redirect("/login?next=" + quote(target, safe="/"))

    def _handle_view(self, name: str, **kwargs: Any) -> Any:
        refused = super()._handle_view(name, **kwargs)  # type: ignore[misc]
        if refused is not None:
            return refused
        if name in WRITE_ENDPOINTS and not is_admin():
            abort(403)
        return None


class StaffIndexView(StaffOnly, AdminIndexView):
    """``/admin/``: what needs attention, with links into the lists."""

    @expose("/")
    def index(self) -> Any:
        failed_events = capped_count(
            db.session, select(StripeEvent.id).where(StripeEvent.status == "failed")
        )
        failed_imports = capped_count(
            db.session,
            select(StripeConnection.id).where(StripeConnection.import_status == "failed"),
        )
        failed_domain_events = capped_count(
            db.session, select(DomainEvent.id).where(DomainEvent.status == FAILED)
        )
        return self.render(
            "backstop_admin/index.html",
            failed_events=display_count(failed_events),
            failed_domain_events=display_count(failed_domain_events),
            failed_imports=display_count(failed_imports),
            can_act=is_admin(),
        )
