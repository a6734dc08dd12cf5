"""Settings → Portal: what customers may do in the hosted portal, how it looks (the
white label, custom CSS), the merchant's own domain for hosted pages, and how to open
the portal from their site. Thin views over ``app.portal.settings`` and
``app.accounts.hosts``."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..accounts import hosts
from ..accounts.access import can, current_workspace, require_role
from ..audit import services as audit
from ..extensions import db
from ..models import utcnow
from ..portal import links as portal_links
from ..portal import settings as portal_settings
from ..portal import sync as portal_sync
from ..portal.models import BUTTON_STYLES, DETAIL_FIELDS
from ..stripe import connection as stripe_connection
from ..stripe import subscriptions as stripe_subs
from ..stripe.client import StripeError
from ..stripe.models import MirrorCustomer
from ..tenancy import get_or_404
from .chrome import feature_blueprint, settings

bp = feature_blueprint("portal_settings", __name__)

DETAIL_LABELS = {
    "email": "Billing email",
    "name": "Name",
    "address": "Billing address",
    "phone": "Phone",
    "tax_id": "Tax IDs (VAT, EIN, …)",
}


def _prices() -> tuple[list[stripe_subs.PriceFacts] | None, str | None]:
    connection = stripe_connection.connected(db.session, current_workspace().id)
    if connection is None:
        return None, "Connect Stripe to choose the plans customers may switch between."
    try:
        return stripe_subs.list_prices(connection), None
    except StripeError:
        return None, "Stripe could not be reached, so your plans can't be listed right now."


def _page(status: int = 200, *, problem: str | None = None, field: str | None = None):
    workspace = current_workspace()
    prices, prices_note = _prices()
    base = settings().base_url.rstrip("/")
    hosted = hosts.hosted_base_url(db.session, workspace.id)
    return render_template(
        "dashboard/portal.html",
        config=portal_settings.config_of(db.session, workspace.id),
        prices=prices,
        prices_note=prices_note,
        detail_labels=DETAIL_LABELS,
        detail_fields=DETAIL_FIELDS,
        button_styles=BUTTON_STYLES,
        problem=problem,
        field=field,
        domain=hosts.domain_of(db.session, workspace.id),
        cname_target=hosts.cname_target(),
        script_url=f"{base}/hosted/static/embed.js",
        api_url=f"{base}/api/embed/portal",
        start_url=f"{base}/portal/start",
        login_url=f"{hosted}/portal/login/{workspace.slug}",
        editable=can("admin"),
    ), status


@bp.get("/settings/portal")
def show():
    return _page()


def _form_values() -> dict:
    form = request.form
    return {
        "switch_price_ids": form.getlist("switch_price_ids"),
        "downgrade_timing": form.get("downgrade_timing", "period_end"),
        "pause_months": form.getlist("pause_months"),
        "max_quantity": form.get("max_quantity", "0"),
        "can_cancel": form.get("can_cancel") == "1",
        "shows_invoices": form.get("shows_invoices") == "1",
        "has_login_page": form.get("has_login_page") == "1",
        "detail_fields": form.getlist("detail_fields"),
        "button_style": form.get("button_style", "rounded"),
        "custom_css": form.get("custom_css", ""),
        "shows_powered_by": form.get("shows_powered_by") == "1",
        "support_email": form.get("support_email", ""),
        "support_url": form.get("support_url", ""),
        "terms_url": form.get("terms_url", ""),
        "privacy_url": form.get("privacy_url", ""),
    }


@bp.post("/settings/portal")
@require_role("owner", "admin")
def save():
    workspace = current_workspace()
    prices, _note = _prices()
    values = _form_values()
    try:
        removed = portal_settings.save(
            db.session,
            workspace.id,
            values,
            known_price_ids={p.id for p in prices} if prices is not None else None,
        )
    except portal_settings.SettingsProblem as exc:
        db.session.rollback()
        return _page(400, problem=str(exc), field=exc.field)
    _audit("portal.settings_saved", css_removed=len(removed))
    if removed:
        flash(
            "Portal settings saved. Removed from your CSS: " + "; ".join(removed[:8]) + ".",
            "warning",
        )
    else:
        flash("Portal settings saved.", "success")
    return redirect(url_for("portal_settings.show"))


@bp.post("/settings/portal/domain")
@require_role("owner", "admin")
def set_domain():
    workspace = current_workspace()
    try:
        domain = hosts.set_domain(db.session, workspace.id, request.form.get("hostname", ""))
    except hosts.HostnameProblem as exc:
        db.session.rollback()
        return _page(400, problem=str(exc), field="hostname")
    _audit("portal.domain_set", hostname=domain.hostname)
    flash(f"Now add the CNAME record for {domain.hostname}, then press Verify DNS.", "success")
    return redirect(url_for("portal_settings.show") + "#domain")


@bp.post("/settings/portal/domain/verify")
@require_role("owner", "admin")
def verify_domain():
    workspace = current_workspace()
    domain = hosts.domain_of(db.session, workspace.id)
    if domain is None:
        return _page(400, problem="Add a domain first.", field="hostname")
    hosts.verify(db.session, domain, now=utcnow())
    _audit("portal.domain_verified", hostname=domain.hostname, status=domain.status)
    if domain.is_verified:
        flash(f"{domain.hostname} is verified: customers' links use it from now on.", "success")
    else:
        flash(domain.last_error or "Not verified yet.", "warning")
    return redirect(url_for("portal_settings.show") + "#domain")


@bp.post("/settings/portal/domain/remove")
@require_role("owner", "admin")
def remove_domain():
    workspace = current_workspace()
    if hosts.remove_domain(db.session, workspace.id):
        _audit("portal.domain_removed")
        flash("Custom domain removed: links use Backstop's address again.", "success")
    return redirect(url_for("portal_settings.show") + "#domain")


@bp.post("/customers/<stripe_id>/portal")
@require_role("owner", "admin")
def open_for_customer(stripe_id: str):
    """Open a customer's portal as they see it (support: "what does my customer see?")."""
    workspace = current_workspace()
    customer_id = get_or_404(MirrorCustomer, workspace.id, stripe_id=stripe_id).stripe_id
    connection = stripe_connection.connected(db.session, workspace.id)
    if connection is None:
        flash("Connect Stripe first.", "error")
        return redirect(url_for("customers.index"))
    try:
        known = portal_sync.refresh_customer(
            db.session, connection, workspace.id, customer_id, now=utcnow()
        )
    except StripeError:
        db.session.rollback()
        flash("Stripe could not be reached; try again in a moment.", "error")
        return redirect(url_for("customers.index"))
    if not known:
        flash("Stripe doesn't know that customer.", "error")
        return redirect(url_for("customers.index"))
    _, token = portal_links.issue(db.session, workspace.id, customer_id, now=utcnow())
    _audit("portal.opened_for_customer", customer=customer_id)
    return redirect(portal_links.url(db.session, workspace.id, token))


def _audit(action: str, **details) -> None:
    audit.record(
        db.session,
        actor_id=current_user.id,
        actor_label=current_user.email,
        action=action,
        target_type="workspace",
        target_id=str(current_workspace().id),
        workspace_id=current_workspace().id,
        **details,
    )
