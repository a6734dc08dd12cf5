"""Sign-ins in the audit log: each successful sign-in and each failed one on a real
account (wrong password, wrong 2FA code) is recorded once in every workspace the user
belongs to, with the address and browser; an unknown email records nothing."""

from __future__ import annotations

from sqlalchemy import select

from app.audit.models import AuditEntry
from app.extensions import db

from .. import factories as f
from ..forms import submit
from .test_two_factor import _enrol

FIREFOX = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:128.0) Gecko/20100101 Firefox/128.0"


def entries() -> list[tuple[str, int | None, dict]]:
    db.session.expire_all()
    rows = db.session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()
    return [(e.action, e.workspace_id, e.details) for e in rows]


def login(web, email: str, password: str):
    return submit(web, "/login", {"email": email, "password": password},
                  headers={"User-Agent": FIREFOX})  # fmt: skip


def test_a_sign_in_is_recorded_in_each_workspace_of_the_user(web, ctx) -> None:
    jo = f.user("jo@example.com")
    one, two = f.workspace(jo, "One"), f.workspace(jo, "Two")
    db.session.commit()
    assert login(web, "jo@example.com", f.PASSWORD).status_code == 302
    found = entries()
    assert sorted(ws for action, ws, _ in found if action == "user.signed_in") == sorted(
        [one.id, two.id]
    )
    details = found[0][2]
    assert details["browser"] == "Firefox on macOS" and details["ip"] == "127.0.0.1"


def test_a_wrong_password_on_a_real_account_is_recorded_and_an_unknown_email_is_not(
    web, ctx
) -> None:
    jo = f.user("jo@example.com")
    ws = f.workspace(jo, "One")
    db.session.commit()
    assert login(web, "jo@example.com", "not it").status_code == 400
    assert login(web, "nobody@example.com", "not it").status_code == 400
    assert [(a, w, d["reason"]) for a, w, d in entries()] == [
        ("user.sign_in_failed", ws.id, "wrong password")
    ]


def test_a_wrong_two_factor_code_is_recorded(web, ctx) -> None:
    jo = f.user("jo@example.com")
    ws = f.workspace(jo, "One")
    db.session.commit()
    f.login(web, jo)
    _enrol(web, jo)
    web.post("/logout", data={})
    with web.session_transaction() as s:
        s.clear()
    before = len(entries())
    assert login(web, "jo@example.com", f.PASSWORD).status_code == 302  # to the code step
    page = "/login/two-factor"
    assert submit(web, page, {"code": "000000"}, page=page).status_code == 400
    failed = [(a, w, d.get("reason")) for a, w, d in entries()[before:]]
    assert failed == [("user.sign_in_failed", ws.id, "wrong two-factor code")]
