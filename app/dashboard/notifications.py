"""Settings → Notifications: Slack and Discord channels (incoming-webhook URLs), what
each posts, the amount from which a failed payment counts as high-value, a test
message, and a revoked URL shown as such. Thin views over ``app.integrations.channels``;
every change is audited."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..accounts.access import can, current_workspace, require_role
from ..audit import services as audit
from ..errors import Refusal
from ..extensions import db
from ..integrations import channels, messages
from ..integrations.models import CHANNEL_KINDS, Delivery
from ..integrations.models import NotificationChannel as Channel
from ..models import utcnow
from ..money import decimal_text
from ..tenancy import get_or_404, scoped
from .chrome import feature_blueprint, on_refusal, settings
from .webhooks import _lease, rules

bp = feature_blueprint("notifications", __name__)

RECENT = 5


def _audit(action: str, channel: Channel, **details: Any) -> None:
    audit.record(db.session, actor_id=current_user.id, actor_label=current_user.email,
                 action=action, target_type="notification_channel", target_id=str(channel.id),
                 workspace_id=channel.workspace_id, **details)  # fmt: skip


def _form() -> tuple[dict[str, Any], list[str]]:
    """The form's values and what is wrong with their shape."""
    data = request.form
    errors: list[str] = []
    threshold = channels.parse_threshold(data.get("threshold_amount", ""),
                                         data.get("threshold_currency", ""))  # fmt: skip
    if isinstance(threshold, str):
        errors.append(threshold)
        threshold = None
    values = {
        "url": data.get("url", "").strip(),
        "posts": data.getlist("posts"),
        "threshold": threshold,
    }
    return values, errors


def _shown(channel: Channel) -> dict[str, Any]:
    return {
        "posts": channel.posts,
        "threshold_amount": decimal_text(channel.threshold_minor, channel.threshold_currency)
        if channel.threshold_minor is not None
        else "",
        "threshold_currency": (channel.threshold_currency or "").upper(),
    }


@bp.get("/settings/notifications")
def show():
    return _page()


def _page(
    errors: list[str] | None = None,
    *,
    new: dict[str, Any] | None = None,
    failed_id: int | None = None,
    failed_form: dict[str, Any] | None = None,
):
    workspace = current_workspace()
    rows = db.session.execute(scoped(Channel, workspace.id).order_by(Channel.id)).scalars().all()
    recent: dict[int, list[Delivery]] = {}
    for channel in rows:
        recent[channel.id] = list(
            db.session.execute(
                select(Delivery)
                .where(Delivery.workspace_id == workspace.id, Delivery.channel_id == channel.id)
                .order_by(Delivery.id.desc())
                .limit(RECENT)
            ).scalars()
        )
    forms = {c.id: _shown(c) for c in rows}
    if failed_id is not None and failed_form is not None:
        forms[failed_id] = failed_form
    return render_template(
        "dashboard/notifications.html",
        channels=rows,
        forms=forms,
        recent=recent,
        kinds=CHANNEL_KINDS,
        posts=messages.POSTS,
        new=new
        or {
            "kind": "slack",
            "url": "",
            "posts": messages.DEFAULT_POSTS,
            "threshold_amount": "",
            "threshold_currency": "",
        },
        errors=errors or [],
        editable=can("admin"),
    ), 400 if errors else 200


def _raw() -> dict[str, Any]:
    data = request.form
    return {
        "kind": data.get("kind", ""),
        "url": "",  # never shown back: it is a secret
        "posts": data.getlist("posts"),
        "threshold_amount": data.get("threshold_amount", ""),
        "threshold_currency": data.get("threshold_currency", ""),
    }


@bp.post("/settings/notifications")
@require_role("owner", "admin")
def create():
    values, errors = _form()
    if errors:
        return _page(errors, new=_raw())
    on_refusal(lambda r: _page(r.errors, new=_raw())[0])
    kind = request.form.get("kind", "")
    channel = channels.create(db.session, current_workspace().id, kind=kind, rules=rules(),
                              **values)  # fmt: skip
    _audit("notifications.channel_added", channel, kind=kind, posts=channel.posts)
    flash(f"{CHANNEL_KINDS[kind]} channel added. Send a test message to check it.", "success")
    return redirect(url_for("notifications.show") + f"#channel-{channel.id}")


def _channel(channel_id: int) -> Channel:
    return get_or_404(Channel, current_workspace().id, id=channel_id)


@bp.post("/settings/notifications/<int:channel_id>")
@require_role("owner", "admin")
def save(channel_id: int):
    channel = _channel(channel_id)
    values, errors = _form()
    raw = _raw()
    if errors:
        return _page(errors, failed_id=channel.id, failed_form=raw)
    on_refusal(lambda r: _page(r.errors, failed_id=channel.id, failed_form=raw)[0])
    was = channel.state
    channels.update_channel(db.session, channel, url=values["url"] or None,
                            posts=values["posts"], threshold=values["threshold"],
                            rules=rules())  # fmt: skip
    _audit("notifications.channel_changed", channel, posts=channel.posts,
           new_url=bool(values["url"]))  # fmt: skip
    flash("Posting again to the new URL." if was != channel.state else "Channel saved.", "success")
    return redirect(url_for("notifications.show") + f"#channel-{channel.id}")


@bp.post("/settings/notifications/<int:channel_id>/test")
@require_role("owner", "admin")
def test(channel_id: int):
    channel = _channel(channel_id)
    channels.send_test(db.session, channel, workspace_name=current_workspace().name,
                       base_url=settings().base_url, now=utcnow(), lease=_lease())  # fmt: skip
    _audit("notifications.test_sent", channel)
    flash(f"Test message sent to {CHANNEL_KINDS[channel.kind]}: see below whether it arrived.",
          "success")  # fmt: skip
    return redirect(url_for("notifications.show") + f"#channel-{channel.id}")


@bp.post("/settings/notifications/<int:channel_id>/delete")
@require_role("owner", "admin")
def delete(channel_id: int):
    channel = _channel(channel_id)
    if request.form.get("confirm") != "1":
        raise Refusal("Confirm that the channel should be removed.")
    _audit("notifications.channel_removed", channel, kind=channel.kind)
    db.session.delete(channel)
    flash(f"{CHANNEL_KINDS[channel.kind]} channel removed.", "success")
    return redirect(url_for("notifications.show"))
