"""Cancel flows → Embed on your site (every way to open the flow, with the workspace's
own values filled in, and a prompt for a coding assistant) and Cancel flows → Settings
(when a cancel takes effect, which offers need an owner, where customers come back to).
"""

from __future__ import annotations

import time

from flask import flash, redirect, render_template, request, url_for

from ..accounts.access import can, current_workspace, require_role
from ..api import embed_secrets
from ..api.signing import sign
from ..crypto import SecretUnreadable
from ..errors import Refusal
from ..extensions import db
from ..retain import flows, policy
from ..retain.models import CANCEL_MODES
from .chrome import feature_blueprint, on_refusal, settings

bp = feature_blueprint("cancel_embed", __name__)

LIMITS = {
    "max_percent_off": ("Discounts above this percent", 1, 100),
    "max_free_months": ("Free months above", 0, 12),
    "max_pause_months": ("Pauses longer than (months)", 0, 12),
}


@bp.get("/cancel-flows/embed")
def show():
    workspace = current_workspace()
    base = settings().base_url.rstrip("/")
    try:
        secret = embed_secrets.read(workspace)
    except SecretUnreadable:
        secret = None
    example = None
    if secret is not None and can("admin"):
        # A real signature for the curl line: the merchant checks their own code against it.
        at = int(time.time())
        example = {"timestamp": at, "signature": sign(secret, "cus_123", at, "sub_456")}
    return render_template(
        "dashboard/cancel_flows/embed.html",
        base=base,
        script_url=f"{base}/hosted/static/embed.js",
        api_url=f"{base}/api/embed/cancel",
        start_url=f"{base}/cancel/start",
        has_secret=secret is not None,
        example=example,
        live=flows.has_published_flow(db.session, workspace.id),
        origins=flows.settings_of(db.session, workspace.id).return_origins,
    )


@bp.get("/cancel-flows/settings", endpoint="settings")
def settings_page(errors: list[str] | None = None):
    return render_template(
        "dashboard/cancel_flows/settings.html",
        retain=flows.settings_of(db.session, current_workspace().id),
        limits=LIMITS,
        modes=CANCEL_MODES,
        errors=errors or [],
        form=request.form if errors else None,
    ), (400 if errors else 200)


@bp.post("/cancel-flows/settings")
@require_role("owner")
def save_settings():
    on_refusal(lambda exc: settings_page(exc.errors)[0])
    values = {}
    for name, (label, low, high) in LIMITS.items():
        raw = (request.form.get(name) or "").strip()
        if not raw.isdigit() or not low <= int(raw) <= high:
            raise Refusal(f"{label}: a whole number from {low} to {high}.")
        values[name] = int(raw)
    origins = [
        line.strip()
        for line in (request.form.get("return_origins") or "").splitlines()
        if line.strip()
    ]
    bad = [o for o in origins if policy.origin_of(o) is None]
    if bad:
        raise Refusal(f"Not a web address: {bad[0]} (use https://your-site.example).")
    flows.update_settings(
        db.session,
        current_workspace().id,
        cancel_mode=request.form.get("cancel_mode", ""),
        return_origins=sorted({policy.origin_of(o) or o for o in origins}),
        **values,
    )
    flash("Cancel settings saved.", "success")
    return redirect(url_for("cancel_embed.settings"))
