"""Domain events (the ``domain_event`` outbox) for staff, read-only: what happened to
which campaign or message, when it was handed to its consumers, how many hand-overs it
took and the last consumer error, with its payload. Nobody creates, edits or deletes
one here: the rows are the record of what happened."""

from __future__ import annotations

import json
from typing import Any

from flask import url_for
from flask_admin.contrib.sqla.filters import FilterEqual
from markupsafe import Markup

from app.events.models import DONE, FAILED, QUEUED, RUNNING, DomainEvent

from .base import BackstopModelView, cut, status_badge, workspace_link
from .recovery import choices

#: A subject's kind (``campaign:12``) and the back-office page of that row.
SUBJECT_PAGES = {
    "campaign": "recovery_campaigns.details_view",
    "message": "outbox.details_view",
    "retain_session": "retain_sessions.details_view",
}


def subject_link(view: Any, context: Any, model: DomainEvent, name: str) -> Any:
    """``campaign:12`` links to the campaign's page (the page keeps the scope)."""
    kind, _, row_id = model.subject.partition(":")
    endpoint = SUBJECT_PAGES.get(kind)
    if endpoint is None or not row_id.isdigit():
        return Markup("<code>{}</code>").format(model.subject)
    href = url_for(endpoint, id=int(row_id), workspace_id=model.workspace_id)
    return Markup('<a href="{}"><code>{}</code></a>').format(href, model.subject)


def _error_cut(view: Any, context: Any, model: DomainEvent, name: str) -> Any:
    if not model.error:
        return ""
    return Markup('<span class="text-danger">{}</span>').format(cut(model.error))


def _error(view: Any, context: Any, model: DomainEvent, name: str) -> Any:
    if not model.error:
        return ""
    return Markup("<pre class='mb-0 wrap text-danger'>{}</pre>").format(model.error)


def _payload(view: Any, context: Any, model: DomainEvent, name: str) -> Any:
    return Markup("<pre class='payload mb-0'>{}</pre>").format(
        json.dumps(model.data or {}, indent=2, sort_keys=True, default=str)
    )


class DomainEventView(BackstopModelView):
    tenant_owned = True
    audit_type = "domain_event"

    column_list = (
        *("created_at", "name", "workspace_id", "subject", "status", "attempts"),
        *("dispatched_at", "error"),
    )
    column_details_list = (
        *("id", "name", "workspace_id", "subject", "occurred_at", "created_at", "status"),
        *("due_at", "lease_until", "attempts", "dispatched_at", "error", "data"),
    )
    column_labels = {
        "created_at": "Created",
        "workspace_id": "Workspace",
        "status": "State",
        "attempts": "Hand-overs",
        "dispatched_at": "Handed over",
        "error": "Last error",
        "occurred_at": "Occurred (its clock's time)",
        "due_at": "Due",
        "lease_until": "Lease until",
        "data": "Payload",
    }
    column_searchable_list = ("subject",)
    column_filters = (
        "name",
        FilterEqual(DomainEvent.status, "State", options=choices((QUEUED, RUNNING, DONE, FAILED))),
        "workspace_id",
        "created_at",
    )
    column_sortable_list = ("created_at", "attempts", "dispatched_at")
    column_default_sort = ("id", True)
    column_formatters = {
        "workspace_id": workspace_link,
        "subject": subject_link,
        "status": status_badge,
        "error": _error_cut,
    }
    column_formatters_detail = {**column_formatters, "error": _error, "data": _payload}

    def search_placeholder(self) -> str:
        return "A subject, e.g. campaign:12"

    def row_title(self, model: Any) -> str:
        return f"{model.name} · {model.subject} (#{model.id})"
