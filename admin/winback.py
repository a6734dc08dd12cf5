"""Win back for staff: campaigns (who, why, where they stand, what came back) and their
steps in the schedule. Admin staff may stop a campaign (a customer asked support to stop
the emails); it is in the audit log."""

from __future__ import annotations

from typing import Any

from flask import flash
from flask_admin.actions import action

from app.extensions import db
from app.models import utcnow
from app.money import format_money
from app.winback import campaigns
from app.winback.models import STOPPED, WinbackCampaign

from .base import BackstopModelView, as_code, int_ids, status_badge, workspace_link


def _mrr(view: Any, context: Any, model: Any, name: str) -> Any:
    currency = model.regained_currency if name == "regained_mrr_minor" else model.currency
    return format_money(getattr(model, name), currency or model.currency)


class WinbackCampaignView(BackstopModelView):
    tenant_owned = True
    audit_type = "winback_campaign"
    admin_actions = ("stop",)
    column_list = (
        "workspace_id",
        "customer_stripe_id",
        "kind",
        "reason",
        "state",
        "touches_sent",
        "ended_at",
        "won_via",
        "regained_mrr_minor",
    )
    column_details_list = (
        *("id", "workspace_id", "customer_stripe_id", "subscription_stripe_id", "kind"),
        *("reason", "reason_detail", "plan_name", "price_stripe_id", "mrr_minor", "currency"),
        *("customer_tz", "test_clock", "ended_at", "state", "close_reason", "closed_at"),
        *("touches_sent", "last_touch_at", "clicked_at", "won_via", "won_step_id"),
        *("new_subscription_stripe_id", "regained_mrr_minor", "offer_applied", "created_at"),
    )
    column_labels = {
        "workspace_id": "Workspace",
        "customer_stripe_id": "Customer",
        "regained_mrr_minor": "Regained MRR",
        "mrr_minor": "MRR lost",
    }
    column_filters = ("workspace_id", "state", "kind", "reason", "customer_stripe_id")
    column_searchable_list = ("customer_stripe_id", "subscription_stripe_id")
    column_default_sort = ("id", True)
    column_formatters = {
        "workspace_id": workspace_link,
        "customer_stripe_id": as_code,
        "state": status_badge,
        "regained_mrr_minor": _mrr,
        "mrr_minor": _mrr,
    }

    @action("stop", "Stop", "Stop the selected win-back campaigns (no more emails)?")
    def action_stop(self, ids: list[str]) -> None:
        now = utcnow()
        stopped = 0
        for campaign in self.get_query().filter(WinbackCampaign.id.in_(int_ids(ids))).all():
            if campaigns.close(db.session, campaign, STOPPED, reason="stopped by support", at=now):
                self.audit("stop", campaign, customer=campaign.customer_stripe_id)
                stopped += 1
        db.session.commit()
        flash(f"Stopped {stopped} campaign(s).", "success")


class WinbackStepView(BackstopModelView):
    tenant_owned = True
    audit_type = "winback_step"
    column_list = (
        "workspace_id",
        "campaign_id",
        "kind",
        "number",
        "due_at",
        "status",
        "outcome",
        "executed_at",
    )
    column_details_list = (
        *("id", *column_list, "test_clock", "reason", "attempts", "lease_until"),
        *("outcome_detail", "message_id", "opened_at", "clicked_at", "created_at"),
    )
    column_labels = {"workspace_id": "Workspace", "campaign_id": "Campaign", "number": "Touch"}
    column_filters = ("workspace_id", "campaign_id", "status", "kind")
    column_default_sort = ("id", True)
    column_formatters = {"workspace_id": workspace_link, "status": status_badge}
