"""Mail for staff: the outbox (rendered view, resend), suppression lists and send
domains. Support reads; admins resend, lift a suppression, or re-check a domain."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash
from flask_admin.actions import action
from markupsafe import Markup

from app.extensions import db
from app.models import utcnow
from app.outbox import domains
from app.outbox import services as outbox
from app.outbox.models import OutboxMessage, SendDomain

from .base import BackstopModelView, as_code, int_ids, status_badge, workspace_link
from .records import OutboxView as _ReadOnlyOutbox


class OutboxView(_ReadOnlyOutbox):
    admin_actions = ("resend",)

    @action("resend", "Resend", "Send the selected messages again, exactly as they were?")
    def action_resend(self, ids: list[str]) -> None:
        rows = self.get_query().filter(OutboxMessage.id.in_(int_ids(ids))).all()
        copies = [outbox.resend(db.session, row) for row in rows]
        for row, copy in zip(rows, copies, strict=True):
            self.audit("resend", row, copy_id=copy.id, status=copy.status)
        db.session.commit()  # the deliveries are sent after this commit
        blocked = sum(1 for c in copies if c.status == "blocked")
        flash(
            f"{len(copies) - blocked} message(s) queued again"
            + (f"; {blocked} blocked by the suppression list" if blocked else "")
            + ".",
            "success",
        )


class SuppressionView(BackstopModelView):
    tenant_owned = True
    audit_type = "email_suppression"
    allow_delete = True  # lifting a suppression: the customer asked to get mail again

    column_list = ("created_at", "workspace_id", "email", "reason", "source", "message_id")
    column_details_list = (*column_list, "detail", "id")
    column_labels = {"workspace_id": "Workspace", "message_id": "Message"}
    column_searchable_list = ("email",)
    column_filters = ("reason", "source", "workspace_id", "created_at")
    column_default_sort = ("id", True)
    column_formatters = {"workspace_id": workspace_link, "reason": status_badge}


def _records(view: Any, context: Any, model: SendDomain, name: str) -> Any:
    rows = Markup("").join(
        Markup("<tr><td>{}</td><td><code>{}</code></td><td><code>{}</code></td></tr>").format(
            r.get("type"), r.get("name"), r.get("value")
        )
        for r in model.records or []
    )
    return Markup("<table class='table table-sm mb-0'>{}</table>").format(rows)


class SendDomainView(BackstopModelView):
    tenant_owned = True
    admin_actions = ("verify",)
    audit_type = "send_domain"

    column_list = ("domain", "workspace_id", "status", "dkim_status", "checked_at", "verified_at")
    column_details_list = (
        "id",
        "workspace_id",
        "domain",
        "from_local",
        "status",
        "dkim_status",
        "last_error",
        "records",
        "created_at",
        "checked_at",
        "verified_at",
    )
    column_labels = {"workspace_id": "Workspace", "dkim_status": "DKIM (SES)"}
    column_searchable_list = ("domain",)
    column_filters = ("status", "workspace_id")
    column_default_sort = ("id", True)
    column_formatters = {"workspace_id": workspace_link, "status": status_badge, "domain": as_code}
    column_formatters_detail = {**column_formatters, "records": _records}

    @action("verify", "Verify DNS", "Ask Amazon SES about the selected domains now?")
    def action_verify(self, ids: list[str]) -> None:
        rows = self.get_query().filter(SendDomain.id.in_(int_ids(ids))).all()
        client = domains.ses_client(current_app.config["BACKSTOP"])
        for row in rows:
            domains.verify(db.session, row, client=client, now=utcnow())
            self.audit("verify", row, status=row.status)
        db.session.commit()
        verified = sum(1 for r in rows if r.is_verified)
        flash(f"{len(rows)} domain(s) checked; {verified} verified.", "success")
