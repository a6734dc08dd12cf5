"""Settings → Emails: the dunning sequence, the sender, the least gap between two emails,
and the copy per touch with a live preview. Thin views over ``app.dunning``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

import emails

from ..accounts.access import can, current_workspace, require_role
from ..accounts.models import Workspace
from ..dunning import config as dunning_config
from ..dunning import pause_offer
from ..dunning.copy import EXPLANATIONS, PLACEHOLDERS, VARIANTS, copy_errors, copy_for
from ..dunning.offers import DISCOUNT_MONTHS, DISCOUNT_PERCENT, PAUSE_OFFER_DAYS
from ..dunning.sequences import PAUSE_DAYS, SEQUENCES, touch_keys
from ..dunning.touches import TEMPLATE, context_for
from ..extensions import db
from ..models import utcnow
from ..outbox import services as outbox
from ..recovery.models import Campaign
from . import subject_tests as subject_test_views
from .chrome import feature_blueprint, on_refusal, settings

bp = feature_blueprint("emails", __name__)

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
SAMPLE_PLAN = "Pro monthly"
#: The end-of-dunning offers' fields (numbers; empty = off).
OFFER_FIELDS = ("pause_offer_days", "discount_percent", "discount_months")
OFFER_FIELD_NAMES = {
    "pause_offer_days": "the pause offered after the last email",
    "discount_percent": "the last-chance discount's percent",
    "discount_months": "the last-chance discount's months",
}


def _all_touches() -> list[str]:
    seen: list[str] = []
    for name in SEQUENCES:
        seen += [k for k in touch_keys(name) if k not in seen]
    return sorted(seen, key=lambda k: int(k[1:]))


@bp.get("/settings/emails")
def show():
    stored = dunning_config.settings_for(db.session, current_workspace().id)
    form = {
        "sequence": stored.sequence,
        "from_name": stored.from_name or "",
        "reply_to": stored.reply_to or "",
        "pause_days": str(stored.pause_days or ""),
        "gap_hours": str(stored.gap_hours),
        "pause_offer_days": str(stored.pause_offer_days or ""),
        "discount_percent": str(stored.discount_percent or ""),
        "discount_months": str(stored.discount_months or ""),
        "copy": stored.copy or {},
    }
    return _page(form)


@bp.post("/settings/emails")
@require_role("owner", "admin")
def save():
    form = _form()
    shown = {
        **form,
        "pause_days": str(form["pause_days"] or ""),
        "gap_hours": request.form.get("gap_hours", ""),
        **{name: request.form.get(name, "").strip() for name in OFFER_FIELDS},
    }
    if form.pop("errors"):
        # Report the meaning too, not one round at a time.
        errors = (
            shown.pop("errors")
            + dunning_config.check(
                sequence=form["sequence"],
                copy=form["copy"],
                pause_days=form["pause_days"],
                gap_hours=form["gap_hours"],
                **{name: form[name] for name in OFFER_FIELDS},
            )[0]
        )
        return _page(shown, errors), 400
    on_refusal(lambda exc: _page(shown, exc.errors))
    dunning_config.save(db.session, current_workspace().id, **form, actor=current_user.email)
    flash("Email settings saved. New touches use them from now on.", "success")
    return redirect(url_for("emails.show"))


@bp.post("/settings/emails/preview")
def preview():
    """The touch as a customer would get it, on sample data (the page's live preview)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify(error="send a JSON object"), 400
    sequence = body.get("sequence")
    touch = body.get("touch")
    variant = body.get("variant", "insufficient_funds")
    subject, message = body.get("subject", ""), body.get("message", "")
    if touch == pause_offer.NAME and sequence in SEQUENCES and variant in VARIANTS:
        days = _int(body.get("pause_offer_days")) or PAUSE_OFFER_DAYS[1]
        if days not in PAUSE_OFFER_DAYS:
            return jsonify(error="unknown pause length"), 400
        rendered = render_offer_preview(current_workspace(), pause_days=days, now=utcnow())
        return jsonify(
            subject=rendered.subject, html=rendered.html, text=rendered.text, warnings=[]
        )
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
        discount=_discount(body),
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
    discount: tuple[int, int] | None = None,
) -> emails.Rendered:
    campaign = _sample_campaign(workspace, variant, now)
    base = settings().base_url.rstrip("/")
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
        discount=discount if not paused else None,
    )
    context["unsubscribe_url"] = f"{base}/unsubscribe/sample-link"
    return emails.render(TEMPLATE, context)


def render_offer_preview(workspace: Workspace, *, pause_days: int, now: dt.datetime):
    """The pause offer email on sample data."""
    campaign = _sample_campaign(workspace, "insufficient_funds", now)
    base = settings().base_url.rstrip("/")
    context = pause_offer.context_for(
        workspace,
        campaign,
        customer_name=SAMPLE_NAME,
        plan_name=SAMPLE_PLAN,
        pause_days=pause_days,
        resumes_at=now + dt.timedelta(days=16 + pause_days),
        link_url=f"{base}/pause-offer/sample-link",
    )
    context["unsubscribe_url"] = f"{base}/unsubscribe/sample-link"
    return emails.render(pause_offer.TEMPLATE, context)


def _discount(body: dict[str, Any]) -> tuple[int, int] | None:
    percent, months = _int(body.get("discount_percent")), _int(body.get("discount_months"))
    if percent is None or months is None:
        return None
    if not (DISCOUNT_PERCENT[0] <= percent <= DISCOUNT_PERCENT[1]):
        return None
    if not (DISCOUNT_MONTHS[0] <= months <= DISCOUNT_MONTHS[1]):
        return None
    return percent, months


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
    # Absent (an older form): keep the stored gap.
    gap = data.get("gap_hours")
    gap_hours = _int(gap.strip()) if gap is not None else None
    if gap is not None and gap_hours is None:
        errors.append("the gap between two emails must be a whole number of hours")
    offers: dict[str, int | None] = {}
    for name in OFFER_FIELDS:
        raw = data.get(name, "").strip()
        offers[name] = _int(raw)
        if raw and (offers[name] is None or not raw.isdigit()):
            offers[name] = None
            errors.append(f"{OFFER_FIELD_NAMES[name]} must be a whole number")
    copy = {}
    for key in _all_touches():
        subject = data.get(f"copy-{key}-subject", "")
        message = data.get(f"copy-{key}-message", "")
        subject_b = data.get(f"copy-{key}-subject_b", "")  # an A/B test's second subject
        if subject.strip() or message.strip() or subject_b.strip():
            copy[key] = {"subject": subject, "message": message, "subject_b": subject_b}
    reply_to = data.get("reply_to", "").strip()
    if reply_to and ("@" not in reply_to or " " in reply_to or len(reply_to) > 254):
        errors.append("the reply-to address is not an email address")
    return {
        "sequence": data.get("sequence", ""),
        "from_name": data.get("from_name", "")[:120],
        "reply_to": reply_to,
        "copy": copy,
        "pause_days": pause_days,
        "gap_hours": gap_hours,
        **offers,
        "errors": errors,
    }


def _page(form: dict[str, Any], errors: list[str] | None = None) -> str:
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
        gap_range=dunning_config.GAP_HOURS,
        pause_offer_choices=PAUSE_OFFER_DAYS,
        discount_percent_range=DISCOUNT_PERCENT,
        discount_months_range=DISCOUNT_MONTHS,
        editable=can("admin"),
        tests=subject_test_views.context(workspace.id),
    )
