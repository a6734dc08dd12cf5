"""Users: merchants and staff. Admins may deactivate, reactivate and set the staff
role; nobody sees the password hash, and nobody locks themselves out."""

from __future__ import annotations

from typing import Any

from flask import flash, url_for
from flask_admin.actions import action
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from app.accounts.models import STAFF_ROLES, Membership, User, Workspace
from app.extensions import db

from .base import BackstopModelView, int_ids

ROLE_CHOICES = [SelectChoice("", "none (merchant)"), *[SelectChoice(r, r) for r in STAFF_ROLES]]


def _none_if_blank(value: str | None) -> str | None:
    return value or None


def _memberships(view: Any, context: Any, model: User, name: str) -> Any:
    rows = db.session.execute(
        select(Workspace.id, Workspace.slug, Membership.role)
        .join(Membership, Membership.workspace_id == Workspace.id)
        .where(Membership.user_id == model.id)
        .order_by(Workspace.slug)
        .limit(50)
    ).all()
    if not rows:
        return Markup('<span class="text-muted">none</span>')
    return Markup(", ").join(
        Markup('<a href="{}">{}</a> ({})').format(
            url_for("workspaces.details_view", id=ws_id), slug, role
        )
        for ws_id, slug, role in rows
    )


class UserView(BackstopModelView):
    allow_edit = True
    admin_actions = ("deactivate", "reactivate")
    audit_type = "user"
    column_list = (
        "id",
        "email",
        "name",
        "staff_role",
        "is_active_user",
        "created_at",
        "last_login_at",
    )
    column_details_list = (
        "id",
        "email",
        "name",
        "staff_role",
        "is_active_user",
        "created_at",
        "last_login_at",
        "password_changed_at",
        "memberships",
    )
    column_labels = {"is_active_user": "Active", "staff_role": "Staff role"}
    column_searchable_list = ("email", "name")
    column_filters = ("staff_role", "is_active_user", "created_at", "last_login_at")
    column_default_sort = ("id", True)
    column_formatters_detail = {"memberships": _memberships}
    form_columns = ("name", "is_active_user", "staff_role")
    form_overrides = {"staff_role": SelectField}
    form_args = {"staff_role": {"choices": ROLE_CHOICES, "coerce": _none_if_blank}}

    def on_model_change(self, form: Any, model: User, is_created: bool) -> None:
        if model.id == current_user.id and (
            not model.is_active_user or model.staff_role != "admin"
        ):
            raise ValidationError("You cannot deactivate yourself or drop your own admin role.")
        super().on_model_change(form, model, is_created)

    @action("deactivate", "Deactivate", "Deactivate the selected users? They can no longer log in.")
    def action_deactivate(self, ids: list[str]) -> None:
        self._set_active(ids, False)

    @action("reactivate", "Reactivate", "Reactivate the selected users?")
    def action_reactivate(self, ids: list[str]) -> None:
        self._set_active(ids, True)

    def _set_active(self, ids: list[str], active: bool) -> None:
        verb = "reactivate" if active else "deactivate"
        changed = 0
        for user in self.get_query().filter(User.id.in_(int_ids(ids))).all():
            if user.id == current_user.id or user.is_active_user == active:
                continue
            user.is_active_user = active
            self.audit(verb, user, email=user.email)
            changed += 1
        db.session.commit()
        flash(f"{changed} user(s) {verb}d.", "success")
