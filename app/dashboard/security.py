"""Settings → Security, the signed-in person's own: where they are signed in (sign one
browser out, or all others), their password, and two-factor sign-in (enrol with a QR
code, recovery codes shown once, turn off). Owners can require 2FA for the workspace.
Every change is audited; password and 2FA changes sign the other browsers out."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from ..accounts import services, two_factor, user_sessions
from ..accounts.access import current_session_id, current_workspace, require_role
from ..accounts.forms import ChangePasswordForm, PasswordConfirmForm, TwoFactorCodeForm
from ..accounts.signin import audit_user
from ..extensions import db
from ..models import utcnow
from .chrome import feature_blueprint, on_refusal

bp = feature_blueprint("security", __name__)


def _page(*, status: int = 200, **forms) -> tuple[str, int]:
    user = current_user
    pending = two_factor.pending_secret(user)
    qr = None
    if pending is not None:
        uri = two_factor.provisioning_uri(pending, user.email)
        qr = {"svg": two_factor.qr_svg(uri), "secret": pending}
    return render_template(
        "dashboard/security.html",
        sessions=user_sessions.of_user(db.session, user.id, utcnow()),
        this_session=current_session_id(),
        describe_agent=user_sessions.describe_agent,
        qr=qr,
        codes_left=two_factor.recovery_codes_left(db.session, user.id),
        password_form=forms.get("password_form") or ChangePasswordForm(formdata=None),
        confirm_form=forms.get("confirm_form") or PasswordConfirmForm(formdata=None),
        code_form=forms.get("code_form") or TwoFactorCodeForm(formdata=None),
        recovery_codes=forms.get("recovery_codes"),
        errors=forms.get("errors") or [],
    ), status


def _refused(exc) -> str:
    return _page(errors=exc.errors)[0]


def _signed_out_elsewhere(reason: str) -> None:
    count = user_sessions.revoke_others(db.session, current_user.id, current_session_id(), utcnow())
    if count:
        flash(f"{reason} Your {count} other sign-in(s) were signed out.", "success")
    else:
        flash(reason, "success")


def _identity_confirmed(form: PasswordConfirmForm) -> bool:
    """The password again, or (with 2FA on) a current code: a stolen, open browser alone
    cannot turn 2FA off or replace the recovery codes."""
    if services.password_matches(current_user, form.password.data):
        return True
    code = form.code.data or ""
    return bool(code) and two_factor.verify(db.session, current_user, code, utcnow()) is not None


@bp.get("/settings/security")
def show():
    return _page()


@bp.post("/settings/security/password")
def change_password():
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _page(password_form=form, status=400)
    try:
        services.change_password(current_user, form.current_password.data, form.new_password.data)
    except services.AccountError as exc:
        form.current_password.errors = [str(exc)]
        return _page(password_form=form, status=400)
    audit_user(current_user, "user.password_changed")
    _signed_out_elsewhere("Your password was changed.")
    return redirect(url_for("security.show"))


@bp.post("/settings/security/sessions/<int:session_id>/revoke")
def revoke_session(session_id: int):
    if session_id == current_session_id():
        abort(400)  # this browser signs out with "Log out"
    if not user_sessions.revoke(db.session, current_user.id, session_id, utcnow()):
        abort(404)  # not one of mine, or already signed out
    audit_user(current_user, "user.session_revoked", session_id=session_id)
    flash("That browser was signed out.", "success")
    return redirect(url_for("security.show"))


@bp.post("/settings/security/sessions/revoke-others")
def revoke_other_sessions():
    count = user_sessions.revoke_others(db.session, current_user.id, current_session_id(), utcnow())
    audit_user(current_user, "user.sessions_revoked", count=count)
    flash(f"Signed out everywhere else ({count}).", "success")
    return redirect(url_for("security.show"))


@bp.post("/settings/security/two-factor/start")
def start_two_factor():
    form = PasswordConfirmForm()
    if not form.validate_on_submit() or not services.password_matches(
        current_user, form.password.data
    ):
        form.password.errors = ["Enter your password to set up two-factor sign-in."]
        return _page(confirm_form=form, status=400)
    on_refusal(_refused)
    two_factor.begin_enrolment(current_user)
    return redirect(url_for("security.show") + "#two-factor")


@bp.post("/settings/security/two-factor/confirm")
def confirm_two_factor():
    form = TwoFactorCodeForm()
    if not form.validate_on_submit():
        return _page(code_form=form, status=400)
    try:
        codes = two_factor.confirm_enrolment(db.session, current_user, form.code.data, utcnow())
    except services.AccountError as exc:
        form.code.errors = [str(exc)]
        return _page(code_form=form, status=400)
    audit_user(current_user, "user.two_factor.enabled")
    user_sessions.revoke_others(db.session, current_user.id, current_session_id(), utcnow())
    # The one time the recovery codes are shown: on this page, never in a redirect.
    return _page(recovery_codes=codes)


@bp.post("/settings/security/two-factor/recovery-codes")
def replace_recovery_codes():
    form = PasswordConfirmForm()
    if not current_user.has_two_factor:
        abort(400)
    if not form.validate_on_submit() or not _identity_confirmed(form):
        form.password.errors = ["Enter your password or a current code."]
        return _page(confirm_form=form, status=400)
    codes = two_factor.replace_recovery_codes(db.session, current_user, utcnow())
    audit_user(current_user, "user.two_factor.recovery_codes_replaced")
    return _page(recovery_codes=codes)


@bp.post("/settings/security/two-factor/disable")
def disable_two_factor():
    form = PasswordConfirmForm()
    if not form.validate_on_submit() or not _identity_confirmed(form):
        form.password.errors = ["Enter your password or a current code."]
        return _page(confirm_form=form, status=400)
    two_factor.disable(db.session, current_user)
    audit_user(current_user, "user.two_factor.disabled")
    _signed_out_elsewhere("Two-factor sign-in is off.")
    return redirect(url_for("security.show"))


@bp.post("/settings/security/require-two-factor")
@require_role("owner")
def require_two_factor():
    workspace = current_workspace()
    if not current_user.has_two_factor:
        return _page(errors=["Turn on two-factor sign-in for yourself first."], status=400)
    workspace.is_two_factor_required = not workspace.is_two_factor_required
    audit_user(
        current_user,
        "workspace.two_factor_required",
        workspace_id=workspace.id,
        required=workspace.is_two_factor_required,
    )
    flash(
        "Every member now needs two-factor sign-in."
        if workspace.is_two_factor_required
        else "Two-factor sign-in is no longer required.",
        "success",
    )
    return redirect(url_for("security.show"))
