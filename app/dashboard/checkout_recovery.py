"""Checkout recovery: what the reminders to customers who left a subscription checkout
brought back, the campaigns, the pause switch, and Settings → Checkout recovery (on or
off, the reminders' hours, where consent comes from, the window, the copy per reminder
with a preview and a test send). Thin views over ``app.checkout_recovery``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

import emails

from ..accounts.access import can, current_workspace, require_role
from ..accounts.models import Workspace
from ..audit import services as audit
from ..checkout_recovery import copy as recovery_copy
from ..checkout_recovery import policy, queries
from ..checkout_recovery import settings as recovery_settings
from ..checkout_recovery.models import CheckoutRecoveryCampaign
from ..checkout_recovery.touches import TEMPLATE, context_for
from ..dunning import config as dunning_config
from ..extensions import db
from ..models import utcnow
from ..outbox import services as outbox
from .chrome import PAGE, feature_blueprint, on_refusal, settings

bp = feature_blueprint("checkout_recovery", __name__)

PERIODS = {"30": "Last 30 days", "90": "Last 90 days", "365": "Last 12 months"}
STATE_LABELS = {
    "active": "Under way",
    "recovered": "Recovered",
    "returned": "Checked out on their own",
    "stopped": "Stopped",
    "ended": "Ended",
}
VIA_LABELS = {"link": "through the reminder's link", "email": "within the window after a reminder"}
CONSENT_LABELS = {
    "stripe": "Stripe Checkout's marketing-consent box (the customer ticked it)",
    "metadata": f"Your own records: the session's metadata[{policy.CONSENT_KEY}] is opt_in",
}
TOUCHES = range(1, policy.MAX_TOUCHES + 1)
TEST_PREFIX = "[Test] "


@bp.get("/checkout-recovery")
def index():
    workspace = current_workspace()
    period = request.args.get("days", "30")
    if period not in PERIODS:
        period = "30"
    since = utcnow() - dt.timedelta(days=int(period))
    page = max(1, request.args.get("page", 1, type=int))
    config = recovery_settings.settings_for(db.session, workspace.id)
    return render_template(
        "dashboard/checkout_recovery.html",
        period=period,
        periods=PERIODS,
        figures=queries.figures(db.session, workspace.id, since=since),
        listing=queries.campaigns(db.session, workspace.id, page=page, per_page=PAGE),
        config=config,
        delays=recovery_settings.delays_of(config),
        state_labels=STATE_LABELS,
        via_labels=VIA_LABELS,
    )


@bp.post("/checkout-recovery/pause")
@require_role("owner", "admin")
def pause():
    stopped = _switch(paused=True)
    flash(
        f"Checkout recovery is paused: {stopped} stopped, none starts until you resume.", "success"
    )
    return redirect(url_for("checkout_recovery.index"))


@bp.post("/checkout-recovery/resume")
@require_role("owner", "admin")
def resume():
    _switch(paused=False)
    flash(
        "Checkout recovery resumed: checkouts that expire from now on start campaigns.", "success"
    )
    return redirect(url_for("checkout_recovery.index"))


def _switch(*, paused: bool) -> int:
    workspace = current_workspace()
    stopped = recovery_settings.set_paused(
        db.session, workspace.id, paused, by=current_user.email, now=utcnow()
    )
    _audit("paused" if paused else "resumed", workspace, stopped=stopped)
    return stopped


def _audit(what: str, workspace: Workspace, **details: Any) -> None:
    audit.record(
        db.session,
        actor_id=current_user.id,
        actor_label=current_user.email,
        action=f"checkout_recovery.{what}",
        target_type="workspace",
        target_id=str(workspace.id),
        workspace_id=workspace.id,
        **details,
    )


# -- settings -----------------------------------------------------------------------------------


@bp.get("/settings/checkout-recovery")
def settings_page():
    stored = recovery_settings.settings_for(db.session, current_workspace().id)
    delays = recovery_settings.delays_of(stored)
    form = {
        "is_enabled": stored.is_enabled,
        "delays": [str(d) for d in delays] + [""] * (policy.MAX_TOUCHES - len(delays)),
        "consent_source": stored.consent_source,
        "attribution_days": str(stored.attribution_days),
        "copy": stored.copy or {},
    }
    return _page(form)


@bp.post("/settings/checkout-recovery")
@require_role("owner", "admin")
def save():
    workspace = current_workspace()
    values, shown, errors = _form()
    if errors:
        errors += recovery_settings.check(**{k: v for k, v in values.items() if k != "is_enabled"})[
            0
        ]
        return _page(shown, errors), 400
    on_refusal(lambda exc: _page(shown, exc.errors))
    recovery_settings.save(db.session, workspace.id, **values)
    _audit(
        "settings_saved",
        workspace,
        is_enabled=values["is_enabled"],
        delays_hours=values["delays_hours"],
        consent_source=values["consent_source"],
    )
    flash(
        "Checkout-recovery settings saved. Campaigns under way keep their planned reminders.",
        "success",
    )
    return redirect(url_for("checkout_recovery.settings_page"))


@bp.post("/settings/checkout-recovery/test")
@require_role("owner", "admin")
def test_send():
    """Email reminder ``touch`` as saved, on sample data, to the signed-in member (marked
    as a test: nothing about it counts)."""
    touch = request.form.get("touch", type=int)
    if touch not in TOUCHES:
        return _page(_stored_form(), [f"choose a reminder from 1 to {policy.MAX_TOUCHES}"]), 400
    workspace = current_workspace()
    context = sample_context(workspace, touch)
    context["subject"] = TEST_PREFIX + context["subject"]
    mail = dunning_config.settings_for(db.session, workspace.id)
    sender = outbox.sender_for(db.session, workspace.id, mail.from_name or workspace.name)
    message = outbox.send(
        db.session,
        template=TEMPLATE,
        to=current_user.email,
        context=context,
        from_email=sender.from_addr,
        workspace_id=workspace.id,
        reply_to=mail.reply_to,
        blocked=sender.blocked,
    )
    if message.status == "blocked":
        return _page(_stored_form(), [f"the test email was not sent: {message.error}"]), 409
    _audit("test_sent", workspace, touch=touch)
    flash(f"Test of the {policy.touch_label(touch)} sent to {message.to_email}.", "success")
    return redirect(url_for("checkout_recovery.settings_page"))


def sample_context(workspace: Workspace, touch: int) -> dict[str, Any]:
    base = settings().base_url.rstrip("/")
    sample = CheckoutRecoveryCampaign(
        workspace_id=workspace.id,
        customer_name="Jordan Lee",
        plan_name="Pro",
        amount_minor=4900,
        currency="usd",
        interval="month",
        interval_count=1,
        recovery_url="https://checkout.stripe.com/c/recover/sample",
    )
    stored = recovery_settings.settings_for(db.session, workspace.id)
    context = context_for(workspace, sample, number=touch, settings=stored)
    context["unsubscribe_url"] = f"{base}/unsubscribe/sample-link"
    return context


def _stored_form() -> dict[str, Any]:
    stored = recovery_settings.settings_for(db.session, current_workspace().id)
    delays = recovery_settings.delays_of(stored)
    return {
        "is_enabled": stored.is_enabled,
        "delays": [str(d) for d in delays] + [""] * (policy.MAX_TOUCHES - len(delays)),
        "consent_source": stored.consent_source,
        "attribution_days": str(stored.attribution_days),
        "copy": stored.copy or {},
    }


def _int(text: str) -> int | None:
    try:
        return int(text.strip())
    except ValueError:
        return None


def _form() -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """The form's values for the service, as shown back, and what is wrong with their
    shape (not a number, a gap in the sequence)."""
    data = request.form
    errors: list[str] = []
    typed = [data.get(f"delay_{n}", "").strip() for n in TOUCHES]
    delays: list[int] = []
    for number, text in enumerate(typed, start=1):
        if not text:
            continue
        hours = _int(text)
        if hours is None:
            errors.append(f"the hours before the {policy.touch_label(number)} must be a number")
        elif len(delays) != number - 1:
            errors.append(f"the {policy.touch_label(number)} needs the ones before it")
        else:
            delays.append(hours)
    if not typed[0]:
        errors.append(f"say when the {policy.touch_label(1)} goes")
    days_text = data.get("attribution_days", "").strip()
    days = _int(days_text)
    if days is None:
        errors.append("the attribution window must be a whole number of days")
    copy = {
        str(n): {
            "subject": data.get(f"copy-{n}-subject", ""),
            "message": data.get(f"copy-{n}-message", ""),
        }
        for n in TOUCHES
        if data.get(f"copy-{n}-subject", "").strip() or data.get(f"copy-{n}-message", "").strip()
    }
    values = {
        "is_enabled": data.get("is_enabled") == "1",
        "delays_hours": delays,
        "copy": copy,
        "consent_source": data.get("consent_source", "stripe"),
        "attribution_days": days if days is not None else policy.DEFAULT_ATTRIBUTION_DAYS,
    }
    shown = {**values, "delays": typed, "attribution_days": days_text}
    return values, shown, errors


def _page(form: dict[str, Any], errors: list[str] | None = None) -> str:
    workspace = current_workspace()
    previews = {n: emails.render(TEMPLATE, sample_context(workspace, n)) for n in TOUCHES}
    return render_template(
        "dashboard/checkout_recovery_settings.html",
        form=form,
        errors=errors or [],
        touches=list(TOUCHES),
        touch_label=policy.touch_label,
        defaults={n: recovery_copy.default_copy(n) for n in TOUCHES},
        placeholders=recovery_copy.PLACEHOLDERS,
        consent_labels=CONSENT_LABELS,
        delay_range=policy.DELAY_RANGE,
        attribution_range=policy.ATTRIBUTION_RANGE,
        previews=previews,
        editable=can("admin"),
    )
