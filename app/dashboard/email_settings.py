"""Settings → Emails (the dunning sequence, sender, copy per touch with a live preview)
and Settings → Send domain (SES EasyDKIM). Thin views over ``app.dunning`` and
``app.outbox``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for

import emails
from emails.domains import DnsRecord

from ..accounts.access import can, current_workspace, require_role
from ..accounts.models import Workspace
from ..dunning import config as dunning_config
from ..dunning.copy import EXPLANATIONS, PLACEHOLDERS, VARIANTS, copy_errors, copy_for
from ..dunning.sequences import PAUSE_DAYS, SEQUENCES, touch_keys
from ..dunning.touches import TEMPLATE, context_for
from ..extensions import db
from ..models import utcnow
from ..outbox import domains
from ..outbox import services as outbox
from ..recovery.models import Campaign
from .views import bp

SEQUENCE_HELP = {
    "standard": "Four emails: the day of the failure, then days 3, 7 and 14.",
    "short": "Three emails: days 1, 3 and 7.",
    "extended": "Six emails over 30 days; from day 7 they offer a pause, and the last one can "
    "pause the subscription instead of losing it.",
}
VARIANT_LABELS = {
    "insufficient_funds": "Insufficient funds",
    "expired_card": "Expired card",
    "authentication_required": "3-D Secure needed",
    "no_recovery": "Card can't be used (use another card)",
    "generic": "Any other decline",
}
SAMPLE_NAME = "Jordan Lee"


def _all_touches() -> list[str]:
    seen: list[str] = []
    for name in SEQUENCES:
        seen += [k for k in touch_keys(name) if k not in seen]
    return sorted(seen, key=lambda k: int(k[1:]))


@bp.get("/settings/emails")
def email_settings():
    settings = dunning_config.settings_for(db.session, current_workspace().id)
    form = {
        "sequence": settings.sequence,
        "from_name": settings.from_name or "",
        "reply_to": settings.reply_to or "",
        "pause_days": str(settings.pause_days or ""),
        "copy": settings.copy or {},
    }
    db.session.commit()  # the settings row, made on first visit
    return _page(form)


@bp.post("/settings/emails")
@require_role("owner", "admin")
def save_email_settings():
    workspace = current_workspace()
    form = _form()
    errors = list(form.pop("errors"))
    errors += dunning_config.check(
        sequence=form["sequence"], copy=form["copy"], pause_days=form["pause_days"]
    )[0]
    if not errors:
        dunning_config.save(db.session, workspace.id, **form)
    if errors:
        return _page({**form, "pause_days": str(form["pause_days"] or "")}, errors, 400)
    db.session.commit()
    flash("Email settings saved. New touches use them from now on.", "success")
    return redirect(url_for("dashboard.email_settings"))


@bp.post("/settings/emails/preview")
def preview_email():
    """The touch as a customer would get it, on sample data (the page's live preview)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify(error="send a JSON object"), 400
    sequence = body.get("sequence")
    touch = body.get("touch")
    variant = body.get("variant", "insufficient_funds")
    subject, message = body.get("subject", ""), body.get("message", "")
    if sequence not in SEQUENCES or touch not in touch_keys(sequence) or variant not in VARIANTS:
        return jsonify(error="unknown sequence, touch or decline"), 400
    if not isinstance(subject, str) or not isinstance(message, str):
        return jsonify(error="subject and message must be text"), 400
    rendered = render_preview(
        current_workspace(),
        sequence=sequence,
        touch=touch,
        variant=variant,
        copy={touch: {"subject": subject.strip(), "message": message.strip()}},
        pause_days=_int(body.get("pause_days")),
        now=utcnow(),
    )
    warnings = [f"Saving will refuse this: {e}." for e in copy_errors(subject, message)]
    return jsonify(
        subject=rendered.subject, html=rendered.html, text=rendered.text, warnings=warnings
    )


def render_preview(
    workspace: Workspace,
    *,
    sequence: str,
    touch: str,
    variant: str,
    copy: dict[str, dict[str, str]],
    pause_days: int | None,
    now: dt.datetime,
) -> emails.Rendered:
    campaign = _sample_campaign(workspace, variant, now)
    base = current_app.config["BACKSTOP"].base_url.rstrip("/")
    position = touch_keys(sequence).index(touch) + 1
    is_final = position == len(touch_keys(sequence))
    paused = sequence == "extended" and is_final and bool(pause_days)
    context = context_for(
        workspace,
        campaign,
        key=touch,
        sequence=sequence,
        overrides=copy,
        customer_name=SAMPLE_NAME,
        link_url=f"{base}/update-card/sample-link",
        at=now + dt.timedelta(days=int(touch[1:])),
        pause_days=pause_days,
        paused_until=now + dt.timedelta(days=30 + (pause_days or 0)) if paused else None,
    )
    context["unsubscribe_url"] = f"{base}/unsubscribe/sample-link"
    return emails.render(TEMPLATE, context)


_SAMPLE_CODES = {
    "insufficient_funds": ("scheduled", "insufficient_funds"),
    "expired_card": ("customer_action", "expired_card"),
    "authentication_required": ("customer_action", "authentication_required"),
    "no_recovery": ("no_recovery", "stolen_card"),
    "generic": ("scheduled", "do_not_honor"),
}


def _sample_campaign(workspace: Workspace, variant: str, now: dt.datetime) -> Campaign:
    cls, code = _SAMPLE_CODES[variant]
    return Campaign(
        workspace_id=workspace.id,
        amount_minor=4900,
        currency="usd",
        decline_class=cls,
        decline_code=code,
        opened_at=now,
        window_ends_at=now + dt.timedelta(days=30),
    )


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _form() -> dict[str, Any]:
    data = request.form
    errors = []
    pause = data.get("pause_days", "").strip()
    pause_days = _int(pause)
    if pause and pause_days is None:
        errors.append("the pause length must be a number of days")
    copy = {}
    for key in _all_touches():
        subject = data.get(f"copy-{key}-subject", "")
        message = data.get(f"copy-{key}-message", "")
        if subject.strip() or message.strip():
            copy[key] = {"subject": subject, "message": message}
    reply_to = data.get("reply_to", "").strip()
    if reply_to and ("@" not in reply_to or " " in reply_to or len(reply_to) > 254):
        errors.append("the reply-to address is not an email address")
    return {
        "sequence": data.get("sequence", ""),
        "from_name": data.get("from_name", "")[:120],
        "reply_to": reply_to,
        "copy": copy,
        "pause_days": pause_days,
        "errors": errors,
    }


def _page(form: dict[str, Any], errors: list[str] | None = None, status: int = 200):
    workspace = current_workspace()
    defaults = {}
    for name in SEQUENCES:
        keys = touch_keys(name)
        for position, key in enumerate(keys, start=1):
            text = copy_for({}, key, position, len(keys))
            defaults[f"{name}:{key}"] = {"subject": text.subject, "message": text.message}
    return render_template(
        "dashboard/emails.html",
        form=form,
        errors=errors or [],
        sequences={name: touch_keys(name) for name in SEQUENCES},
        sequence_help=SEQUENCE_HELP,
        pause_choices=PAUSE_DAYS,
        placeholders=PLACEHOLDERS,
        variants=VARIANT_LABELS,
        explanations=EXPLANATIONS,
        defaults=defaults,
        sender=outbox.sender_for(db.session, workspace.id, form["from_name"] or workspace.name),
        editable=can("admin"),
    ), status


# -- send domain --------------------------------------------------------------------------------


@bp.get("/settings/send-domain")
def send_domain_settings():
    return _domain_page()


def _domain_page(errors: list[str] | None = None, status: int = 200, typed: str = ""):
    workspace = current_workspace()
    row = outbox.send_domain(db.session, workspace.id)
    return render_template(
        "dashboard/send_domain.html",
        domain=row,
        records=[DnsRecord(**r) for r in (row.records if row else [])],
        errors=errors or [],
        typed=typed,
        shared=outbox.sender_for(db.session, workspace.id, workspace.name).from_addr
        if row is None
        else None,
        editable=can("admin"),
    ), status


@bp.post("/settings/send-domain")
@require_role("owner", "admin")
def add_send_domain():
    workspace = current_workspace()
    typed = request.form.get("domain", "")
    try:
        domains.add(
            db.session,
            workspace.id,
            typed,
            from_local=request.form.get("from_local", "billing"),
            client=domains.ses_client(),
            now=utcnow(),
        )
    except domains.DomainError as exc:
        db.session.rollback()
        return _domain_page([str(exc)], 400, typed)
    db.session.commit()
    flash("Domain added. Add the three DNS records below, then verify.", "success")
    return redirect(url_for("dashboard.send_domain_settings"))


@bp.post("/settings/send-domain/verify")
@require_role("owner", "admin")
def verify_send_domain():
    row = outbox.send_domain(db.session, current_workspace().id)
    if row is None:
        abort(404)
    domains.verify(db.session, row, client=domains.ses_client(), now=utcnow())
    db.session.commit()
    if row.is_verified:
        flash(f"{row.domain} is verified: emails now come from {row.from_address}.", "success")
    else:
        flash(
            row.last_error or "Not verified yet: DNS changes can take a while to show.", "warning"
        )
    return redirect(url_for("dashboard.send_domain_settings"))


@bp.post("/settings/send-domain/remove")
@require_role("owner", "admin")
def remove_send_domain():
    row = outbox.send_domain(db.session, current_workspace().id)
    if row is None:
        abort(404)
    domains.remove(db.session, row, client=domains.ses_client())
    db.session.commit()
    flash("Send domain removed: emails come from the shared sender again.", "success")
    return redirect(url_for("dashboard.send_domain_settings"))
