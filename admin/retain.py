"""Cancel flows for staff, read-only: flows, their published versions, and customers'
sessions (no PII beyond what support needs: Stripe ids, the plan, the reason and the
outcome; the customer's own words stay in the merchant's dashboard). Publishing,
approving and archiving happen in the merchant's dashboard and are in the audit log."""

from __future__ import annotations

import json
from typing import Any

from flask_admin.contrib.sqla.filters import FilterEqual
from markupsafe import Markup

from app.money import format_money
from app.retain.models import CancelSession
from app.retain.policy import describe_offer

from .base import BackstopModelView, as_code, status_badge, workspace_link
from .recovery import choices


def _definition(view: Any, context: Any, model: Any, name: str) -> Any:
    return Markup("<pre class='payload mb-0'>{}</pre>").format(
        json.dumps(getattr(model, name) or {}, indent=2, sort_keys=True)
    )


def _offer(view: Any, context: Any, model: Any, name: str) -> Any:
    return describe_offer(model.offer) if model.offer else ""


def _money(view: Any, context: Any, model: Any, name: str) -> Any:
    return format_money(getattr(model, name), model.currency)


class RetainFlowView(BackstopModelView):
    tenant_owned = True
    audit_type = "retain_flow"
    column_list = (
        "name",
        "workspace_id",
        "status",
        "is_default",
        "share_percent",
        "draft_revision",
        "updated_at",
    )
    column_details_list = (
        *("id", "name", "workspace_id", "template_key", "status", "is_default", "price_ids"),
        *("share_percent", "draft_revision", "approved_revision", "approved_by_id", "approved_at"),
        *("created_at", "updated_at", "archived_at", "draft"),
    )
    column_labels = {
        "workspace_id": "Workspace",
        "is_default": "Default",
        "share_percent": "Share (%)",
    }
    column_filters = ("status", "workspace_id")
    column_searchable_list = ("name",)
    column_default_sort = ("id", True)
    column_formatters = {"workspace_id": workspace_link, "status": status_badge}
    column_formatters_detail = {**column_formatters, "draft": _definition}

    def row_title(self, model: Any) -> str:
        return f"{model.name} (#{model.id})"


class RetainVersionView(BackstopModelView):
    tenant_owned = True
    audit_type = "retain_flow_version"
    column_list = ("flow_id", "number", "workspace_id", "weight", "published_at", "published_by_id")
    column_details_list = (*column_list, "definition")
    column_labels = {"workspace_id": "Workspace", "flow_id": "Flow", "weight": "Traffic (%)"}
    column_filters = ("workspace_id", "flow_id")
    column_default_sort = ("id", True)
    column_formatters = {"workspace_id": workspace_link}
    column_formatters_detail = {**column_formatters, "definition": _definition}


class CancelSessionView(BackstopModelView):
    tenant_owned = True
    audit_type = "retain_session"
    column_list = (
        *("created_at", "workspace_id", "customer_stripe_id", "plan_name", "reason_label"),
        *("offer", "outcome", "cancelled_by", "is_simulation"),
    )
    column_details_list = (
        *("id", "workspace_id", "customer_stripe_id", "subscription_stripe_id", "flow_id"),
        *("version_id", "is_simulation", "plan_name", "amount_minor", "mrr_minor", "created_at"),
        *("expires_at", "opened_at", "current_step", "steps_seen", "reason_label", "offers_shown"),
        *("offer", "offer_error", "outcome", "outcome_at", "cancelled_by", "ends_at"),
        *("still_paying", "checked_at"),
    )
    column_labels = {
        "created_at": "Started",
        "workspace_id": "Workspace",
        "customer_stripe_id": "Customer",
        "subscription_stripe_id": "Subscription",
        "reason_label": "Reason",
        "offer": "Offer taken",
        "is_simulation": "Simulation",
        "mrr_minor": "MRR",
        "amount_minor": "Price",
    }
    column_searchable_list = ("customer_stripe_id", "subscription_stripe_id")
    column_filters = (
        FilterEqual(
            CancelSession.outcome,
            "Outcome",
            options=choices(("saved", "cancelled", "abandoned")),
        ),
        "workspace_id",
        "is_simulation",
        "created_at",
    )
    column_default_sort = ("id", True)
    column_formatters = {
        "workspace_id": workspace_link,
        "customer_stripe_id": as_code,
        "outcome": status_badge,
        "offer": _offer,
    }
    column_formatters_detail = {
        **column_formatters,
        "subscription_stripe_id": as_code,
        "mrr_minor": _money,
        "amount_minor": _money,
    }

    def search_placeholder(self) -> str:
        return "A Stripe customer or subscription id"
