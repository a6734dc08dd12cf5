"""Workspaces: the tenants, with their members, customers and Stripe connection."""

from __future__ import annotations

import zoneinfo
from typing import Any

from flask import url_for
from markupsafe import Markup
from sqlalchemy import func, select
from wtforms.validators import URL, Length, Optional, Regexp, ValidationError

from app.accounts.models import Membership, User, Workspace
from app.extensions import db
from app.stripe.models import MirrorCustomer, StripeConnection

from .base import BackstopModelView


def _count(statement: Any) -> int:
    return db.session.execute(statement).scalar_one()


def _members(view: Any, context: Any, model: Workspace, name: str) -> Any:
    rows = db.session.execute(
        select(User.email, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.workspace_id == model.id)
        .order_by(Membership.id)
        .limit(20)
    ).all()
    total = _count(
        select(func.count()).select_from(Membership).where(Membership.workspace_id == model.id)
    )
    items = Markup("").join(
        Markup("<li>{} <span class='text-muted'>({})</span></li>").format(email, role)
        for email, role in rows
    )
    more = Markup("<li>…</li>") if total > len(rows) else Markup("")
    return Markup("<strong>{}</strong><ul class='mb-0'>{}{}</ul>").format(total, items, more)


def _customers(view: Any, context: Any, model: Workspace, name: str) -> Any:
    total = _count(
        select(func.count())
        .select_from(MirrorCustomer)
        .where(MirrorCustomer.workspace_id == model.id, MirrorCustomer.is_deleted.is_(False))
    )
    return f"{total:,}"


def _stripe(view: Any, context: Any, model: Workspace, name: str) -> Any:
    connection = db.session.execute(
        select(StripeConnection).where(StripeConnection.workspace_id == model.id)
    ).scalar_one_or_none()
    if connection is None:
        return Markup('<span class="text-muted">not connected</span>')
    href = url_for("stripe_connections.details_view", id=connection.id)
    return Markup('<a href="{}">{} · {} · import {}</a>').format(
        href, connection.stripe_account_id, connection.status, connection.import_status
    )


def _scoped_links(view: Any, context: Any, model: Workspace, name: str) -> Any:
    links = [
        (endpoint, label)
        for endpoint, label in (
            ("stripe_events.index_view", "Stripe events"),
            ("domain_events.index_view", "Domain events"),
            ("stripe_connections.index_view", "Stripe connection"),
            ("outbox.index_view", "Outbox"),
            ("audit_log.index_view", "Audit log"),
        )
    ]
    return Markup(" · ").join(
        Markup('<a href="{}">{}</a>').format(url_for(endpoint, workspace_id=model.id), label)
        for endpoint, label in links
    )


def _valid_timezone(form: Any, field: Any) -> None:
    if field.data not in zoneinfo.available_timezones():
        raise ValidationError("Not an IANA time zone (e.g. Europe/Paris).")


class WorkspaceView(BackstopModelView):
    """Admins may correct a workspace's name, time zone and branding; the slug is in
    Stripe's webhook URLs, so it is never edited here."""

    allow_edit = True
    audit_type = "workspace"
    column_list = ("id", "slug", "name", "timezone", "created_at")
    column_details_list = (
        "id",
        "slug",
        "name",
        "timezone",
        "brand_color",
        "logo_url",
        "website_url",
        "is_portal_cancel_disabled",
        "created_at",
        "members",
        "customers",
        "stripe",
        "scoped",
    )
    column_labels = {
        "is_portal_cancel_disabled": "Stripe portal cannot cancel",
        "website_url": "Website",
        "customers": "Customers (mirror)",
        "stripe": "Stripe",
        "scoped": "Records of this workspace",
    }
    column_searchable_list = ("slug", "name")
    column_filters = ("created_at",)
    column_default_sort = ("id", True)
    column_formatters_detail = {
        "members": _members,
        "customers": _customers,
        "stripe": _stripe,
        "scoped": _scoped_links,
    }
    form_columns = (
        *("name", "timezone", "brand_color", "logo_url", "website_url"),
        "is_portal_cancel_disabled",
    )
    form_args = {
        "name": {"validators": [Length(min=1, max=120)]},
        "timezone": {"validators": [_valid_timezone]},
        "brand_color": {
            "validators": [Regexp(r"^#[0-9a-fA-F]{6}$", message="A colour like #4f46e5.")]
        },
        "logo_url": {
            "validators": [Optional(), URL(), Length(max=500)],
            "filters": [lambda v: v or None],
        },
        "website_url": {
            "description": "The card-update page links back here once the customer is done.",
            "validators": [
                Optional(),
                URL(),
                Regexp(r"^https?://", message="An http:// or https:// address."),
                Length(max=500),
            ],
            "filters": [lambda v: (v or "").strip() or None],
        },
    }
