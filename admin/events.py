"""Stripe events as we stored them; admins may replay one or a page of them."""

from __future__ import annotations

import json
from typing import Any

from flask import flash
from flask_admin.actions import action
from markupsafe import Markup

from app.extensions import db
from app.stripe.models import StripeEvent
from app.stripe.processing import replay

from .base import BackstopModelView, as_code, int_ids, status_badge, workspace_link


def _payload(view: Any, context: Any, model: StripeEvent, name: str) -> Any:
    return Markup("<pre class='payload mb-0'>{}</pre>").format(
        json.dumps(model.payload, indent=2, sort_keys=True)
    )


def _error(view: Any, context: Any, model: StripeEvent, name: str) -> Any:
    return (
        Markup("<pre class='mb-0 text-danger'>{}</pre>").format(model.error) if model.error else ""
    )


class StripeEventView(BackstopModelView):
    tenant_owned = True
    admin_actions = ("replay",)
    audit_type = "stripe_event"
    details_template = "backstop_admin/event_details.html"

    column_list = (
        "received_at",
        "type",
        "workspace_id",
        "status",
        "attempts",
        "stripe_event_id",
        "account",
    )
    column_details_list = (
        "id",
        "stripe_event_id",
        "type",
        "workspace_id",
        "account",
        "livemode",
        "stripe_created",
        "received_at",
        "status",
        "processed_at",
        "attempts",
        "error",
        "payload",
    )
    column_labels = {
        "workspace_id": "Workspace",
        "stripe_event_id": "Event id",
        "stripe_created": "Created at Stripe (epoch)",
    }
    column_searchable_list = ("stripe_event_id", "account")
    column_filters = ("type", "status", "workspace_id", "livemode", "received_at")
    column_default_sort = ("id", True)
    column_formatters = {
        "workspace_id": workspace_link,
        "stripe_event_id": as_code,
        "status": status_badge,
    }
    column_formatters_detail = {**column_formatters, "payload": _payload, "error": _error}

    @action("replay", "Replay", "Replay the selected events? Each is processed again.")
    def action_replay(self, ids: list[str]) -> None:
        events = self.get_query().filter(StripeEvent.id.in_(int_ids(ids))).all()
        for event in events:
            replay(db.session, event)
            self.audit("replay", event, stripe_event_id=event.stripe_event_id, type=event.type)
        db.session.commit()  # the processing tasks are sent after this commit
        flash(f"{len(events)} event(s) queued for processing again.", "success")
