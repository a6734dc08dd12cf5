"""Cancel flows: the list, a new flow from a template, the builder (the flow as a graph,
one step's form with a live preview), publishing, approvals, traffic, simulation.

Thin views over ``app.retain``: load, authorise, call, render; the request commits once
in ``chrome``. Viewers see everything and change nothing.
"""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..accounts.access import can, current_workspace, membership, require_role
from ..dunning import config as dunning_config
from ..errors import Refusal
from ..extensions import db
from ..money import format_money
from ..retain import analytics, drafts, flows, graph, pages, policy, sessions, step_forms
from ..retain import definition as flow_definition
from ..retain.models import RetainFlow
from ..retain.templates import TEMPLATES
from ..stripe import connection as stripe_connection
from ..stripe import subscriptions as stripe_subs
from ..stripe.client import StripeError
from .chrome import feature_blueprint, on_refusal, settings

bp = feature_blueprint("cancel_flows", __name__)

SAMPLE_PLAN = stripe_subs.PriceFacts("price_sample", "Sample plan", 2900, "usd", "month", 1)
OFFER_TYPE_LABELS = {
    "discount": "Discount",
    "pause": "Pause",
    "free_months": "Free months",
    "plan_switch": "Switch plan",
    "book_call": "Book a call",
    "contact_support": "Contact support",
    "redirect": "Link to a page",
}


def _flow(flow_id: int) -> RetainFlow:
    flow = flows.get(db.session, current_workspace().id, flow_id)
    if flow is None:
        abort(404)
    return flow


def _actor() -> tuple[int, str]:
    return current_user.id, current_user.email


def _prices() -> list[stripe_subs.PriceFacts]:
    connection = stripe_connection.connected(db.session, current_workspace().id)
    if connection is None:
        return []
    try:
        return stripe_subs.list_prices(connection)
    except StripeError:
        return []


@bp.get("/cancel-flows")
def index():
    workspace = current_workspace()
    rows = [
        {"flow": flow, "versions": flows.versions_of(db.session, flow)}
        for flow in flows.flows_of(db.session, workspace.id)
    ]
    return render_template(
        "dashboard/cancel_flows/index.html",
        rows=rows,
        archived=flows.flows_of(db.session, workspace.id, archived=True),
        outside=len(
            analytics.outside_cancels(db.session, workspace.id, now=dt.datetime.now(dt.UTC))
        ),
    )


@bp.get("/cancel-flows/new")
def new():
    return render_template("dashboard/cancel_flows/new.html", templates=TEMPLATES)


@bp.post("/cancel-flows/new")
@require_role("owner", "admin")
def create():
    workspace = current_workspace()
    actor_id, actor_label = _actor()
    flow = flows.create_from_template(
        db.session,
        workspace.id,
        request.form.get("template", ""),
        actor_id=actor_id,
        actor_label=actor_label,
        support_email=pages_support_email(workspace.id),
    )
    versions = flows.versions_of(db.session, flow)
    if versions:
        flash(f"{flow.name} is live: version 1 at 100 % traffic.", "success")
    else:
        flash(f"{flow.name} is a draft: finish the highlighted steps, then publish it.", "success")
    return redirect(url_for("cancel_flows.builder", flow_id=flow.id))


def pages_support_email(workspace_id: int) -> str | None:
    return dunning_config.settings_for(db.session, workspace_id).reply_to


@bp.get("/cancel-flows/<int:flow_id>")
def builder(flow_id: int, *, errors: list[str] | None = None, form_step: dict | None = None):
    flow = _flow(flow_id)
    draft = flow.draft
    steps = flow_definition.steps_by_id(draft)
    selected = request.args.get("step") or (form_step or {}).get("id")
    if selected not in steps:
        selected = next(iter(steps), None)
    problems = flow_definition.validate(draft)
    versions = flows.versions_of(db.session, flow)
    return render_template(
        "dashboard/cancel_flows/builder.html",
        flow=flow,
        graph=graph.layout(draft),
        step=form_step or (steps.get(selected) if selected else None),
        step_ids=[s for s in steps if s != selected],
        problems=problems,
        bad_steps={p.step for p in problems if p.step},
        errors=errors or [],
        versions=versions,
        approval=flows.approval_reasons(db.session, flow),
        approved=flows.is_approved(flow),
        is_owner=membership().role == "owner",
        prices=_prices(),
        offer_types=OFFER_TYPE_LABELS,
        addable=drafts.ADDABLE_KINDS,
        merge_fields=flow_definition.MERGE_FIELDS,
        max_reasons=flow_definition.MAX_REASONS,
        max_stories=step_forms.MAX_STORIES,
        editable=can("admin") and flow.status == "active",
    ), (400 if errors else 200)


@bp.post("/cancel-flows/<int:flow_id>/steps/<step_id>")
@require_role("owner", "admin")
def save_step(flow_id: int, step_id: str):
    flow = _flow(flow_id)
    current = flow_definition.steps_by_id(flow.draft).get(step_id)
    if current is None:
        abort(404)
    on_refusal(lambda exc: builder(flow_id, errors=exc.errors, form_step=current)[0])
    step = step_forms.step_from_form(current, request.form)
    problems = drafts.update_step(db.session, flow, step)
    mine = [p.message for p in problems if p.step == step_id]
    flash(
        "Step saved." + (f" Still to fix: {' '.join(mine)}" if mine else ""),
        "warning" if mine else "success",
    )
    return redirect(url_for("cancel_flows.builder", flow_id=flow.id, step=step_id))


@bp.post("/cancel-flows/<int:flow_id>/steps")
@require_role("owner", "admin")
def add_step(flow_id: int):
    flow = _flow(flow_id)
    step_id = drafts.add_step(db.session, flow, request.form.get("kind", ""))
    flash("Step added. Point a reason or a step at it to put it on a path.", "success")
    return redirect(url_for("cancel_flows.builder", flow_id=flow.id, step=step_id))


@bp.post("/cancel-flows/<int:flow_id>/steps/<step_id>/delete")
@require_role("owner", "admin")
def remove_step(flow_id: int, step_id: str):
    flow = _flow(flow_id)
    drafts.remove_step(db.session, flow, step_id)
    flash("Step removed.", "success")
    return redirect(url_for("cancel_flows.builder", flow_id=flow.id))


@bp.post("/cancel-flows/<int:flow_id>/preview")
def preview(flow_id: int):
    """The step as the form stands, as a customer of a sample plan would see it (the
    builder's live preview); nothing is saved."""
    flow = _flow(flow_id)
    current = flow_definition.steps_by_id(flow.draft).get(request.form.get("step_id", ""))
    if current is None:
        abort(404)
    try:
        step = step_forms.step_from_form(current, request.form)
    except Refusal as exc:
        return render_template("dashboard/cancel_flows/preview.html", error=" ".join(exc.errors))
    plan = policy.Plan("Pro", 2900, "usd", "month")
    saving = policy.saving_minor(step.get("offer") or {}, plan) if step["kind"] == "offer" else None
    values = {
        "customer_name": "Sam",
        "plan_name": "Pro",
        "price": pages.price_text(2900, "usd", "month"),
        "period_end": pages.date_text(dt.datetime.now(dt.UTC) + dt.timedelta(days=18)),
    }
    if saving:
        values["offer_saving"] = format_money(saving, "usd")
    offer = policy.describe_offer(step["offer"]) if step["kind"] == "offer" else None
    confirm = next((s for s in flow.draft.get("steps", []) if s.get("kind") == "confirm"), None)
    return render_template(
        "dashboard/cancel_flows/preview.html",
        step=pages.filled(step, values),
        confirm_title=flow_definition.fill((confirm or {}).get("title", "Cancel"), values),
        brand_name=current_workspace().name,
        offer=offer,
        saving=values.get("offer_saving"),
        brand_color=current_workspace().brand_color,
        error=None,
    )


@bp.post("/cancel-flows/<int:flow_id>/publish")
@require_role("owner", "admin")
def publish(flow_id: int):
    flow = _flow(flow_id)
    actor_id, actor_label = _actor()
    version = flows.publish(db.session, flow, actor_id=actor_id, actor_label=actor_label)
    flash(f"Published version {version.number} at 100 % traffic.", "success")
    return redirect(url_for("cancel_flows.builder", flow_id=flow.id))


@bp.post("/cancel-flows/<int:flow_id>/approve")
@require_role("owner")
def approve(flow_id: int):
    flow = _flow(flow_id)
    actor_id, actor_label = _actor()
    flows.approve(
        db.session,
        flow,
        actor_id=actor_id,
        actor_label=actor_label,
        actor_role="owner",
        now=dt.datetime.now(dt.UTC),
    )
    flash("Approved. The draft can be published as it stands.", "success")
    return redirect(url_for("cancel_flows.builder", flow_id=flow.id))


@bp.post("/cancel-flows/<int:flow_id>/weights")
@require_role("owner", "admin")
def weights(flow_id: int):
    flow = _flow(flow_id)
    split: dict[int, int] = {}
    for name, raw in request.form.items():
        if name.startswith("weight_"):
            number = name.removeprefix("weight_")
            if not number.isdigit() or not raw.strip().isdigit():
                raise Refusal("Each share is a whole percent from 0 to 100.")
            split[int(number)] = int(raw)
    flows.set_weights(db.session, flow, split)
    flash("Traffic split saved.", "success")
    return redirect(url_for("cancel_flows.builder", flow_id=flow.id))


@bp.post("/cancel-flows/<int:flow_id>/targeting")
@require_role("owner", "admin")
def targeting(flow_id: int):
    flow = _flow(flow_id)
    share = request.form.get("share_percent", "100").strip()
    if not share.isdigit():
        raise Refusal("The share of customers is a whole percent from 1 to 100.")
    flows.set_targeting(
        db.session,
        flow,
        is_default=request.form.get("is_default") == "1",
        price_ids=[p for p in request.form.getlist("price_ids") if p.startswith("price_")],
        share_percent=int(share),
    )
    flash("Who sees this flow is saved.", "success")
    return redirect(url_for("cancel_flows.builder", flow_id=flow.id))


@bp.post("/cancel-flows/<int:flow_id>/archive")
@require_role("owner", "admin")
def archive(flow_id: int):
    flow = _flow(flow_id)
    actor_id, actor_label = _actor()
    flows.archive(
        db.session, flow, actor_id=actor_id, actor_label=actor_label, now=dt.datetime.now(dt.UTC)
    )
    flash(f"{flow.name} is archived: no new customer sees it.", "success")
    return redirect(url_for("cancel_flows.index"))


@bp.post("/cancel-flows/<int:flow_id>/simulate")
def simulate(flow_id: int):
    """Walk the draft (or a version) as a customer of the chosen plan: no Stripe effect."""
    flow = _flow(flow_id)
    number = request.form.get("version", "")
    version = next(
        (v for v in flows.versions_of(db.session, flow) if str(v.number) == number), None
    )
    walked = version.definition if version is not None else flow.draft
    problems = flow_definition.validate(walked)
    if problems:
        raise Refusal("Fix the draft before simulating it:", *[p.message for p in problems])
    price_id = request.form.get("price", "")
    plan = next((p for p in _prices() if p.id == price_id), SAMPLE_PLAN)
    opened = sessions.simulate(
        db.session,
        flow.workspace_id,
        flow.id,
        walked,
        plan,
        now=dt.datetime.now(dt.UTC),
        version=version,
    )
    base = settings().base_url.rstrip("/")
    return redirect(f"{base}/cancel/{opened.token}", 303)
