"""Settings → Retry policy: the policy as text fields, a preview of its plan for a
sample failure (``app/recovery/preview.py``), a what-if replay of the draft over past
failures (``app/insights/replay.py``), save and reset."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..accounts.access import current_workspace, require_role
from ..audit import services as audit
from ..extensions import db
from ..insights import replay as what_if
from ..insights import replay_data
from ..recovery import config, high_value, holdout, preview, queries
from ..recovery.policy import DEFAULT_CADENCE, DEFAULT_POLICY, LEGAL_MAXIMA, Policy
from ..recovery.policy_text import (
    PolicyForm,
    PolicyTextError,
    form_from_fields,
    policy_from_form,
    policy_to_form,
)
from .chrome import feature_blueprint, on_refusal, settings
from .recovery import pausable

bp = feature_blueprint("retry_policy", __name__)

CAPS = {
    "max_attempts_per_invoice_30d": "Attempts per invoice in any 30 days (ours and Stripe's)",
    "max_auto_retries": "Automatic retries per campaign",
    "visa_max_30d": "Visa: attempts per card in any 30 days",
    "mastercard_max_24h": "Mastercard: attempts per card in 24 hours",
    "mastercard_max_30d": "Mastercard: attempts per card in any 30 days",
}


@bp.get("/settings/recovery")
def show():
    policy = config.policy_for(db.session, current_workspace().id)
    return _page(policy_to_form(policy), policy)


@bp.post("/settings/recovery")
@require_role("owner", "admin")
def save():
    workspace = current_workspace()
    current = config.policy_for(db.session, workspace.id)
    form = form_from_fields(request.form)

    on_refusal(lambda exc: _refused(form, current, exc, "Nothing was saved."))
    config.save_policy(db.session, workspace.id, policy_from_form(form, current))
    flash("Retry policy saved. Campaigns use it from their next failure.", "success")
    return redirect(url_for("retry_policy.show"))


@bp.post("/settings/recovery/replay")
def replay():
    """Replay the form's draft (never saved) over the workspace's past failures. It
    changes nothing and calls no one, so every member may run it."""
    workspace = current_workspace()
    current = config.policy_for(db.session, workspace.id)
    form = form_from_fields(request.form)
    on_refusal(lambda exc: _refused(form, current, exc, "Nothing was replayed."))
    draft = policy_from_form(form, current).validate()
    now = dt.datetime.now(dt.UTC)
    history = replay_data.load(
        db.session, workspace.id, now=now, import_days=settings().import_days
    )
    result = what_if.replay(draft, history.failures, truncated=history.truncated)
    return _page(form, current, replayed=(result, history, draft == current))[0]


def _refused(form: PolicyForm, current: Policy, exc, title: str) -> str:
    errors = list(exc.errors)
    if isinstance(exc, PolicyTextError):
        # Report what is wrong with the parts that did parse too, not one round at a time.
        errors += exc.partial.errors() if exc.partial else []
    bad = getattr(exc, "fields", frozenset())
    return _page(form, current, errors, bad_fields=bad, error_title=title)[0]


@bp.post("/settings/recovery/reset")
@require_role("owner", "admin")
def reset():
    config.save_policy(db.session, current_workspace().id, DEFAULT_POLICY)
    flash("Retry policy reset to Backstop's defaults.", "success")
    return redirect(url_for("retry_policy.show"))


@bp.post("/settings/recovery/holdout")
@require_role("owner", "admin")
def save_holdout():
    """Hold out a share of failed payments from now on (audited); 0 turns it off."""
    workspace = current_workspace()
    typed = request.form.get("percent", "")
    percent, error = holdout.check_percent(typed)
    if percent is None:
        policy = config.policy_for(db.session, workspace.id)
        page, _status = _page(
            policy_to_form(policy), policy, holdout_errors=[error or ""], holdout_typed=typed
        )
        return page, 400
    before, _salt = config.holdout_of(db.session, workspace.id)
    config.save_holdout(db.session, workspace.id, percent)
    audit.record(
        db.session,
        actor_id=current_user.id,
        actor_label=current_user.email,
        action="recovery.holdout_saved",
        target_type="workspace",
        target_id=str(workspace.id),
        workspace_id=workspace.id,
        percent=percent,
        was=before,
    )
    if percent:
        flash(
            f"{percent} % of failed payments from now on get no Backstop action, "
            "to measure the lift.",
            "success",
        )
    else:
        flash("Holdout off: every failed payment from now on gets Backstop's help.", "success")
    return redirect(url_for("retry_policy.show") + "#holdout")


@bp.post("/settings/recovery/high-value")
@require_role("owner", "admin")
def save_high_value():
    """The threshold above which a failed payment is high-value (audited); empty: off."""
    workspace = current_workspace()
    typed = {name: request.form.get(name, "") for name in ("amount", "currency")}
    policy = config.policy_for(db.session, workspace.id)
    on_refusal(
        lambda exc: _page(
            policy_to_form(policy), policy, high_value_form={**typed, "errors": exc.errors}
        )[0]
    )
    threshold = high_value.parse_threshold(typed["amount"], typed["currency"])
    before = high_value.threshold_of(db.session, workspace.id)
    high_value.save_threshold(db.session, workspace.id, threshold)
    audit.record(
        db.session,
        actor_id=current_user.id,
        actor_label=current_user.email,
        action="recovery.high_value_saved",
        target_type="workspace",
        target_id=str(workspace.id),
        workspace_id=workspace.id,
        threshold=list(threshold) if threshold else None,
        was=list(before) if before else None,
    )
    flash(
        f"Failed payments of {high_value.threshold_text(threshold)} or more are high-value "
        "from now on."
        if threshold
        else "High-value payments off: every failed payment gets the usual treatment.",
        "success",
    )
    return redirect(url_for("retry_policy.show") + "#high-value")


def _page(
    form: PolicyForm,
    policy: Policy,
    errors: list[str] | None = None,
    *,
    bad_fields: set[str] | frozenset[str] = frozenset(),
    holdout_errors: list[str] | None = None,
    holdout_typed: str | None = None,
    error_title: str = "Nothing was saved.",
    replayed: tuple[what_if.Replay, replay_data.History, bool] | None = None,
    high_value_form: dict[str, Any] | None = None,
) -> tuple[str, int]:
    workspace = current_workspace()
    sample = preview.build(policy, request.args, workspace.timezone, dt.datetime.now(dt.UTC))
    status = 400 if errors is None and sample.error else 200
    return render_template(
        "dashboard/retry_policy.html",
        form=form,
        errors=errors or [],
        error_title=error_title,
        replayed=replayed,
        replay_cap=replay_data.MAX_FAILURES,
        replay_days=replay_data.LIVE_DAYS,
        bad_fields=bad_fields,
        caps=CAPS,
        maxima=LEGAL_MAXIMA,
        class_options=[str(c) for c in preview.DeclineClass],
        default_cadence=DEFAULT_CADENCE,
        preview=sample,
        code_groups=preview.code_groups(policy),
        brands=preview.BRANDS,
        timezones=preview.timezones(),
        pause=queries.pause_state(db.session, workspace.id),
        pausable=pausable(workspace.id, queries.counts(db.session, workspace.id)),
        holdout_percent=config.holdout_of(db.session, workspace.id)[0],
        holdout_max=holdout.MAX_PERCENT,
        holdout_errors=holdout_errors or [],
        holdout_typed=holdout_typed,
        high_value=high_value.threshold_of(db.session, workspace.id),
        high_value_form=high_value_form or {},
        stripe_retries_on=queries.stripe_retries_on(
            db.session, workspace.id, now=dt.datetime.now(dt.UTC)
        ),
    ), status
