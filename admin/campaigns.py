"""Recovery campaigns for staff. The list reads in the merchant's words and fits a
laptop screen: the customer's and the plan's names (Stripe ids in tooltips), one
decline column, long values cut short with the whole in a tooltip. A campaign's page
has its timeline and charge attempts; admins may retry it now or stop it (both
audited), and the runner still checks every cap when a staff retry runs."""

from __future__ import annotations

from typing import Any

from flask import flash, request, url_for
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from app.extensions import db
from app.models import utcnow
from app.money import format_money
from app.recovery import operations
from app.recovery.models import ATTRIBUTIONS, CAMPAIGN_STATES, Campaign, ChargeAttempt, Step
from app.tenancy import scoped

from . import campaign_names
from .access import actor
from .base import BackstopModelView, as_code, cut, int_ids, workspace_link
from .recovery import badge, choices

DECLINE_CLASSES = ("immediate", "scheduled", "customer_action", "no_recovery")


def _amount(view: Any, context: Any, model: Campaign, name: str) -> str:
    return format_money(model.amount_minor, model.currency)


def _recovered(view: Any, context: Any, model: Campaign, name: str) -> str:
    return format_money(model.recovered_minor, model.currency) if model.recovered_minor else ""


# -- the list: names first, ids in tooltips, nothing wider than it needs ----------------------


def _day(view: Any, context: Any, model: Campaign, name: str) -> Any:
    """The day; the time, in UTC, on hover."""
    value = getattr(model, name)
    if value is None:
        return ""
    return Markup('<span class="text-nowrap" title="{}">{}</span>').format(
        value.strftime("%Y-%m-%d %H:%M:%S UTC"), value.strftime("%Y-%m-%d")
    )


def _customer(view: Any, context: Any, model: Campaign, name: str) -> Any:
    names = campaign_names.names_of(model)
    if names.customer is None:
        return cut(model.customer_stripe_id, code=True)
    title = " · ".join(x for x in (names.email, model.customer_stripe_id) if x)
    return cut(names.customer, title)


def _plan(view: Any, context: Any, model: Campaign, name: str) -> Any:
    subscription = model.subscription_stripe_id
    plan = campaign_names.names_of(model).plan
    if plan is not None:
        return cut(plan, f"{plan} · {subscription}" if subscription else plan)
    if subscription:
        return cut(subscription, code=True)
    return Markup('<span class="text-muted">none</span>')


def _amount_cell(view: Any, context: Any, model: Campaign, name: str) -> Any:
    return Markup('<span class="text-nowrap" title="Invoice {}">{}</span>').format(
        model.invoice_stripe_id, _amount(view, context, model, name)
    )


def _state_cell(view: Any, context: Any, model: Campaign, name: str) -> Any:
    state = badge(view, context, model, "state")
    if not model.attribution:
        return state
    return Markup('{} <small class="text-muted">{}</small>').format(state, model.attribution)


def _decline(view: Any, context: Any, model: Campaign, name: str) -> Any:
    code = model.decline_code or model.failure_code or ""
    title = " · ".join(x for x in (model.decline_class, model.class_reason or "") if x)
    return cut(code or model.decline_class, title)


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


def _customer_detail(view: Any, context: Any, model: Campaign, name: str) -> Any:
    names = campaign_names.names_of(model)
    label = " · ".join(dict.fromkeys(x for x in (names.customer, names.email) if x))
    code = as_code(view, context, model, "customer_stripe_id")
    return Markup("{} {}").format(label, code) if label else code


def _plan_detail(view: Any, context: Any, model: Campaign, name: str) -> Any:
    plan = campaign_names.names_of(model).plan
    code = as_code(view, context, model, "subscription_stripe_id")
    return Markup("{} {}").format(plan, code) if plan else code


# -- the view ---------------------------------------------------------------------------------


class CampaignView(BackstopModelView):
    tenant_owned = True
    admin_actions = ("retry_now", "stop")
    audit_type = "recovery_campaign"

    column_list = (
        *("opened_at", "workspace_id", "customer_stripe_id", "subscription_stripe_id"),
        *("amount", "state", "decline_code", "auto_retries", "closed_at"),
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
        "subscription_stripe_id": "Plan",
        "decline_class": "Class",
        "decline_code": "Decline",
        "auto_retries": "Retries",
        "opened_at": "Opened",
        "closed_at": "Closed",
        "is_stripe_managed": "Stripe's retries on",
        "recovered": "Recovered",
        "staff_actions": "Staff actions",
        "steps": "Timeline (steps)",
        "attempts": "Charge attempts",
    }
    column_searchable_list = ("invoice_stripe_id", "customer_stripe_id", "subscription_stripe_id")
    column_filters = (
        FilterEqual(Campaign.state, "State", options=choices(CAMPAIGN_STATES)),
        FilterEqual(Campaign.decline_class, "Class", options=choices(DECLINE_CLASSES)),
        FilterEqual(Campaign.attribution, "Attribution", options=choices(ATTRIBUTIONS)),
        "workspace_id",
        "is_stripe_managed",
        "opened_at",
    )
    column_sortable_list = ("opened_at", "state", "auto_retries", "closed_at")
    column_default_sort = ("id", True)
    column_formatters = {
        "opened_at": _day,
        "workspace_id": workspace_link,
        "customer_stripe_id": _customer,
        "subscription_stripe_id": _plan,
        "amount": _amount_cell,
        "state": _state_cell,
        "decline_code": _decline,
        "closed_at": _day,
    }
    column_formatters_detail = {
        "workspace_id": workspace_link,
        "invoice_stripe_id": as_code,
        "customer_stripe_id": _customer_detail,
        "subscription_stripe_id": _plan_detail,
        "amount": _amount,
        "state": badge,
        "recovered": _recovered,
        "staff_actions": _staff_actions,
        "steps": _steps,
        "attempts": _attempts,
    }

    def search_placeholder(self) -> str:
        return "An in_, cus_ or sub_ id"

    def row_title(self, model: Any) -> str:
        customer = campaign_names.names_of(model).customer or model.customer_stripe_id
        return f"Campaign #{model.id} · {customer} · {model.invoice_stripe_id}"

    def get_list(self, *args: Any, **kwargs: Any) -> Any:
        count, rows = super().get_list(*args, **kwargs)
        if kwargs.get("execute", True) and rows:
            campaign_names.remember(rows)
        return count, rows

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
