"""Stripe connections: state and import progress; admins may re-sync.

The encrypted credentials (``secret_enc``, ``webhook_secret_enc``) are named in no
column list, detail list, form, filter, search or export: every list below is an
allow-list, and the exclusions repeat it in case one is ever widened.
"""

from __future__ import annotations

import json
from typing import Any

from flask import flash
from flask_admin.actions import action
from markupsafe import Markup

from app.extensions import db
from app.stripe.connection import restart_import
from app.stripe.models import StripeConnection

from .base import BackstopModelView, as_code, int_ids, status_badge, workspace_link

SECRET_COLUMNS = ("secret_enc", "webhook_secret_enc")


def _progress(view: Any, context: Any, model: StripeConnection, name: str) -> Any:
    return Markup("<pre class='mb-0'>{}</pre>").format(
        json.dumps(model.import_progress or {}, indent=2, sort_keys=True)
    )


class StripeConnectionView(BackstopModelView):
    tenant_owned = True
    admin_actions = ("resync",)
    audit_type = "stripe_connection"
    details_template = "backstop_admin/connection_details.html"

    column_list = (
        "workspace_id",
        "mode",
        "stripe_account_id",
        "livemode",
        "status",
        "import_status",
    )
    column_details_list = (
        "id",
        "workspace_id",
        "mode",
        "stripe_account_id",
        "livemode",
        "scope",
        "status",
        "connected_at",
        "disconnected_at",
        "disconnect_reason",
        "import_status",
        "import_progress",
        "import_error",
    )
    column_export_list = column_list
    column_exclude_list = SECRET_COLUMNS
    column_details_exclude_list = SECRET_COLUMNS
    column_export_exclude_list = SECRET_COLUMNS
    form_columns = ("disconnect_reason",)  # never rendered: nobody edits a connection here
    form_excluded_columns = SECRET_COLUMNS
    column_labels = {
        "workspace_id": "Workspace",
        "stripe_account_id": "Account",
        "import_status": "Import",
    }
    column_searchable_list = ("stripe_account_id",)
    column_filters = ("mode", "status", "import_status", "livemode", "workspace_id")
    column_default_sort = ("id", True)
    column_formatters = {
        "workspace_id": workspace_link,
        "stripe_account_id": as_code,
        "status": status_badge,
        "import_status": status_badge,
    }
    column_formatters_detail = {**column_formatters, "import_progress": _progress}

    @action("resync", "Re-sync", "Restart the import of the selected connections?")
    def action_resync(self, ids: list[str]) -> None:
        started, skipped = [], []
        query = self.get_query().filter(StripeConnection.id.in_(int_ids(ids)))
        for connection in query.all():
            if not connection.is_connected:
                skipped.append(connection.stripe_account_id)
                continue
            restart_import(db.session, connection)
            self.audit("resync", connection, stripe_account_id=connection.stripe_account_id)
            started.append(connection.stripe_account_id)
        db.session.commit()
        if started:
            flash(f"Import restarted for {', '.join(started)}.", "success")
        if skipped:
            flash(f"Not connected, so not re-synced: {', '.join(skipped)}.", "warning")
