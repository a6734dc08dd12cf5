"""Sign up, log in (password, then a 2FA code when on) and out, password reset,
invitations, switching workspace. Throttled against guessing; audited."""

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
from flask_login import current_user, login_required
from sqlalchemy import select

from ..extensions import db
from ..models import utcnow
from ..outbox import services as outbox
from . import services, team, throttle, two_factor, user_sessions
from .access import load_user_first
from .forms import (
    AcceptInvitationForm,
    ForgotForm,
    LoginForm,
    ResetForm,
    SignUpForm,
    TwoFactorCodeForm,
)
from .models import Membership, Workspace
from .redirects import local_path
from .signin import (
    PENDING_KEY,
    audit_user,
    client_ip,
    hold_for_second_factor,
    pending_second_factor,
    sign_in,
    sign_out,
    throttled_page,
)

bp = Blueprint("accounts", __name__)
bp.before_app_request(load_user_first)


def _settings():
    return current_app.config["BACKSTOP"]


def _safe_next(target: str | None) -> str:
    return local_path(target, url_for("dashboard.overview"))


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
            sign_in(user)
            db.session.commit()
            return redirect(url_for("dashboard.overview"))
    return render_template("accounts/signup.html", form=form), 400 if form.errors else 200


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        now = utcnow()
        account_key = throttle.account_key("login", form.email.data)
        ip_key = throttle.address_key("login", client_ip())
        try:
            throttle.check(db.session, [account_key, ip_key], now)
        except throttle.Throttled as exc:
            return throttled_page(exc)
        user = services.authenticate(db.session, form.email.data, form.password.data)
        if user is None:
            throttle.fail_all(
                db.session, [(account_key, throttle.ACCOUNT), (ip_key, throttle.ADDRESS)], now
            )
            tried = services.find_user(db.session, form.email.data)
            if tried is not None:  # an unknown email has no workspace to tell
                audit_user(tried, "user.sign_in_failed", reason="wrong password")
            db.session.commit()
            form.password.errors = ["That email and password do not match an account."]
        else:
            throttle.clear(db.session, account_key)
            target = _safe_next(request.args.get("next"))
            if user.has_two_factor:
                hold_for_second_factor(user, target)
                db.session.commit()
                return redirect(url_for("accounts.second_factor"))
            sign_in(user)
            db.session.commit()
            if user.is_staff and not user.memberships:
                return redirect("/admin/")
            return redirect(target)
    return render_template("accounts/login.html", form=form), 400 if form.errors else 200


@bp.route("/login/two-factor", methods=["GET", "POST"])
def second_factor():
    pending = pending_second_factor()
    if pending is None:
        if current_user.is_authenticated:  # already through: this page must not sign out
            return redirect(url_for("dashboard.overview"))
        session.pop(PENDING_KEY, None)  # an expired hold
        return redirect(url_for("accounts.login"))
    user, target = pending
    form = TwoFactorCodeForm()
    if form.validate_on_submit():
        now = utcnow()
        user_key = f"two_factor:user:{user.id}"
        ip_key = throttle.address_key("login", client_ip())
        try:
            throttle.check(db.session, [user_key, ip_key], now)
        except throttle.Throttled as exc:
            return throttled_page(exc)
        used = two_factor.verify(db.session, user, form.code.data, now)
        if used is None:
            throttle.fail_all(
                db.session, [(user_key, throttle.TWO_FACTOR), (ip_key, throttle.ADDRESS)], now
            )
            audit_user(user, "user.sign_in_failed", reason="wrong two-factor code")
            db.session.commit()
            form.code.errors = ["That code is not right, or was already used."]
        else:
            throttle.clear(db.session, user_key)
            sign_in(user)
            if used == "recovery":
                left = two_factor.recovery_codes_left(db.session, user.id)
                audit_user(user, "user.two_factor.recovery_code_used", codes_left=left)
                flash(f"You signed in with a recovery code; {left} left.", "success")
            db.session.commit()
            if user.is_staff and not user.memberships:
                return redirect("/admin/")
            return redirect(_safe_next(target))
    return render_template(
        "accounts/two_factor.html", form=form, email=user.email
    ), 400 if form.errors else 200


@bp.post("/logout")
def logout():
    sign_out()
    db.session.commit()
    return redirect(url_for("accounts.login"))


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot():
    form = ForgotForm()
    if form.validate_on_submit():
        now = utcnow()
        # Keyed on the address typed, whether or not it has an account: the throttle
        # must not tell who does.
        keys = [
            (throttle.account_key("reset", form.email.data), throttle.RESET_ACCOUNT),
            (throttle.address_key("reset", client_ip()), throttle.RESET_ADDRESS),
        ]
        try:
            throttle.check(db.session, [key for key, _ in keys], now)
        except throttle.Throttled as exc:
            return throttled_page(exc)
        throttle.fail_all(db.session, keys, now)
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
            audit_user(user, "user.password_reset.requested")
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
        try:
            services.set_password(user, form.password.data)
        except services.AccountError as exc:
            form.password.errors = [str(exc)]
        else:
            now = utcnow()
            # Whoever held the old password is signed out everywhere.
            user_sessions.revoke_others(db.session, user.id, None, now)
            throttle.clear(db.session, throttle.account_key("login", user.email))
            audit_user(user, "user.password_reset")
            if user.has_two_factor:
                # The emailed link proves the mailbox, not the second factor.
                session.clear()
                db.session.commit()
                flash("Your password was changed. Log in with it and your 2FA code.", "success")
                return redirect(url_for("accounts.login"))
            sign_in(user)
            db.session.commit()
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
            member = team.accept_invitation(db.session, invitation, user)
        except services.AccountError as exc:
            db.session.rollback()
            form.password.errors = [str(exc)]
        else:
            team.audit_member(
                db.session, user, member, "member.joined", invitation_id=invitation.id
            )
            if existing is None:
                sign_in(user)
            session["workspace_id"] = invitation.workspace_id
            db.session.commit()
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
    return redirect(_safe_next(request.args.get("next")))
