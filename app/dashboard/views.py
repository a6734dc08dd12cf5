"""The merchant dashboard: overview with the set-up checklist, customers, settings."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ..accounts import services as account_services
from ..accounts.access import can, current_workspace, membership, require_role
from ..accounts.forms import InviteForm, WorkspaceSettingsForm
from ..accounts.models import Invitation, Membership, User, Workspace
from ..extensions import db
from ..outbox import services as outbox
from ..recovery import queries as recovery_queries
from ..stripe import connection as connection_service
from ..stripe.models import MirrorCustomer, MirrorInvoice, MirrorSubscription, StripeConnection
from ..tenancy import get_or_404, scoped
from . import checklist

bp = Blueprint("dashboard", __name__)
PAGE = 50

NAV = [
    ("dashboard.overview", "Overview"),
    ("dashboard.recovery", "Recovery"),
    ("dashboard.customers", "Customers"),
]
SETTINGS_NAV = [
    ("dashboard.workspace_settings", "Workspace"),
    ("dashboard.retry_policy", "Retry policy"),
    ("dashboard.email_settings", "Emails"),
    ("dashboard.send_domain_settings", "Send domain"),
    ("dashboard.stripe_settings", "Stripe"),
    ("dashboard.embed_settings", "Embed"),
    ("dashboard.team", "Team"),
]


def _connection(workspace_id: int) -> StripeConnection | None:
    return db.session.execute(
        select(StripeConnection).where(StripeConnection.workspace_id == workspace_id)
    ).scalar_one_or_none()


@bp.before_request
@login_required
def _signed_in() -> None:
    membership()


@bp.context_processor
def _chrome() -> dict:
    if not current_user.is_authenticated:
        return {}
    workspace = current_workspace()
    others = (
        db.session.execute(
            select(Workspace)
            .join(Membership)
            .where(Membership.user_id == current_user.id, Workspace.id != workspace.id)
        )
        .scalars()
        .all()
    )
    return {
        "workspace": workspace,
        "connection": _connection(workspace.id),
        "nav": NAV,
        "settings_nav": SETTINGS_NAV,
        "other_workspaces": others,
        "can": can,
    }


@bp.get("/")
def home():
    return redirect(url_for("dashboard.overview"))


def _import_status(connection: StripeConnection | None) -> dict:
    if connection is None:
        return {"status": "none"}
    return {
        **connection_service.import_summary(
            connection.import_progress or {}, connection.import_status
        ),
        "error": connection.import_error,
    }


@bp.get("/dashboard")
def overview():
    workspace = current_workspace()
    connection = _connection(workspace.id)
    domain = outbox.send_domain(db.session, workspace.id)
    facts = checklist.Facts(
        stripe_connected=bool(connection and connection.is_connected),
        send_domain_verified=bool(domain and domain.is_verified),
        unverified_domain=domain.domain if domain and not domain.is_verified else None,
        cancel_flow_published=False,
        portal_cancel_disabled=workspace.is_portal_cancel_disabled,
        has_campaign=recovery_queries.has_campaign(db.session, workspace.id),
        stripe_retries_on=recovery_queries.stripe_retries_on(
            db.session, workspace.id, now=dt.datetime.now(dt.UTC)
        ),
    )
    steps = checklist.steps(facts)
    return render_template(
        "dashboard/overview.html",
        steps=steps,
        progress=checklist.progress(steps),
        warnings=checklist.warnings(facts),
        import_status=_import_status(connection),
    )


@bp.get("/dashboard/import-status")
def import_status():
    return jsonify(_import_status(_connection(current_workspace().id)))


@bp.post("/dashboard/checklist/portal")
@require_role("owner", "admin")
def tick_portal():
    workspace = current_workspace()
    workspace.is_portal_cancel_disabled = request.form.get("done") == "1"
    db.session.commit()
    return redirect(url_for("dashboard.overview"))


@bp.get("/customers")
def customers():
    workspace = current_workspace()
    page = max(1, request.args.get("page", 1, type=int))
    query = scoped(MirrorCustomer, workspace.id).where(~MirrorCustomer.is_deleted)
    q = (request.args.get("q") or "").strip()
    if q:
        query = query.where(
            MirrorCustomer.email.ilike(f"%{q}%")
            | MirrorCustomer.name.ilike(f"%{q}%")
            | (MirrorCustomer.stripe_id == q)
        )
    rows = (
        db.session.execute(
            query.order_by(MirrorCustomer.stripe_created.desc(), MirrorCustomer.id.desc())
            .limit(PAGE + 1)
            .offset((page - 1) * PAGE)
        )
        .scalars()
        .all()
    )
    return render_template(
        "dashboard/customers.html", customers=rows[:PAGE], page=page, has_more=len(rows) > PAGE, q=q
    )


@bp.get("/customers/<stripe_id>")
def customer(stripe_id: str):
    workspace = current_workspace()
    row = get_or_404(MirrorCustomer, workspace.id, stripe_id=stripe_id)
    subscriptions = (
        db.session.execute(
            scoped(MirrorSubscription, workspace.id).where(
                MirrorSubscription.customer_stripe_id == stripe_id
            )
        )
        .scalars()
        .all()
    )
    invoices = (
        db.session.execute(
            scoped(MirrorInvoice, workspace.id)
            .where(MirrorInvoice.customer_stripe_id == stripe_id)
            .order_by(MirrorInvoice.stripe_created.desc())
            .limit(50)
        )
        .scalars()
        .all()
    )
    return render_template(
        "dashboard/customer.html",
        customer=row,
        subscriptions=subscriptions,
        invoices=invoices,
        campaigns=recovery_queries.customer_campaigns(db.session, workspace.id, stripe_id),
    )


@bp.get("/settings/stripe")
def stripe_settings():
    return render_template("dashboard/stripe.html")


@bp.post("/settings/stripe/restricted-key")
@require_role("owner", "admin")
def restricted_key():
    workspace = current_workspace()
    key = request.form.get("key", "")
    try:
        connection_service.connect_restricted_key(
            db.session, workspace.id, workspace.slug, key, request.form.get("publishable_key", "")
        )
    except connection_service.ConnectionError_ as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return render_template("dashboard/stripe.html"), 400
    db.session.commit()
    flash("Stripe is connected with your restricted key. Importing your customers now.", "success")
    return redirect(url_for("dashboard.overview"))


@bp.post("/settings/stripe/disconnect")
@require_role("owner")
def disconnect():
    connection = _connection(current_workspace().id)
    if connection is None or not connection.is_connected:
        flash("Stripe is not connected.", "warning")
        return redirect(url_for("dashboard.stripe_settings"))
    connection_service.disconnect(db.session, connection)
    db.session.commit()
    flash("Stripe is disconnected. Backstop no longer acts on this account.", "success")
    return redirect(url_for("dashboard.stripe_settings"))


@bp.route("/settings/workspace", methods=["GET", "POST"])
def workspace_settings():
    workspace = current_workspace()
    form = WorkspaceSettingsForm(obj=workspace)
    form.timezone.choices = sorted(zoneinfo.available_timezones() | {"UTC"})
    if request.method == "POST":
        if not can("admin"):
            return render_template("dashboard/workspace.html", form=form), 403
        if form.validate_on_submit():
            workspace.name = form.name.data.strip()
            workspace.timezone = form.timezone.data
            workspace.brand_color = form.brand_color.data.lower()
            workspace.logo_url = form.logo_url.data or None
            workspace.postal_address = " ".join((form.postal_address.data or "").split()) or None
            db.session.commit()
            flash("Settings saved.", "success")
            return redirect(url_for("dashboard.workspace_settings"))
        return render_template("dashboard/workspace.html", form=form), 400
    return render_template("dashboard/workspace.html", form=form)


@bp.route("/settings/team", methods=["GET", "POST"])
def team():
    workspace = current_workspace()
    form = InviteForm()
    status = 200
    if request.method == "POST":
        if not can("admin"):
            return redirect(url_for("dashboard.team")), 403
        if form.validate_on_submit():
            try:
                invitation, token = account_services.invite(
                    db.session, workspace, current_user, form.email.data, form.role.data
                )
            except account_services.AccountError as exc:
                db.session.rollback()
                form.email.errors = [str(exc)]
                status = 400
            else:
                outbox.send(
                    db.session,
                    template="invitation",
                    to=invitation.email,
                    from_email=_mail_from(),
                    workspace_id=workspace.id,
                    context={
                        "inviter": current_user.email,
                        "workspace": workspace.name,
                        "role": invitation.role,
                        "accept_url": url_for("accounts.accept", token=token, _external=True),
                    },
                )
                db.session.commit()
                flash(f"Invitation sent to {invitation.email}.", "success")
                return redirect(url_for("dashboard.team"))
        else:
            status = 400
    members = db.session.execute(
        select(Membership, User)
        .join(User)
        .where(Membership.workspace_id == workspace.id)
        .order_by(Membership.id)
    ).all()
    pending = (
        db.session.execute(
            scoped(Invitation, workspace.id)
            .where(Invitation.accepted_at.is_(None))
            .order_by(Invitation.id.desc())
        )
        .scalars()
        .all()
    )
    return render_template(
        "dashboard/team.html", form=form, members=members, pending=pending
    ), status


@bp.post("/settings/team/<int:member_id>/remove")
@require_role("owner")
def remove_member(member_id: int):
    workspace = current_workspace()
    member = get_or_404(Membership, workspace.id, id=member_id)
    if member.role == "owner" and account_services.owners_count(db.session, workspace.id) <= 1:
        flash("A workspace keeps at least one owner.", "error")
        return redirect(url_for("dashboard.team")), 400  # type: ignore[return-value]
    db.session.delete(member)
    db.session.commit()
    flash("Member removed.", "success")
    return redirect(url_for("dashboard.team"))


def _mail_from() -> str:
    from flask import current_app

    return current_app.config["BACKSTOP"].mail_from


# These modules register their routes on ``bp``; imported last, once ``bp`` exists.
from . import email_settings as _email_settings  # noqa: E402, F401
from . import embed_settings as _embed_settings  # noqa: E402, F401
from . import recovery as _recovery  # noqa: E402, F401
