"""The model view every back-office list builds on.

It adds, once for all views: role-aware ``can_*`` flags (``support`` never writes),
bounded counts (see :mod:`admin.counting`), the optional ``?workspace_id=`` scope on
tenant-owned tables, and an audit entry for every create, edit and delete.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import abort, g, request, url_for
from flask_admin.actions import action
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.filters import FilterConverter
from flask_admin.contrib.sqla.form import AdminModelConverter
from flask_admin.contrib.sqla.typefmt import DEFAULT_FORMATTERS
from flask_admin.model import filters
from flask_admin.model.form import converts
from markupsafe import Markup
from sqlalchemy import inspect, select

from app.accounts.models import Workspace
from app.audit.services import record
from app.crypto import SECRET_SUFFIXES
from app.extensions import db
from app.tenancy import scoped

from .access import StaffOnly, actor, is_admin
from .counting import COUNT_CAP, capped_count_query, display_count


def _utc_time(view: Any, value: dt.datetime, name: str) -> str:
    """Seconds are enough, and the zone is said (SQLite hands back naive UTC)."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


TYPE_FORMATTERS = {**DEFAULT_FORMATTERS, dt.datetime: _utc_time}


class _Filters(FilterConverter):
    """Our ``UTCDateTime`` columns filter like Flask-Admin's own date-times."""

    @filters.convert("utcdatetime")
    def conv_utc_datetime(self, column: Any, name: str, **kwargs: Any) -> Any:
        return self.conv_datetime(column, name, **kwargs)


class _Forms(AdminModelConverter):
    @converts("UTCDateTime")
    def convert_utc_datetime(self, field_args: dict[str, Any], **extra: Any) -> Any:
        return self.convert_datetime(field_args, **extra)


class BackstopModelView(StaffOnly, ModelView):
    """Read-only for ``support``; ``admin`` gets what the ``allow_*`` flags grant."""

    allow_create = False
    allow_edit = False
    allow_delete = False
    #: Names of ``@action`` methods only ``admin`` staff may run.
    admin_actions: tuple[str, ...] = ()
    #: The model has a ``workspace_id``: the list accepts ``?workspace_id=``.
    tenant_owned = False
    #: What the audit log calls this kind of row (``stripe_event``, ``user``...).
    audit_type = ""
    count_cap = COUNT_CAP

    can_view_details = True
    can_export = False
    column_type_formatters = TYPE_FORMATTERS
    filter_converter = _Filters()
    model_form_converter = _Forms
    column_type_formatters_detail = TYPE_FORMATTERS
    named_filter_urls = True  # ?flt0_status_equals=failed: links staff can read and share
    page_size = 50
    list_template = "backstop_admin/list.html"
    details_template = "backstop_admin/details.html"
    edit_template = "backstop_admin/edit.html"

    @property
    def can_create(self) -> bool:  # type: ignore[override]
        return self.allow_create and is_admin()

    @property
    def can_edit(self) -> bool:  # type: ignore[override]
        return self.allow_edit and is_admin()

    @property
    def can_delete(self) -> bool:  # type: ignore[override]
        return self.allow_delete and is_admin()

    def row_title(self, model: Any) -> str:
        """What the edit and details pages call the row."""
        for attr in ("email", "slug", "stripe_event_id", "stripe_account_id"):
            if getattr(model, attr, None):
                return f"{getattr(model, attr)} (#{model.id})"
        return f"#{model.id}"

    @action("delete", "Delete", "Delete the selected records?")
    def action_delete(self, ids: Any) -> None:
        # Flask-Admin compares the ids as strings, which PostgreSQL refuses for a
        # bigint key: hand it numbers (only views with allow_delete offer this).
        super().action_delete(int_ids(list(ids)))

    def is_action_allowed(self, name: str) -> bool:
        if name == "delete":
            return self.can_delete
        return name in self.admin_actions and is_admin()

    # -- no secret column in a form or a sort ----------------------------------------------

    def scaffold_form(self) -> Any:
        """A view without ``form_columns`` gets a field per column: never a secret one
        (even where no form is offered, none is there to offer)."""
        form_class = super().scaffold_form()
        for name in [n for n in vars(form_class) if n.endswith(SECRET_SUFFIXES)]:
            delattr(form_class, name)
        return form_class

    def get_sortable_columns(self) -> dict[str, Any]:
        """Flask-Admin offers every column for sorting by default: never a secret one."""
        columns = super().get_sortable_columns()
        return {name: c for name, c in columns.items() if not name.endswith(SECRET_SUFFIXES)}

    # -- the workspace scope: get_query, get_count_query and get_one agree ----------------

    def workspace_scope(self) -> int | None:
        """The ``?workspace_id=`` of this request (400 when it is not a number)."""
        if not self.tenant_owned:
            return None
        raw = request.args.get("workspace_id", "").strip()
        if not raw:
            return None
        if not raw.isdigit():
            abort(400, "workspace_id must be a number")
        return int(raw)

    def get_query(self) -> Any:
        query = db.session.query(self.model)
        scope = self.workspace_scope()
        if scope is not None:
            query = query.filter(scoped(self.model, scope).whereclause)
        return query

    def get_count_query(self) -> Any:
        """Bounded: counts at most ``count_cap + 1`` rows (see :mod:`admin.counting`)."""
        query = capped_count_query(db.session(), self.model, self.count_cap)
        scope = self.workspace_scope()
        if scope is not None:
            query = query.filter(scoped(self.model, scope).whereclause)
        return query

    def get_one(self, id: Any) -> Any:
        """A row by id, from :meth:`get_query`: never one outside the scope."""
        try:
            pk = int(id)
        except (TypeError, ValueError):
            return None
        return self.get_query().filter(self.model.id == pk).one_or_none()

    def get_url(self, endpoint: str, **kwargs: Any) -> str:
        """Links between this view's pages keep the scope."""
        scope = self.workspace_scope()
        if scope is not None and endpoint.startswith(".") and "workspace_id" not in kwargs:
            kwargs["workspace_id"] = scope
        return url_for(endpoint, **kwargs)

    def get_list(self, *args: Any, **kwargs: Any) -> Any:
        count, rows = super().get_list(*args, **kwargs)
        if kwargs.get("execute", True) and rows:
            remember_workspace_slugs({getattr(r, "workspace_id", None) for r in rows})
        return count, rows

    def render(self, template: str, **kwargs: Any) -> Any:
        if "count" in kwargs:
            kwargs["count"] = display_count(kwargs["count"], self.count_cap)
        scope = self.workspace_scope()
        kwargs.setdefault("workspace_scope", scope)
        if scope is not None:
            kwargs.setdefault("workspace_scope_slug", workspace_slug(scope))
        return super().render(template, **kwargs)

    # -- every change made through the back office is audited -----------------------------

    def on_model_change(self, form: Any, model: Any, is_created: bool) -> None:
        changes = _changes(model)
        db.session.flush()  # a new row gets its id
        self.audit("create" if is_created else "update", model, changes=changes)

    def on_model_delete(self, model: Any) -> None:
        self.audit("delete", model)

    def audit(self, verb: str, model: Any, **details: Any) -> None:
        """Record a staff action on ``model`` (the caller commits)."""
        record(
            db.session,
            **actor(),
            action=f"{self.audit_type}.{verb}",
            target_type=self.audit_type,
            target_id=str(model.id),
            workspace_id=_workspace_of(model),
            **details,
        )


def int_ids(ids: list[str]) -> list[int]:
    """The row ids an action form posted (anything else is dropped)."""
    return [int(i) for i in ids if str(i).isdigit()]


def _workspace_of(model: Any) -> int | None:
    if isinstance(model, Workspace):
        return model.id
    return getattr(model, "workspace_id", None)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _changes(model: Any) -> dict[str, list[Any]]:
    """``{column: [old, new]}`` for the columns this edit changed (never a secret)."""
    changes: dict[str, list[Any]] = {}
    state = inspect(model)
    for attr in state.mapper.column_attrs:
        if attr.key.endswith(SECRET_SUFFIXES):
            continue
        history = state.attrs[attr.key].history
        if history.has_changes():
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            changes[attr.key] = [_jsonable(old), _jsonable(new)]
    return changes


# -- workspace names in lists: one query per page, not one per row -------------------------


def remember_workspace_slugs(ids: set[int | None]) -> None:
    cache: dict[int, str] = g.setdefault("backstop_admin_slugs", {})
    wanted = {i for i in ids if i is not None and i not in cache}
    if wanted:
        cache.update(
            db.session.execute(
                select(Workspace.id, Workspace.slug).where(Workspace.id.in_(wanted))
            ).all()
        )


def workspace_slug(workspace_id: int) -> str | None:
    remember_workspace_slugs({workspace_id})
    return g.backstop_admin_slugs.get(workspace_id)


def workspace_link(view: Any, context: Any, model: Any, name: str) -> Any:
    """A column formatter: the workspace's slug, linking to its details."""
    workspace_id = getattr(model, name)
    if workspace_id is None:
        return Markup('<span class="text-muted">none</span>')
    slug = workspace_slug(workspace_id) or f"#{workspace_id}"
    href = url_for("workspaces.details_view", id=workspace_id)
    return Markup('<a href="{}">{}</a>').format(href, cut(slug))


def cut(text: str, title: str | None = None, *, code: bool = False) -> Markup:
    """``text`` on one line, cut short with an ellipsis where the column is narrow
    (``.cut`` in base.html); the whole, or ``title``, shows on hover."""
    inner = Markup("<code>{}</code>").format(text) if code else text
    return Markup('<span class="cut" title="{}">{}</span>').format(title or text, inner)


def as_code(view: Any, context: Any, model: Any, name: str) -> Any:
    value = getattr(model, name)
    return Markup("<code>{}</code>").format(value) if value else ""


#: Bootstrap badge tone per status value, across connections, events and the outbox.
STATUS_TONES = {
    "connected": "success",
    "done": "success",
    "processed": "success",
    "sent": "success",
    "running": "info",
    "received": "info",
    "queued": "info",
    "pending": "secondary",
    "ignored": "secondary",
    "disconnected": "warning",
    "blocked": "warning",
    "failed": "danger",
}


def status_badge(view: Any, context: Any, model: Any, name: str) -> Any:
    value = getattr(model, name)
    tone = STATUS_TONES.get(value, "secondary")
    return Markup('<span class="badge badge-{}">{}</span>').format(tone, value)
