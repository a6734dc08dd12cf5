"""Two-factor sign-in: enrolment with a QR code, the code after the password (a half
signed-in browser reaches no page), replay refused, recovery codes, turning it off."""

from __future__ import annotations

import datetime as dt

import pyotp
from sqlalchemy import select

from app.accounts import two_factor
from app.accounts.models import RecoveryCode, User
from app.audit.models import AuditEntry
from app.crypto import decrypt
from app.extensions import db
from app.models import utcnow

from .. import factories as f
from ..forms import submit

T0 = dt.datetime(2026, 3, 2, 9, 0, 0, tzinfo=dt.UTC)


def _enrol(web, user: User) -> tuple[str, list[str]]:
    """Turn 2FA on through the Security page; the secret and the recovery codes."""
    page = "/settings/security"
    assert (
        submit(
            web, "/settings/security/two-factor/start", {"password": f.PASSWORD}, page=page
        ).status_code
        == 302
    )
    shown = web.get(page).get_data(as_text=True)
    assert "<svg" in shown and "Scan this QR code" in shown and "<script" not in shown
    db.session.refresh(user)
    secret = decrypt(user.totp_secret_enc)
    assert secret in shown and secret not in user.totp_secret_enc  # encrypted at rest
    assert not user.has_two_factor  # until a code confirms it
    wrong = submit(web, "/settings/security/two-factor/confirm", {"code": "000000"}, page=page)
    assert wrong.status_code == 400
    done = submit(
        web,
        "/settings/security/two-factor/confirm",
        {"code": two_factor.code_at(secret, utcnow())},
        page=page,
    )
    assert done.status_code == 200
    codes = __import__("re").findall(
        r"<li><code>([0-9a-f]{5}-[0-9a-f]{5})</code></li>", done.get_data(as_text=True)
    )
    assert len(codes) == 10
    db.session.refresh(user)
    assert user.has_two_factor
    stored = (
        db.session.execute(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id))
        .scalars()
        .all()
    )
    assert len(stored) == 10 and not set(codes) & set(stored)  # hashed
    assert (
        "recovery codes" not in web.get(page).get_data(as_text=True).split("Two-factor sign-in")[0]
    )
    return secret, codes


def _password_step(web, email: str = "jo@example.com"):
    return submit(web, "/login", {"email": email, "password": f.PASSWORD})


def test_enrol_then_sign_in_needs_the_code(web, ctx) -> None:
    user = f.user("jo@example.com")
    f.workspace(user)
    db.session.commit()
    f.login(web, user)
    secret, _codes = _enrol(web, user)
    submit(web, "/logout", {}, page="/dashboard")

    first = _password_step(web)
    assert first.status_code == 302 and first.location.endswith("/login/two-factor")
    # Half signed in: no page of the dashboard opens.
    for path in ("/dashboard", "/settings/security", "/settings/team", "/customers"):
        response = web.get(path)
        assert response.status_code == 302 and "/login" in response.location, path
    bad = submit(web, "/login/two-factor", {"code": "123456"})
    assert bad.status_code == 400
    # The code that confirmed the enrolment is spent: the app's next one signs in.
    db.session.refresh(user)
    spent = pyotp.TOTP(secret).generate_otp(user.totp_last_counter)
    assert submit(web, "/login/two-factor", {"code": spent}).status_code == 400
    code = two_factor.code_at(secret, utcnow() + dt.timedelta(seconds=30))
    good = submit(web, "/login/two-factor", {"code": code})
    assert good.status_code == 302 and good.location.endswith("/dashboard")
    assert web.get("/dashboard").status_code == 200

    # The same code again, within its window, is refused.
    submit(web, "/logout", {}, page="/dashboard")
    _password_step(web)
    assert submit(web, "/login/two-factor", {"code": code}).status_code == 400
    assert web.get("/dashboard").status_code == 302


def test_a_recovery_code_signs_in_once(web, ctx) -> None:
    user = f.user("jo@example.com")
    f.workspace(user)
    db.session.commit()
    f.login(web, user)
    _secret, codes = _enrol(web, user)
    submit(web, "/logout", {}, page="/dashboard")
    _password_step(web)
    used = submit(web, "/login/two-factor", {"code": codes[0].upper()})
    assert used.status_code == 302
    assert "9 left" in web.get("/dashboard").get_data(as_text=True)
    assert db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "user.two_factor.recovery_code_used")
    ).scalar_one()
    submit(web, "/logout", {}, page="/dashboard")
    _password_step(web)
    assert submit(web, "/login/two-factor", {"code": codes[0]}).status_code == 400


def test_the_pending_step_expires(web, ctx) -> None:
    user = f.user("jo@example.com")
    f.workspace(user)
    db.session.commit()
    f.login(web, user)
    _enrol(web, user)
    submit(web, "/logout", {}, page="/dashboard")
    _password_step(web)
    with web.session_transaction() as s:
        s["two_factor_pending"]["at"] -= 11 * 60
        s.modified = True
    response = web.get("/login/two-factor")
    assert response.status_code == 302 and response.location.endswith("/login")


def test_turning_off_needs_the_password_or_a_code_and_signs_out_elsewhere(web, ctx, app) -> None:
    user = f.user("jo@example.com")
    f.workspace(user)
    db.session.commit()
    f.login(web, user)
    other = app.test_client()
    f.login(other, user)
    secret, _ = _enrol(web, user)
    assert other.get("/dashboard").status_code == 302  # enabling 2FA signed it out
    f.login(other, user)
    page = "/settings/security"
    refused = submit(
        web, "/settings/security/two-factor/disable", {"password": "wrong one!!"}, page=page
    )
    assert refused.status_code == 400
    db.session.refresh(user)
    assert user.has_two_factor
    code = two_factor.code_at(secret, utcnow() + dt.timedelta(seconds=30))
    assert (
        submit(web, "/settings/security/two-factor/disable", {"code": code}, page=page).status_code
        == 302
    )
    db.session.refresh(user)
    assert not user.has_two_factor and user.totp_secret_enc is None
    assert other.get("/dashboard").status_code == 302
    actions = set(db.session.execute(select(AuditEntry.action)).scalars())
    assert {"user.two_factor.enabled", "user.two_factor.disabled"} <= actions


def test_matching_step_accepts_drift_and_refuses_used_steps() -> None:
    secret = pyotp.random_base32()
    totp = pyotp.TOTP(secret)
    step = totp.timecode(T0)
    assert two_factor.matching_step(secret, totp.at(T0), T0, None) == step
    assert (
        two_factor.matching_step(secret, totp.at(T0 - dt.timedelta(seconds=30)), T0, None)
        == step - 1
    )
    assert (
        two_factor.matching_step(secret, totp.at(T0 - dt.timedelta(seconds=90)), T0, None) is None
    )
    assert two_factor.matching_step(secret, totp.at(T0), T0, step) is None  # replay
    assert (
        two_factor.matching_step(secret, totp.at(T0 + dt.timedelta(seconds=30)), T0, step)
        == step + 1
    )
    assert two_factor.matching_step(secret, "12 34 56x", T0, None) is None
    assert (
        two_factor.matching_step(secret, " " + totp.at(T0)[:3] + " " + totp.at(T0)[3:], T0, None)
        == step
    )


def test_workspace_can_require_two_factor(web, ctx) -> None:
    owner = f.user("owner@example.com")
    ws = f.workspace(owner)
    viewer = f.member(ws, "viewer", "v@example.com")
    db.session.commit()
    f.login(web, owner)
    page = "/settings/security"
    assert submit(web, "/settings/security/require-two-factor", {}, page=page).status_code == 400
    _enrol(web, owner)
    assert submit(web, "/settings/security/require-two-factor", {}, page=page).status_code == 302
    db.session.refresh(ws)
    assert ws.is_two_factor_required
    f.login(web, viewer)
    response = web.get("/dashboard")
    assert response.status_code == 302 and "/settings/security" in response.location
    assert web.get("/settings/security").status_code == 200
