"""Settings → Text messages: texts on or off, the Twilio account (the auth token is
stored encrypted and never shown back), the sender, the days, quiet hours, the monthly
cap, the HELP contact, and a test text. Thin views over ``app.sms``."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..accounts.access import can, current_workspace, require_role
from ..audit import services as audit
from ..dunning import config as dunning_config
from ..dunning.sequences import SEQUENCES
from ..errors import Conflict, Refusal
from ..extensions import db
from ..i18n import services as i18n
from ..models import utcnow
from ..sms import config, copy, policy, services
from .chrome import feature_blueprint, on_refusal

bp = feature_blueprint("sms_settings", __name__)


@bp.get("/settings/sms")
def show():
    row = config.settings_for(db.session, current_workspace().id)
    form = {
        "is_enabled": row.is_enabled,
        "account_sid": row.account_sid or "",
        "from_number": row.from_number or "",
        "messaging_service_sid": row.messaging_service_sid or "",
        "monthly_cap": str(row.monthly_cap),
        "quiet_start": _clock(row.quiet_start_minute),
        "quiet_end": _clock(row.quiet_end_minute),
        "touch_days": ", ".join(str(d) for d in row.touch_days or []),
        "support_contact": row.support_contact or "",
    }
    return _page(form)


@bp.post("/settings/sms")
@require_role("owner", "admin")
def save():
    draft, shown, errors = _form()
    workspace = current_workspace()
    if errors:
        return _page(shown, errors), 400
    on_refusal(lambda exc: _page(shown, exc.errors))
    config.save(
        db.session, workspace.id, draft, actor_id=current_user.id, actor_label=current_user.email
    )
    flash("Text settings saved. Campaigns that start from now on get these texts.", "success")
    return redirect(url_for("sms_settings.show"))


@bp.post("/settings/sms/test")
@require_role("owner", "admin")
def test_send():
    """Text the number typed in, through the workspace's sender, as a customer would get
    it (it counts toward the monthly cap)."""
    workspace = current_workspace()
    phone = policy.normalise_phone(request.form.get("phone", ""))
    if phone is None:
        raise Refusal("Write the number in international form, e.g. +14155550134.")
    row = config.settings_for(db.session, workspace.id)
    blocked = config.blocked_reason(row)
    if blocked:
        raise Conflict(f"No test text was sent: {blocked}.")
    now = utcnow()
    month = policy.month_of(now, workspace.timezone)
    if services.used_in(db.session, workspace.id, month) >= row.monthly_cap:
        raise Conflict("No test text was sent: this month's cap is reached.")
    language = i18n.translator_for(
        db.session, workspace.id, i18n.default_locale(db.session, workspace.id)
    )
    message = services.store(
        db.session,
        row,
        purpose="test",
        to=phone,
        body=copy.trial_text(merchant=workspace.name, translate=language.translate),
        month=month,
        locale=language.locale,
    )
    audit.record(
        db.session,
        actor_id=current_user.id,
        actor_label=current_user.email,
        action="sms.test_sent",
        target_type="sms_message",
        target_id=str(message.id),
        workspace_id=workspace.id,
        to=policy.masked(phone),
    )
    if message.status == "blocked":
        raise Conflict(f"No test text was sent: {message.error}.")
    flash(f"A test text is on its way to {phone}.", "success")
    return redirect(url_for("sms_settings.show"))


# -- the form -------------------------------------------------------------------------------


def _clock(minute: int | None) -> str:
    return "" if minute is None else policy.clock_label(minute)


def _form() -> tuple[config.Draft, dict[str, Any], list[str]]:
    """The service's draft, the form as shown back, and what is wrong with its shape."""
    data = request.form
    errors: list[str] = []
    shown = {
        "is_enabled": data.get("is_enabled") == "1",
        **{
            name: data.get(name, "").strip()
            for name in (
                "account_sid",
                "from_number",
                "messaging_service_sid",
                "monthly_cap",
                "quiet_start",
                "quiet_end",
                "touch_days",
                "support_contact",
            )
        },
    }
    cap = shown["monthly_cap"]
    if not cap.isdigit():
        errors.append("the monthly cap must be a whole number")
    minutes = {}
    for name, words in (("quiet_start", "the start"), ("quiet_end", "the end")):
        minutes[name] = policy.parse_clock(shown[name]) if shown[name] else None
        if shown[name] and minutes[name] is None:
            errors.append(f"{words} of the quiet hours must be a time such as 21:00")
    days: list[int] = []
    for part in shown["touch_days"].replace(";", ",").split(","):
        if not part.strip():
            continue
        if not part.strip().isdigit():
            errors.append("write the days as numbers separated by commas, e.g. 1, 5")
            break
        days.append(int(part.strip()))
    draft = config.Draft(
        is_enabled=shown["is_enabled"],
        account_sid=shown["account_sid"],
        auth_token=data.get("auth_token", "").strip(),
        from_number=shown["from_number"],
        messaging_service_sid=shown["messaging_service_sid"],
        monthly_cap=int(cap) if cap.isdigit() else 0,
        quiet_start_minute=minutes["quiet_start"],
        quiet_end_minute=minutes["quiet_end"],
        touch_days=days,
        support_contact=shown["support_contact"],
    )
    if errors:  # report the meaning too, not one round at a time
        errors += [
            e
            for e in config.check(db.session, current_workspace().id, draft)
            if "monthly cap" not in e or cap.isdigit()
        ]
    return draft, shown, errors


def _page(form: dict[str, Any], errors: list[str] | None = None) -> str:
    workspace = current_workspace()
    row = config.settings_for(db.session, workspace.id)
    month = policy.month_of(utcnow(), workspace.timezone)
    sequence = dunning_config.settings_for(db.session, workspace.id).sequence
    return render_template(
        "dashboard/sms.html",
        form=form,
        errors=errors or [],
        has_token=bool(row.auth_token_encrypted),
        blocked=config.blocked_reason(row),
        inbound_url=services.inbound_url(row),
        used=services.used_in(db.session, workspace.id, month),
        cap=row.monthly_cap,
        email_days=", ".join(str(d) for d in SEQUENCES[sequence]),
        consent_key=policy.CONSENT_KEY,
        editable=can("admin"),
    )
