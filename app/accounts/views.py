"""Sign up, log in and out, password reset, invitations, switching workspace."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from ..extensions import db
from ..outbox import services as outbox
from . import services, team
from .forms import AcceptInvitationForm, ForgotForm, LoginForm, ResetForm, SignUpForm
from .models import Membership, Workspace

bp = Blueprint("accounts", __name__)


def _settings():
    return current_app.config["BACKSTOP"]


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("dashboard.overview")


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    form = SignUpForm()
    if form.validate_on_submit():
        try:
            user = services.sign_up(
                db.session, form.email.data, form.password.data, form.workspace.data
            )
        except services.AccountError as exc:
            db.session.rollback()
            form.email.errors = [*form.email.errors, str(exc)]
        else:
            db.session.commit()
            session.clear()
            login_user(user)
            return redirect(url_for("dashboard.overview"))
    return render_template("accounts/signup.html", form=form), 400 if form.errors else 200


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(db.session, form.email.data, form.password.data)
        if user is None:
            form.password.errors = ["That email and password do not match an account."]
        else:
            db.session.commit()
            session.clear()  # a fresh session on log-in: no fixation
            login_user(user)
            if user.is_staff and not user.memberships:
                return redirect("/admin/")
            return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/login.html", form=form), 400 if form.errors else 200


@bp.post("/logout")
def logout():
    logout_user()
    session.clear()
    return redirect(url_for("accounts.login"))


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot():
    form = ForgotForm()
    if form.validate_on_submit():
        user = services.find_user(db.session, form.email.data)
        if user is not None and user.is_active_user:
            token = services.reset_token(user, _settings().secret_key)
            outbox.send(
                db.session,
                template="password_reset",
                to=user.email,
                from_email=_settings().mail_from,
                context={
                    "email": user.email,
                    "reset_url": url_for("accounts.reset", token=token, _external=True),
                },
            )
            db.session.commit()
        # The same answer either way: it must not reveal who has an account.
        flash("If an account exists for that email, a reset link is on its way.", "success")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot.html", form=form), 400 if form.errors else 200


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset(token: str):
    try:
        user = services.user_for_reset(db.session, token, _settings().secret_key)
    except services.AccountError as exc:
        return render_template("accounts/message.html", title="Reset link", message=str(exc)), 400
    form = ResetForm()
    if form.validate_on_submit():
        services.set_password(user, form.password.data)
        db.session.commit()
        session.clear()
        login_user(user)
        flash("Your password was changed.", "success")
        return redirect(url_for("dashboard.overview"))
    return render_template("accounts/reset.html", form=form), 400 if form.errors else 200


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept(token: str):
    try:
        invitation = team.open_invitation(db.session, token)
    except services.AccountError as exc:
        return render_template("accounts/message.html", title="Invitation", message=str(exc)), 400
    workspace = db.session.get(Workspace, invitation.workspace_id)
    existing = services.find_user(db.session, invitation.email)
    form = AcceptInvitationForm()
    if form.validate_on_submit():
        try:
            if existing is None:
                if not form.password.data:
                    raise services.AccountError("Choose a password of at least 10 characters.")
                user = services.create_user(db.session, invitation.email, form.password.data)
            elif current_user.is_authenticated and current_user.id == existing.id:
                user = existing
            else:
                return redirect(url_for("accounts.login", next=request.path))
            team.accept_invitation(db.session, invitation, user)
        except services.AccountError as exc:
            db.session.rollback()
            form.password.errors = [str(exc)]
        else:
            db.session.commit()
            session.clear()
            login_user(user)
            session["workspace_id"] = invitation.workspace_id
            return redirect(url_for("dashboard.overview"))
    return render_template(
        "accounts/accept.html",
        form=form,
        invitation=invitation,
        workspace=None,
        workspace_name=workspace.name if workspace else "",
        existing=existing,
    ), 400 if form.errors else 200


@bp.get("/workspaces/<slug>/switch")
@login_required
def switch(slug: str):
    found = db.session.execute(
        select(Membership)
        .join(Workspace)
        .where(Workspace.slug == slug, Membership.user_id == current_user.id)
    ).scalar_one_or_none()
    if found is None:
        abort(404)
    session["workspace_id"] = found.workspace_id
    return redirect(url_for("dashboard.overview"))
