"""Settings → Win back: on or off, the sequence of touches, the copy per touch and cancel
reason with a live preview (and a test send to oneself), the offer, the price customers
come back to, and the attribution window. Thin views over ``app.winback.settings``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

import emails

from ..accounts.access import can, current_workspace, require_role
from ..accounts.models import Workspace
from ..audit import services as audit
from ..dunning import config as dunning_config
from ..extensions import db
from ..models import utcnow
from ..outbox import services as outbox
from ..stripe import connection as stripe_connection
from ..stripe import subscriptions as stripe_subs
from ..stripe.client import StripeError
from ..winback import copy as winback_copy
from ..winback import policy
from ..winback import settings as winback_settings
from ..winback.models import INVOLUNTARY, VOLUNTARY, WinbackCampaign
from ..winback.touches import TEMPLATE, context_for
from .chrome import feature_blueprint, on_refusal, settings

bp = feature_blueprint("winback_settings", __name__)

SAMPLE_NAME = "Jordan Lee"
TEST_PREFIX = "[Test] "
TOUCHES = range(1, policy.MAX_TOUCHES + 1)
OFFER_TO_LABELS = {
    "too_expensive": "Only customers who said it was too expensive",
    "everyone": "Everyone, whatever their reason (failed payments too)",
}


@dataclass
class Draft:
    """The settings as the form holds them (unsaved): what the preview renders with."""

    copy: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    offer_percent: int | None = None
    offer_months: int | None = None
    offer_to: str = "too_expensive"


def _prices() -> tuple[list[stripe_subs.PriceFacts] | None, str | None]:
    connection = stripe_connection.connected(db.session, current_workspace().id)
    if connection is None:
        return None, "Connect Stripe to choose a price; until then customers get their old one."
    try:
        return stripe_subs.list_prices(connection), None
    except StripeError:
        return None, "Stripe could not be reached, so your prices can't be listed right now."


@bp.get("/settings/winback")
def show():
    stored = winback_settings.settings_for(db.session, current_workspace().id)
    delays = winback_settings.delays_of(stored)
    form = {
        "is_enabled": stored.is_enabled,
        "includes_involuntary": stored.includes_involuntary,
        "delays": [str(d) for d in delays] + [""] * (policy.MAX_TOUCHES - len(delays)),
        "copy": stored.copy or {},
        "offer_percent": _text(stored.offer_percent),
        "offer_months": _text(stored.offer_months),
        "offer_to": stored.offer_to,
        "price_id": stored.price_stripe_id or "",
        "attribution_days": str(stored.attribution_days),
    }
    return _page(form, stored_price=stored.price_stripe_id)


@bp.post("/settings/winback")
@require_role("owner", "admin")
def save():
    workspace = current_workspace()
    stored_price = winback_settings.settings_for(db.session, workspace.id).price_stripe_id
    prices, _note = _prices()
    values, shown, errors = _form(prices, stored_price)
    if errors:
        # Report the meaning too, not one round at a time.
        errors += winback_settings.check(**_checkable(values))[0]
        return _page(shown, errors, stored_price=stored_price, prices=(prices, _note)), 400
    on_refusal(lambda exc: _page(shown, exc.errors, stored_price=stored_price))
    winback_settings.save(db.session, workspace.id, **values)
    audit.record(
        db.session,
        actor_id=current_user.id,
        actor_label=current_user.email,
        action="winback.settings_saved",
        target_type="workspace",
        target_id=str(workspace.id),
        workspace_id=workspace.id,
        is_enabled=values["is_enabled"],
        touches=len(values["delays"]),
    )
    flash(
        "Win-back settings saved. Campaigns already under way keep their planned emails.",
        "success",
    )
    return redirect(url_for("winback_settings.show"))


@bp.post("/settings/winback/preview")
def preview():
    """A touch as a customer would get it, on sample data (the page's live preview)."""
    draft, error = _draft(request.get_json(silent=True))
    if error:
        return jsonify(error=error), 400
    rendered = render_preview(current_workspace(), **draft)
    subject, message = draft["subject"], draft["message"]
    problems = winback_copy.copy_errors(subject, message)
    warnings = [f"Saving will refuse this: {e}." for e in problems]
    return jsonify(
        subject=rendered.subject, html=rendered.html, text=rendered.text, warnings=warnings
    )


@bp.post("/settings/winback/test")
@require_role("owner", "admin")
def test_send():
    """Email the preview, as it stands in the form, to the signed-in member (marked as a
    test: nothing about it counts as a touch)."""
    draft, error = _draft(request.get_json(silent=True))
    if error:
        return jsonify(error=error), 400
    problems = winback_copy.copy_errors(draft["subject"], draft["message"])
    if problems:
        return jsonify(error="; ".join(problems)), 400
    workspace = current_workspace()
    base = settings().base_url.rstrip("/")
    context = preview_context(workspace, **draft)
    context["subject"] = TEST_PREFIX + context["subject"]
    context["unsubscribe_url"] = f"{base}/unsubscribe/sample-link"
    dunning = dunning_config.settings_for(db.session, workspace.id)
    sender = outbox.sender_for(db.session, workspace.id, dunning.from_name or workspace.name)
    message = outbox.send(
        db.session,
        template=TEMPLATE,
        to=current_user.email,
        context=context,
        from_email=sender.from_addr,
        workspace_id=workspace.id,
        reply_to=dunning.reply_to,
        blocked=sender.blocked,
    )
    if message.status == "blocked":
        return jsonify(error=f"The test email was not sent: {message.error}."), 409
    return jsonify(sent_to=message.to_email, subject=message.subject)


# -- the preview --------------------------------------------------------------------------------


def _draft(body: Any) -> tuple[dict[str, Any], str | None]:
    """The preview's request, checked for shape."""
    if not isinstance(body, dict):
        return {}, "send a JSON object"
    touch, count, reason = body.get("touch"), body.get("count"), body.get("reason")
    if not isinstance(touch, int) or touch not in TOUCHES:
        return {}, f"the touch is 1 to {policy.MAX_TOUCHES}"
    if count is None:
        count = touch
    if not isinstance(count, int) or count not in TOUCHES or count < touch:
        return {}, f"the sequence has {touch} to {policy.MAX_TOUCHES} emails"
    if reason not in policy.COPY_KEYS:
        return {}, "unknown reason"
    subject, message = body.get("subject", ""), body.get("message", "")
    if not isinstance(subject, str) or not isinstance(message, str):
        return {}, "subject and message must be text"
    offer_to = body.get("offer_to", "too_expensive")
    if offer_to not in policy.OFFER_TO:
        return {}, "the offer is for customers who said it was too expensive, or everyone"
    offer: dict[str, int | None] = {}
    for name in ("offer_percent", "offer_months"):
        value = body.get(name)
        offer[name] = _int(value) if isinstance(value, str | int) else None
        if value not in (None, "") and offer[name] is None:
            return {}, "the offer's percentage and months are whole numbers"
    return {
        "touch": touch,
        "count": count,
        "reason": reason,
        "subject": subject.strip(),
        "message": message.strip(),
        "offer_to": offer_to,
        **offer,
    }, None


def _sample_campaign(workspace: Workspace, reason: str, now: dt.datetime) -> WinbackCampaign:
    involuntary = reason == policy.PAYMENT_FAILED
    return WinbackCampaign(
        workspace_id=workspace.id,
        customer_stripe_id="cus_sample",
        subscription_stripe_id="sub_sample",
        customer_name=SAMPLE_NAME,
        kind=INVOLUNTARY if involuntary else VOLUNTARY,
        reason="other" if involuntary else reason,
        plan_name="Pro",
        amount_minor=4900,
        currency="usd",
        interval="month",
        interval_count=1,
        ended_at=now,
    )


def preview_context(
    workspace: Workspace,
    *,
    touch: int,
    count: int,
    reason: str,
    subject: str,
    message: str,
    offer_percent: int | None,
    offer_months: int | None,
    offer_to: str,
) -> dict[str, Any]:
    base = settings().base_url.rstrip("/")
    draft = Draft(
        copy={str(touch): {reason: {"subject": subject, "message": message}}},
        offer_percent=offer_percent,
        offer_months=offer_months,
        offer_to=offer_to,
    )
    return context_for(
        workspace,
        _sample_campaign(workspace, reason, utcnow()),
        number=touch,
        count=count,
        settings=draft,
        customer_name=SAMPLE_NAME,
        link_url=f"{base}/come-back/sample-link",
    )


def render_preview(workspace: Workspace, **draft: Any) -> emails.Rendered:
    context = preview_context(workspace, **draft)
    context["unsubscribe_url"] = settings().base_url.rstrip("/") + "/unsubscribe/sample-link"
    return emails.render(TEMPLATE, context)


# -- the form -----------------------------------------------------------------------------------


def _text(value: int | None) -> str:
    return "" if value is None else str(value)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(str(value).strip()) if str(value).strip() != "" else None
    except ValueError:
        return None


def _form(
    prices: list[stripe_subs.PriceFacts] | None, stored_price: str | None
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """The form's values for the service, as shown back, and what is wrong with their
    shape (not a number, a gap in the sequence, a price that isn't the workspace's)."""
    data = request.form
    errors: list[str] = []
    typed = [data.get(f"delay_{n}", "").strip() for n in TOUCHES]
    delays: list[int] = []
    for number, text in enumerate(typed, start=1):
        if not text:
            continue
        days = _int(text)
        if days is None:
            errors.append(f"the days before the {policy.touch_label(number)} must be a number")
        elif len(delays) != number - 1:
            errors.append(f"the {policy.touch_label(number)} needs the ones before it")
        else:
            delays.append(days)
    if not typed[0]:
        errors.append(f"say when the {policy.touch_label(1)} goes")
    copy: dict[str, dict[str, dict[str, str]]] = {}
    for number in TOUCHES:
        for key in policy.COPY_KEYS:
            subject = data.get(f"copy-{number}-{key}-subject", "")
            message = data.get(f"copy-{number}-{key}-message", "")
            if subject.strip() or message.strip():
                copy.setdefault(str(number), {})[key] = {"subject": subject, "message": message}
    numbers: dict[str, int | None] = {}
    for name, words in (
        ("offer_percent", "the offer's percentage"),
        ("offer_months", "the offer's number of months"),
        ("attribution_days", "the attribution window"),
    ):
        text = data.get(name, "").strip()
        numbers[name] = _int(text)
        if text and numbers[name] is None:
            errors.append(f"{words} must be a whole number")
    if numbers["attribution_days"] is None and not data.get("attribution_days", "").strip():
        errors.append("say how many days after an email a return counts")
    price_id = data.get("price_id", "").strip()
    if price_id and price_id != stored_price:
        if prices is None:
            errors.append("Stripe could not be reached to check that price; try again")
        elif price_id not in {p.id for p in prices}:
            errors.append("choose one of your Stripe prices, or the customer's old price")
    values = {
        "is_enabled": data.get("is_enabled") == "1",
        "includes_involuntary": data.get("includes_involuntary") == "1",
        "delays": delays,
        "copy": copy,
        "offer_percent": numbers["offer_percent"],
        "offer_months": numbers["offer_months"],
        "offer_to": data.get("offer_to", "too_expensive"),
        "price_id": price_id or None,
        "attribution_days": numbers["attribution_days"] or policy.DEFAULT_ATTRIBUTION_DAYS,
    }
    shown = {
        **values,
        "delays": typed,
        "offer_percent": data.get("offer_percent", ""),
        "offer_months": data.get("offer_months", ""),
        "price_id": price_id,
        "attribution_days": data.get("attribution_days", ""),
    }
    return values, shown, errors


def _checkable(values: dict[str, Any]) -> dict[str, Any]:
    keep = ("delays", "copy", "offer_percent", "offer_months", "offer_to", "attribution_days")
    return {k: values[k] for k in keep}


def _page(
    form: dict[str, Any],
    errors: list[str] | None = None,
    *,
    stored_price: str | None,
    prices: tuple[list[stripe_subs.PriceFacts] | None, str | None] | None = None,
) -> str:
    workspace = current_workspace()
    price_list, prices_note = prices if prices is not None else _prices()
    count = max(1, sum(1 for d in form["delays"] if str(d).strip()))
    defaults = {
        f"{n}:{key}:{total}": _default(key, n, total)
        for total in TOUCHES
        for n in range(1, total + 1)
        for key in policy.COPY_KEYS
    }
    return render_template(
        "dashboard/winback_settings.html",
        form=form,
        errors=errors or [],
        touches=list(TOUCHES),
        count=count,
        reasons=policy.REASON_LABELS,
        copy_keys=policy.COPY_KEYS,
        touch_label=policy.touch_label,
        defaults=defaults,
        placeholders=winback_copy.PLACEHOLDERS,
        offer_to_labels=OFFER_TO_LABELS,
        offer_range=(policy.OFFER_PERCENT, policy.OFFER_MONTHS),
        delay_range=policy.DELAY_RANGE,
        attribution_range=policy.ATTRIBUTION_RANGE,
        prices=price_list,
        prices_note=prices_note,
        stored_price=stored_price,
        sender=outbox.sender_for(
            db.session,
            workspace.id,
            dunning_config.settings_for(db.session, workspace.id).from_name or workspace.name,
        ),
        editable=can("admin"),
    )


def _default(key: str, number: int, count: int) -> dict[str, str]:
    text = winback_copy.default_copy(key, number, count)
    return {"subject": text.subject, "message": text.message}
