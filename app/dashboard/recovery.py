"""Recovery: campaigns by state, one campaign's timeline, and the pause switches (the
workspace's, and one campaign's)."""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..accounts.access import current_workspace, require_role
from ..dunning import subject_tests
from ..extensions import db
from ..recovery import calls, campaign_pause, campaigns, config, high_value, queries
from ..recovery.models import CAMPAIGN_STATES, IN_FLIGHT, Campaign
from ..stripe import connection as connection_service
from ..stripe.models import MirrorCustomer
from ..tenancy import get_or_404, scoped
from . import checklist
from .chrome import PAGE, feature_blueprint

bp = feature_blueprint("recovery", __name__)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def pausable(workspace_id: int, counts: dict[str, int]) -> bool:
    """Pausing means something once Stripe is connected and a campaign is open."""
    return counts.get(IN_FLIGHT, 0) > 0 and bool(
        connection_service.connected(db.session, workspace_id)
    )


@bp.get("/recovery")
def index():
    workspace = current_workspace()
    state = request.args.get("state", IN_FLIGHT)
    if state not in CAMPAIGN_STATES:
        abort(400, f"unknown tab {state!r}")
    page = max(1, request.args.get("page", 1, type=int))
    now = _now()
    counts = queries.counts(db.session, workspace.id)
    return render_template(
        "dashboard/recovery.html",
        state=state,
        counts=counts,
        pausable=pausable(workspace.id, counts),
        listing=queries.campaigns(db.session, workspace.id, state, page=page, per_page=PAGE),
        recovered=queries.recovered_since(db.session, workspace.id, now=now),
        at_stake=queries.open_amounts(db.session, workspace.id),
        pause=queries.pause_state(db.session, workspace.id),
        to_call=calls.to_call(db.session, workspace.id, now=now) if state == IN_FLIGHT else [],
        stripe_warning=checklist.STRIPE_RETRIES_WARNING
        if queries.stripe_retries_on(db.session, workspace.id, now=now)
        else None,
    )


@bp.get("/recovery/campaigns/<int:campaign_id>")
def campaign(campaign_id: int):
    workspace = current_workspace()
    row = get_or_404(Campaign, workspace.id, id=campaign_id)
    customer = db.session.execute(
        scoped(MirrorCustomer, workspace.id).filter_by(stripe_id=row.customer_stripe_id)
    ).scalar_one_or_none()
    return render_template(
        "dashboard/campaign.html",
        campaign=row,
        customer=customer,
        facts=queries.campaign_facts(db.session, row),
        max_auto_retries=config.policy_for(db.session, workspace.id).max_auto_retries,
        pause_reason=config.pause_reason(db.session, workspace.id, row),
        entries=queries.timeline(db.session, row),
        contact=high_value.contact_from(customer) if row.is_high_value else None,
        sent_subjects=subject_tests.sent_subjects(db.session, row),
    )


@bp.post("/recovery/pause")
@require_role("owner", "admin")
def pause():
    workspace = current_workspace()
    cancelled = campaigns.pause(db.session, workspace.id, actor=current_user.email, now=_now())
    flash(
        f"Recovery is paused: {cancelled} planned {_plural(cancelled, 'retry', 'retries')} "
        "cancelled. Campaigns stay open and still close when an invoice is paid.",
        "success",
    )
    return redirect(_back())


@bp.post("/recovery/resume")
@require_role("owner", "admin")
def resume():
    workspace = current_workspace()
    if not queries.pause_state(db.session, workspace.id).workspace_paused:
        flash("Recovery was not paused for this workspace.", "warning")
        return redirect(_back())
    planned = campaigns.resume(db.session, workspace.id, actor=current_user.email, now=_now())
    flash(
        f"Recovery resumed: {planned} {_plural(planned, 'retry', 'retries')} planned from now.",
        "success",
    )
    return redirect(_back())


@bp.post("/recovery/campaigns/<int:campaign_id>/pause")
@require_role("owner", "admin")
def pause_campaign(campaign_id: int):
    """Hold one campaign (the customer called support, say): its planned retries and
    messages are cancelled until it is resumed; a payment still closes it."""
    campaign = _pause_or_resume(campaign_id, pause=True)
    flash(
        "This campaign is paused: no retries, emails or texts until you resume it. "
        "A payment still closes it, and its window still runs.",
        "success",
    )
    return redirect(url_for("recovery.campaign", campaign_id=campaign.id))


@bp.post("/recovery/campaigns/<int:campaign_id>/resume")
@require_role("owner", "admin")
def resume_campaign(campaign_id: int):
    campaign = _pause_or_resume(campaign_id, pause=False)
    flash("This campaign is resumed: its retries and emails are planned from now.", "success")
    return redirect(url_for("recovery.campaign", campaign_id=campaign.id))


def _pause_or_resume(campaign_id: int, *, pause: bool) -> Campaign:
    campaign = get_or_404(Campaign, current_workspace().id, id=campaign_id)
    campaign_pause.switch(db.session, campaign, pause=pause, actor_id=current_user.id,
                          actor_label=current_user.email, now=_now())  # fmt: skip
    return campaign


def _back() -> str:
    if request.form.get("back") == "settings":
        return url_for("retry_policy.show")
    return url_for("recovery.index")


def _plural(count: int, one: str, many: str) -> str:
    return one if count == 1 else many
