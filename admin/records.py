"""Read-only records: the mail outbox, the texts and the audit log."""

from __future__ import annotations

import json
from typing import Any

from markupsafe import Markup

from app.outbox.models import OutboxMessage

from .base import BackstopModelView, as_code, status_badge, workspace_link


def _rendered_html(view: Any, context: Any, model: OutboxMessage, name: str) -> Any:
    """The email as the recipient sees it, in a sandboxed frame: its scripts never
    run and it cannot reach this page or the session (no allow-same-origin)."""
    return Markup(
        '<iframe class="email-preview" sandbox="" referrerpolicy="no-referrer" '
        'title="Rendered email" srcdoc="{}"></iframe>'
    ).format(model.body_html)


def _pre(view: Any, context: Any, model: Any, name: str) -> Any:
    return Markup("<pre class='mb-0 wrap'>{}</pre>").format(getattr(model, name) or "")


def _json(view: Any, context: Any, model: Any, name: str) -> Any:
    return Markup("<pre class='mb-0 wrap'>{}</pre>").format(
        json.dumps(getattr(model, name) or {}, indent=2, sort_keys=True, default=str)
    )


class OutboxView(BackstopModelView):
    tenant_owned = True
    audit_type = "outbox_message"

    column_list = (
        "created_at",
        "workspace_id",
        "to_email",
        "template",
        "subject",
        "status",
        "transport",
    )
    column_details_list = (
        "id",
        "workspace_id",
        "template",
        "from_email",
        "to_email",
        "subject",
        "status",
        "transport",
        "provider_id",
        "error",
        "created_at",
        "sent_at",
        "headers",
        "body_html",
        "body_text",
    )
    column_labels = {
        "workspace_id": "Workspace",
        "to_email": "To",
        "from_email": "From",
        "body_html": "Rendered",
        "body_text": "Text part",
    }
    column_searchable_list = ("to_email", "subject")
    column_filters = ("template", "status", "transport", "workspace_id", "created_at")
    column_default_sort = ("id", True)
    column_formatters = {"workspace_id": workspace_link, "status": status_badge}
    column_formatters_detail = {
        **column_formatters,
        "body_html": _rendered_html,
        "body_text": _pre,
        "headers": _json,
    }


class SmsMessageView(BackstopModelView):
    """Every text sent or received, with what became of it: a text ``sending`` for long
    is one whose worker died mid-call (``app.sms.stuck`` resolves it)."""

    tenant_owned = True
    audit_type = "sms_message"

    column_list = (
        "created_at",
        "workspace_id",
        "direction",
        "purpose",
        "to_number",
        "status",
        "transport",
        "attempts",
    )
    column_details_list = (
        "id",
        "workspace_id",
        "direction",
        "purpose",
        "to_number",
        "from_number",
        "customer_stripe_id",
        "campaign_id",
        "step_id",
        "status",
        "error",
        "transport",
        "provider_id",
        "attempts",
        "segments",
        "encoding",
        "locale",
        "month",
        "created_at",
        "sending_since",
        "sent_at",
        "status_at",
        "body",
    )
    column_labels = {"workspace_id": "Workspace", "to_number": "To", "from_number": "From"}
    column_searchable_list = ("to_number", "customer_stripe_id", "provider_id")
    column_filters = ("status", "direction", "purpose", "transport", "workspace_id", "created_at")
    column_default_sort = ("id", True)
    column_formatters = {"workspace_id": workspace_link, "status": status_badge}
    column_formatters_detail = {**column_formatters, "body": _pre}


class AuditLogView(BackstopModelView):
    tenant_owned = True
    audit_type = "audit_entry"

    column_list = (
        "created_at",
        "actor_label",
        "action",
        "target_type",
        "target_id",
        "workspace_id",
    )
    column_details_list = (
        "id",
        "created_at",
        "actor_id",
        "actor_label",
        "action",
        "target_type",
        "target_id",
        "workspace_id",
        "details",
    )
    column_labels = {
        "actor_label": "Actor",
        "workspace_id": "Workspace",
        "target_type": "Target",
        "target_id": "Target id",
    }
    column_searchable_list = ("actor_label", "target_id")
    column_filters = ("action", "actor_label", "target_type", "workspace_id", "created_at")
    column_default_sort = ("id", True)
    column_formatters = {"workspace_id": workspace_link, "action": as_code}
    column_formatters_detail = {**column_formatters, "details": _json}
