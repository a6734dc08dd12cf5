"""The Recover loop for staff: campaigns with their timeline, the scheduled steps and
every charge attempt. Admins may retry a campaign now or stop it (both audited); the
runner still checks every cap when a staff retry runs."""

from __future__ import annotations

from typing import Any

from flask import flash, request, url_for
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import FilterEqual, IntEqualFilter
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from app.extensions import db
from app.models import utcnow
from app.money import format_money
from app.recovery import operations
from app.recovery.models import ATTRIBUTIONS, CAMPAIGN_STATES, Campaign, ChargeAttempt, Step
from app.tenancy import scoped

from .access import actor
from .base import BackstopModelView, as_code, int_ids, status_badge, workspace_link

DECLINE_CLASSES = ("immediate", "scheduled", "customer_action", "no_recovery")
STEP_STATUSES = ("pending", "queued", "running", "done", "cancelled")
STEP_KINDS = ("retry", "window_end")
STEP_OUTCOMES = ("paid", "declined", "refused", "closed", "cancelled", "error")

#: Badge tones for recovery values; the rest as :data:`admin.base.STATUS_TONES` says.
TONES = {"in_flight": "info", "recovered": "success", "paid": "success", "lost": "danger"}
TONES |= {"error": "danger", "declined": "warning", "refused": "warning"}


def _choices(values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(v, v) for v in values]


def _amount(view: Any, context: Any, model: Campaign, name: str) -> str:
    return format_money(model.amount_minor, model.currency)


def _recovered(view: Any, context: Any, model: Campaign, name: str) -> str:
    return format_money(model.recovered_minor, model.currency) if model.recovered_minor else ""


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


# -- the campaign's page: its timeline, its attempts and the staff actions ----------------------


def _table(headers: tuple[str, ...], rows: list[tuple[Any, ...]]) -> Markup:
    """A small table; every cell is escaped unless it is Markup already."""
    cells = Markup("").join
    return Markup(
        '<table class="table table-sm mb-1"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>'
    ).format(
        cells(Markup("<th>{}</th>").format(h) for h in headers),
        cells(
            Markup("<tr>{}</tr>").format(cells(Markup("<td>{}</td>").format(c) for c in row))
            for row in rows
        ),
    )


def _steps(view: Any, context: Any, model: Campaign, name: str) -> Any:
    steps = db.session.scalars(
        scoped(Step, model.workspace_id)
        .where(Step.campaign_id == model.id)
        .order_by(Step.due_at, Step.id)
    ).all()
    manual = Markup(' <span class="badge badge-light">manual</span>')
    table = _table(
        ("Step", "Kind", "Due", "Status", "Why now", "Outcome", "Detail", "Ran"),
        [
            (
                f"#{step.id}",
                step.kind,
                _when(step.due_at),
                badge(view, context, step, "status") + ("" if step.is_automatic else manual),
                step.reason,
                badge(view, context, step, "outcome"),
                step.outcome_detail or "",
                _when(step.executed_at),
            )
            for step in steps
        ],
    )
    link = url_for(
        "recovery_steps.index_view", workspace_id=model.workspace_id, flt0_campaign_equals=model.id
    )
    return Markup('{}<a href="{}">Open in the Steps list</a>').format(table, link)


def _attempts(view: Any, context: Any, model: Campaign, name: str) -> Any:
    attempts = db.session.scalars(
        scoped(ChargeAttempt, model.workspace_id)
        .where(ChargeAttempt.invoice_stripe_id == model.invoice_stripe_id)
        .order_by(ChargeAttempt.at, ChargeAttempt.id)
    ).all()
    if not attempts:
        return Markup('<span class="text-muted">none recorded</span>')
    return _table(
        ("At", "By", "Result", "Charge", "Code"),
        [
            (
                _when(a.at),
                a.source,
                "succeeded" if a.succeeded else "declined",
                as_code(view, context, a, "charge_stripe_id"),
                a.decline_code or a.failure_code or "",
            )
            for a in attempts
        ],
    )


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else ""


def _action_form(
    view: Any, model: Campaign, name: str, label: str, confirm: str, extra: Any = ""
) -> Any:
    """One row action posted to Flask-Admin's action endpoint, as the list's menu does."""
    return Markup(
        '<form method="post" action="{}" class="form-inline d-inline-flex mr-3 mb-2" '
        "onsubmit=\"return confirm('{}');\">"
        '<input type="hidden" name="csrf_token" value="{}">'
        '<input type="hidden" name="action" value="{}">'
        '<input type="hidden" name="rowid" value="{}">'
        '<input type="hidden" name="url" value="{}">{}'
        '<button class="btn btn-warning btn-sm">{}</button></form>'
    ).format(
        view.get_url(".action_view"),
        confirm,
        generate_csrf(),
        name,
        model.id,
        request.full_path,
        extra,
        label,
    )


def _staff_actions(view: Any, context: Any, model: Campaign, name: str) -> Any:
    if not model.is_open:
        return Markup('<span class="text-muted">closed: nothing to do</span>')
    forms = []
    if view.is_action_allowed("retry_now"):
        forms.append(
            _action_form(
                view,
                model,
                "retry_now",
                "Retry now",
                "Charge this invoice again at the next sweep? The caps still apply.",
            )
        )
    if view.is_action_allowed("stop"):
        reason = Markup(
            '<input name="reason" class="form-control form-control-sm mr-2" maxlength="200" '
            'required placeholder="Why stop (for the timeline)">'
        )
        forms.append(
            _action_form(
                view, model, "stop", "Stop campaign", "Stop this campaign for good?", extra=reason
            )
        )
    if not forms:
        return Markup('<span class="text-muted">read-only</span>')
    return Markup("").join(forms)


# -- the views ------------------------------------------------------------------------------


class CampaignView(BackstopModelView):
    tenant_owned = True
    admin_actions = ("retry_now", "stop")
    audit_type = "recovery_campaign"

    column_list = (
        *("opened_at", "workspace_id", "invoice_stripe_id", "customer_stripe_id", "amount"),
        *("state", "decline_class", "decline_code", "auto_retries", "attribution", "closed_at"),
    )
    column_details_list = (
        *("id", "workspace_id", "state", "close_reason", "attribution", "amount", "recovered"),
        *("invoice_stripe_id", "customer_stripe_id", "subscription_stripe_id", "test_clock"),
        *("decline_class", "class_reason", "decline_code", "failure_code", "advice_code"),
        *("network_advice_code", "card_brand", "payment_method_id", "customer_tz"),
        *("is_stripe_managed", "auto_retries", "opened_at", "last_failure_at", "window_ends_at"),
        *("closed_at", "staff_actions", "steps", "attempts"),
    )
    column_labels = {
        "workspace_id": "Workspace",
        "invoice_stripe_id": "Invoice",
        "customer_stripe_id": "Customer",
        "subscription_stripe_id": "Subscription",
        "decline_class": "Class",
        "auto_retries": "Auto retries",
        "is_stripe_managed": "Stripe's retries on",
        "recovered": "Recovered",
        "staff_actions": "Staff actions",
        "steps": "Timeline (steps)",
        "attempts": "Charge attempts",
    }
    column_searchable_list = ("invoice_stripe_id", "customer_stripe_id", "subscription_stripe_id")
    column_filters = (
        FilterEqual(Campaign.state, "State", options=_choices(CAMPAIGN_STATES)),
        FilterEqual(Campaign.decline_class, "Class", options=_choices(DECLINE_CLASSES)),
        FilterEqual(Campaign.attribution, "Attribution", options=_choices(ATTRIBUTIONS)),
        "workspace_id",
        "is_stripe_managed",
        "opened_at",
    )
    column_sortable_list = ("opened_at", "state", "auto_retries", "closed_at")
    column_default_sort = ("id", True)
    column_formatters = {
        "workspace_id": workspace_link,
        "invoice_stripe_id": as_code,
        "customer_stripe_id": as_code,
        "amount": _amount,
        "state": badge,
    }
    column_formatters_detail = {
        **column_formatters,
        "subscription_stripe_id": as_code,
        "recovered": _recovered,
        "staff_actions": _staff_actions,
        "steps": _steps,
        "attempts": _attempts,
    }

    def row_title(self, model: Any) -> str:
        return f"Campaign #{model.id} · {model.invoice_stripe_id}"

    def _campaigns(self, ids: list[str]) -> list[Campaign]:
        """The posted campaigns, within the scope (never one outside it)."""
        return self.get_query().filter(Campaign.id.in_(int_ids(ids))).order_by(Campaign.id).all()

    def _act(self, ids: list[str], verb: str, run: Any, **details: Any) -> int:
        """Run ``run(campaign)`` on each posted campaign in the scope, audit each one it
        did, flash each refusal, and commit once. Returns how many it did."""
        done = 0
        for campaign in self._campaigns(ids):
            try:
                more = run(campaign) or {}
            except operations.OperationRefused as refused:
                flash(str(refused), "warning")
                continue
            self.audit(
                verb, campaign, invoice_stripe_id=campaign.invoice_stripe_id, **details, **more
            )
            done += 1
        db.session.commit()
        return done

    @action(
        "retry_now",
        "Retry now",
        "Retry the selected campaigns at the next sweep? Each counts as an automatic retry "
        "and every cap is checked when it runs.",
    )
    def action_retry_now(self, ids: list[str]) -> None:
        staff, now = actor()["actor_label"], utcnow()

        def retry(campaign: Campaign) -> dict[str, int]:
            return {"step_id": operations.retry_now(db.session, campaign, actor=staff, now=now).id}

        planned = self._act(ids, "retry_now", retry)
        if planned:
            flash(
                f"Retry planned for {planned} campaign(s); it runs at the next sweep "
                "(within a minute) if the caps allow it.",
                "success",
            )

    @action("stop", "Stop campaign", "Stop the selected campaigns for good (abandoned)?")
    def action_stop(self, ids: list[str]) -> None:
        staff, now = actor()["actor_label"], utcnow()
        reason = request.form.get("reason", "")[:200].strip() or "from the back office"

        def stop(campaign: Campaign) -> None:
            operations.stop(db.session, campaign, actor=staff, now=now, reason=reason)

        stopped = self._act(ids, "stop", stop, reason=reason)
        if stopped:
            flash(f"{stopped} campaign(s) stopped; their planned steps are cancelled.", "success")


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
        FilterEqual(Step.status, "Status", options=_choices(STEP_STATUSES)),
        FilterEqual(Step.kind, "Kind", options=_choices(STEP_KINDS)),
        FilterEqual(Step.outcome, "Outcome", options=_choices(STEP_OUTCOMES)),
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
        FilterEqual(ChargeAttempt.source, "By", options=_choices(("backstop", "stripe"))),
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
