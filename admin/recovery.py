"""The Recover loop's schedule for staff: every step (retries, window ends) with why it
runs when it does, and every charge attempt. Campaigns are in :mod:`admin.campaigns`;
the badges and links here serve both."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_admin.contrib.sqla.filters import FilterEqual, IntEqualFilter
from markupsafe import Markup

from app.recovery.models import ChargeAttempt, Step

from .base import BackstopModelView, as_code, status_badge, workspace_link

STEP_STATUSES = ("pending", "queued", "running", "done", "cancelled")
STEP_KINDS = ("retry", "window_end")
STEP_OUTCOMES = ("paid", "declined", "refused", "closed", "cancelled", "error")

#: Badge tones for recovery values; the rest as :data:`admin.base.STATUS_TONES` says.
TONES = {"in_flight": "info", "recovered": "success", "paid": "success", "lost": "danger"}
TONES |= {"error": "danger", "declined": "warning", "refused": "warning"}


def choices(values: tuple[str, ...]) -> list[tuple[str, str]]:
    """A filter's options: each value as itself."""
    return [(v, v) for v in values]


def badge(view: Any, context: Any, model: Any, name: str) -> Any:
    value = getattr(model, name)
    if value is None:
        return ""
    if value not in TONES:
        return status_badge(view, context, model, name)
    return Markup('<span class="badge badge-{}">{}</span>').format(TONES[value], value)


def campaign_link(view: Any, context: Any, model: Any, name: str) -> Any:
    campaign_id = getattr(model, name)
    if campaign_id is None:
        return Markup('<span class="text-muted">none</span>')
    href = url_for("recovery_campaigns.details_view", id=campaign_id)
    return Markup('<a href="{}">#{}</a>').format(href, campaign_id)


# -- the views ------------------------------------------------------------------------------


class StepView(BackstopModelView):
    tenant_owned = True
    audit_type = "recovery_step"

    column_list = (
        *("due_at", "workspace_id", "campaign_id", "kind", "status", "is_automatic", "reason"),
        *("outcome", "outcome_detail", "executed_at"),
    )
    column_details_list = (
        *("id", "workspace_id", "campaign_id", "kind", "due_at", "test_clock", "status"),
        *("is_automatic", "reason", "lease_until", "attempts", "attempt_number", "outcome"),
        *("outcome_detail", "executed_at", "created_at"),
    )
    column_labels = {
        "workspace_id": "Workspace",
        "campaign_id": "Campaign",
        "is_automatic": "Automatic",
        "reason": "Why now",
        "attempts": "Claims",
        "attempt_number": "Invoice attempt #",
    }
    column_filters = (
        FilterEqual(Step.status, "Status", options=choices(STEP_STATUSES)),
        FilterEqual(Step.kind, "Kind", options=choices(STEP_KINDS)),
        FilterEqual(Step.outcome, "Outcome", options=choices(STEP_OUTCOMES)),
        IntEqualFilter(Step.campaign_id, "Campaign"),
        "is_automatic",
        "workspace_id",
        "due_at",
    )
    column_sortable_list = ("due_at", "status", "executed_at")
    column_default_sort = ("id", True)
    column_formatters = {
        "workspace_id": workspace_link,
        "campaign_id": campaign_link,
        "status": badge,
        "outcome": badge,
    }
    column_formatters_detail = column_formatters

    def row_title(self, model: Any) -> str:
        return f"Step #{model.id} of campaign #{model.campaign_id}"


class ChargeAttemptView(BackstopModelView):
    tenant_owned = True
    audit_type = "recovery_attempt"

    column_list = (
        *("at", "workspace_id", "campaign_id", "invoice_stripe_id", "charge_stripe_id", "source"),
        *("succeeded", "card_brand", "decline_code", "failure_code", "advice_code"),
    )
    column_details_list = (
        *("id", "workspace_id", "campaign_id", "invoice_stripe_id", "charge_stripe_id", "at"),
        *("source", "step_id", "succeeded", "card_brand", "card_fingerprint", "decline_code"),
        *("failure_code", "advice_code", "network_advice_code"),
    )
    column_labels = {
        "workspace_id": "Workspace",
        "campaign_id": "Campaign",
        "invoice_stripe_id": "Invoice",
        "charge_stripe_id": "Charge",
        "source": "By",
    }
    column_searchable_list = ("invoice_stripe_id", "charge_stripe_id")
    column_filters = (
        FilterEqual(ChargeAttempt.source, "By", options=choices(("backstop", "stripe"))),
        "succeeded",
        "card_brand",
        "decline_code",
        "workspace_id",
        "at",
    )
    column_default_sort = ("id", True)
    column_formatters = {
        "workspace_id": workspace_link,
        "campaign_id": campaign_link,
        "invoice_stripe_id": as_code,
        "charge_stripe_id": as_code,
    }
    column_formatters_detail = column_formatters

    def row_title(self, model: Any) -> str:
        return f"{model.charge_stripe_id} (#{model.id})"
