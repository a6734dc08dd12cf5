"""Merchant recovery pages: campaigns by state, one campaign's timeline, the retry
policy with a preview of its plan, and the pause switch. Routes live on the dashboard
blueprint (``views.bp``); the views load, authorise, call a service, commit once."""

from __future__ import annotations

import datetime as dt
import functools
import re
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..accounts.access import current_workspace, require_role
from ..extensions import db
from ..money import format_money
from ..recovery import campaigns, config, queries
from ..recovery.cadence import pick_timezone, plan_retries
from ..recovery.declines import (
    CUSTOMER_ACTION_CODES,
    IMMEDIATE_CODES,
    NO_RECOVERY_CODES,
    SCHEDULED_CODES,
    DeclineClass,
    card_block_reason,
    classify,
    normalize_brand,
)
from ..recovery.models import CAMPAIGN_STATES, IN_FLIGHT, Campaign
from ..recovery.policy import (
    CAMPAIGN_WINDOW,
    DEFAULT_CADENCE,
    DEFAULT_POLICY,
    LEGAL_MAXIMA,
    InvalidPolicy,
    Policy,
)
from ..recovery.policy_text import (
    PolicyForm,
    PolicyTextError,
    form_from_fields,
    policy_from_form,
    policy_to_form,
)
from ..stripe.models import MirrorCustomer
from ..tenancy import get_or_404, scoped
from . import checklist
from .views import PAGE, bp

LABELS = {
    "state": {
        "in_flight": "In flight",
        "recovered": "Recovered",
        "lost": "Lost",
        "abandoned": "Abandoned",
    },
    "class": {
        "immediate": "Temporary error",
        "scheduled": "Retried on a cadence",
        "customer_action": "Needs the customer",
        "no_recovery": "Never retried",
    },
    "attribution": {
        "retry": "Backstop retry",
        "card_update": "Card update",
        "customer_paid": "Customer paid",
        "stripe_retry": "Stripe's retry",
    },
}
CAPS = {
    "max_attempts_per_invoice_30d": "Attempts per invoice in any 30 days (ours and Stripe's)",
    "max_auto_retries": "Automatic retries per campaign",
    "visa_max_30d": "Visa: attempts per card in any 30 days",
    "mastercard_max_24h": "Mastercard: attempts per card in 24 hours",
    "mastercard_max_30d": "Mastercard: attempts per card in any 30 days",
}
BRANDS = {"visa": "Visa", "mastercard": "Mastercard", "amex": "American Express", "other": "Other"}
CLASS_OPTIONS = [str(c) for c in DeclineClass]
_CODE = re.compile(r"[a-z0-9_]{1,64}")


# -- formatting (template filters) -------------------------------------------------------------

bp.app_template_filter("money")(format_money)


@bp.app_template_filter("local")
def format_local(moment: dt.datetime | None, tz: str, weekday: bool = False) -> str:
    """A UTC moment as the wall-clock time in ``tz``: ``Mon 9 Mar 2026, 10:00``."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    local = moment.astimezone(zoneinfo.ZoneInfo(pick_timezone(tz, None)))
    text = f"{local.day} {local:%b %Y, %H:%M}"
    return f"{local:%a} {text}" if weekday else text


@bp.app_template_filter("local_input")
def format_local_input(moment: dt.datetime, tz: str) -> str:
    """A UTC moment as a ``datetime-local`` input's value in ``tz``."""
    return f"{moment.astimezone(zoneinfo.ZoneInfo(pick_timezone(tz, None))):%Y-%m-%dT%H:%M}"


@bp.app_template_filter("sentence")
def sentence(text: str | None) -> str:
    """Stored reasons start in lower case (they are log fragments); pages show sentences."""
    return f"{text[:1].upper()}{text[1:]}" if text else ""


@bp.context_processor
def _recovery_labels() -> dict[str, Any]:
    return {"labels": LABELS}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# -- campaigns --------------------------------------------------------------------------------


@bp.get("/recovery")
def recovery():
    workspace = current_workspace()
    state = request.args.get("state", IN_FLIGHT)
    if state not in CAMPAIGN_STATES:
        abort(400, f"unknown tab {state!r}")
    page = max(1, request.args.get("page", 1, type=int))
    now = _now()
    return render_template(
        "dashboard/recovery.html",
        state=state,
        counts=queries.counts(db.session, workspace.id),
        listing=queries.campaigns(db.session, workspace.id, state, page=page, per_page=PAGE),
        recovered=queries.recovered_since(db.session, workspace.id, now=now),
        at_stake=queries.open_amounts(db.session, workspace.id),
        pause=queries.pause_state(db.session, workspace.id),
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
        max_auto_retries=config.policy_for(db.session, workspace.id).max_auto_retries,
        pause_reason=config.pause_reason(db.session, workspace.id),
        entries=queries.timeline(db.session, row),
    )


@bp.post("/recovery/pause")
@require_role("owner", "admin")
def pause_recovery():
    workspace = current_workspace()
    cancelled = campaigns.pause(db.session, workspace.id, actor=current_user.email, now=_now())
    db.session.commit()
    flash(
        f"Recovery is paused: {cancelled} planned {_plural(cancelled, 'retry', 'retries')} "
        "cancelled. Campaigns stay open and still close when an invoice is paid.",
        "success",
    )
    return redirect(_back())


@bp.post("/recovery/resume")
@require_role("owner", "admin")
def resume_recovery():
    workspace = current_workspace()
    if not queries.pause_state(db.session, workspace.id).workspace_paused:
        flash("Recovery was not paused for this workspace.", "warning")
        return redirect(_back())
    planned = campaigns.resume(db.session, workspace.id, actor=current_user.email, now=_now())
    db.session.commit()
    flash(
        f"Recovery resumed: {planned} {_plural(planned, 'retry', 'retries')} planned from now.",
        "success",
    )
    return redirect(_back())


def _back() -> str:
    if request.form.get("back") == "settings":
        return url_for("dashboard.retry_policy")
    return url_for("dashboard.recovery")


def _plural(count: int, one: str, many: str) -> str:
    return one if count == 1 else many


# -- retry policy -----------------------------------------------------------------------------


@bp.get("/settings/recovery")
def retry_policy():
    policy = config.policy_for(db.session, current_workspace().id)
    return _policy_page(policy_to_form(policy), policy)


@bp.post("/settings/recovery")
@require_role("owner", "admin")
def save_retry_policy():
    workspace = current_workspace()
    current = config.policy_for(db.session, workspace.id)
    form = form_from_fields(request.form)
    try:
        config.save_policy(db.session, workspace.id, policy_from_form(form, current))
    except PolicyTextError as exc:
        # Report what is wrong with the parts that did parse too, not one round at a time.
        errors = exc.errors + (exc.partial.errors() if exc.partial else [])
        return _policy_page(form, current, errors, 400, bad_fields=exc.fields)
    except InvalidPolicy as exc:
        db.session.rollback()
        return _policy_page(form, current, exc.errors, 400)
    db.session.commit()
    flash("Retry policy saved. Campaigns use it from their next failure.", "success")
    return redirect(url_for("dashboard.retry_policy"))


@bp.post("/settings/recovery/reset")
@require_role("owner", "admin")
def reset_retry_policy():
    config.save_policy(db.session, current_workspace().id, DEFAULT_POLICY)
    db.session.commit()
    flash("Retry policy reset to Backstop's defaults.", "success")
    return redirect(url_for("dashboard.retry_policy"))


def _policy_page(
    form: PolicyForm,
    policy: Policy,
    errors: list[str] | None = None,
    status: int = 200,
    *,
    bad_fields: set[str] | frozenset[str] = frozenset(),
) -> tuple[str, int]:
    workspace = current_workspace()
    preview = build_preview(policy, request.args, workspace.timezone, _now())
    if errors is None and preview.error:
        status = 400
    return render_template(
        "dashboard/retry_policy.html",
        form=form,
        errors=errors or [],
        bad_fields=bad_fields,
        caps=CAPS,
        maxima=LEGAL_MAXIMA,
        class_options=CLASS_OPTIONS,
        default_cadence=DEFAULT_CADENCE,
        preview=preview,
        code_groups=_code_groups(policy),
        brands=BRANDS,
        timezones=_timezones(),
        pause=queries.pause_state(db.session, workspace.id),
    ), status


# -- the preview: the plan for a sample failure, computed with the pure rules ------------------


@dataclass
class Preview:
    code: str
    brand: str
    tz: str
    failed_at: dt.datetime
    cls: DeclineClass | None = None
    retries: list[Any] = field(default_factory=list)
    blocked: str | None = None
    error: str | None = None
    limits: list[str] = field(default_factory=list)


def build_preview(policy: Policy, args: Any, workspace_tz: str, now: dt.datetime) -> Preview:
    """The retries ``policy`` would plan for a sample failure chosen in ``args`` (decline
    code, card brand, timezone, local failure time; defaults: insufficient funds on a
    Visa card, the workspace's timezone, now)."""
    code = (args.get("code") or "insufficient_funds").strip().lower()
    brand = args.get("brand") or "visa"
    tz = args.get("tz") or pick_timezone(workspace_tz, None)
    preview = Preview(code=code, brand=brand, tz=tz, failed_at=now.replace(second=0, microsecond=0))
    if not _CODE.fullmatch(code) or brand not in BRANDS or tz not in _timezones():
        preview.error = "Choose a decline code, a card brand and a timezone from the lists."
        return preview
    zone = zoneinfo.ZoneInfo(tz)
    if args.get("at"):
        try:
            preview.failed_at = (
                dt.datetime.fromisoformat(args["at"]).replace(tzinfo=zone).astimezone(dt.UTC)
            )
        except ValueError:
            preview.error = "The failure time must look like 2026-03-06T15:30."
            return preview
    preview.limits = _limits(policy, brand)
    preview.cls = classify(code, overrides=policy.overrides)
    preview.blocked = card_block_reason(normalize_brand(brand), code)
    if preview.blocked is None:
        preview.retries = plan_retries(
            preview.failed_at,
            preview.cls,
            code,
            tz=tz,
            attempts_so_far=0,
            policy=policy,
            now=preview.failed_at,
            window_ends_at=preview.failed_at + CAMPAIGN_WINDOW,
        )
    return preview


def _limits(policy: Policy, brand: str) -> list[str]:
    limits = [
        f"at most {policy.max_attempts_per_invoice_30d} attempts on the invoice in any 30 days, "
        f"Stripe's included, and {policy.max_auto_retries} automatic retries per campaign"
    ]
    if brand == "visa":
        limits.append(f"Visa: at most {policy.visa_max_30d} attempts on one card in 30 days")
    elif brand == "mastercard":
        limits.append(
            f"Mastercard: at most {policy.mastercard_max_24h} attempts on one card in 24 hours "
            f"and {policy.mastercard_max_30d} in 30 days"
        )
    return limits


def _code_groups(policy: Policy) -> list[tuple[str, list[str]]]:
    tables = {
        DeclineClass.IMMEDIATE: IMMEDIATE_CODES,
        DeclineClass.SCHEDULED: SCHEDULED_CODES,
        DeclineClass.CUSTOMER_ACTION: CUSTOMER_ACTION_CODES,
        DeclineClass.NO_RECOVERY: NO_RECOVERY_CODES,
    }
    own = (set(policy.cadences) | set(policy.overrides)) - {DEFAULT_CADENCE}
    known = set().union(*tables.values())
    groups = [(LABELS["class"][str(cls)], sorted(codes)) for cls, codes in tables.items()]
    if own - known:
        groups.append(("Your own codes", sorted(own - known)))
    return groups


@functools.cache
def _timezones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones() | {"UTC"}))
