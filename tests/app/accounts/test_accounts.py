"""Sign up, log in and out, password reset, invitations, roles, CSRF."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.accounts.models import Membership, User, Workspace
from app.extensions import db
from app.outbox.models import OutboxMessage

from .. import factories as f
from ..forms import submit


def test_sign_up_creates_user_workspace_and_owner(web, ctx) -> None:
    response = submit(
        web,
        "/signup",
        {"email": "Founder@Example.com", "password": "long enough pw", "workspace": "Acme Fitness"},
    )
    assert response.status_code == 302 and response.location.endswith("/dashboard")
    user = db.session.execute(select(User)).scalar_one()
    assert user.email == "founder@example.com"
    workspace = db.session.execute(select(Workspace)).scalar_one()
    assert workspace.slug == "acme-fitness"
    assert db.session.execute(select(Membership.role)).scalar_one() == "owner"
    overview = web.get("/dashboard").get_data(as_text=True)
    assert "Acme Fitness" in overview and "Get set up" in overview
    assert "Backstop does nothing until Stripe is connected" in overview


def test_sign_up_rejects_bad_input_and_changes_nothing(web, ctx) -> None:
    f.user("taken@example.com")
    db.session.commit()
    for data in (
        {"email": "not-an-email", "password": "long enough pw", "workspace": "A"},
        {"email": "a@example.com", "password": "short", "workspace": "A"},
        {"email": "a@example.com", "password": "long enough pw", "workspace": ""},
        {"email": "taken@example.com", "password": "long enough pw", "workspace": "B"},
    ):
        assert submit(web, "/signup", data).status_code == 400
    assert db.session.execute(select(Workspace)).first() is None


def test_forms_refuse_a_missing_csrf_token(web, ctx) -> None:
    response = web.post(
        "/signup", data={"email": "a@example.com", "password": "long enough pw", "workspace": "A"}
    )
    assert response.status_code == 400
    assert db.session.execute(select(User)).first() is None


def test_slugs_stay_unique(ctx) -> None:
    a, b = f.workspace(name="Acme"), f.workspace(name="Acme")
    admin = f.workspace(name="Admin")
    assert (a.slug, b.slug) == ("acme", "acme-2")
    assert admin.slug == "admin-team"


def test_log_in_and_out(web, ctx) -> None:
    user = f.user("jo@example.com")
    f.workspace(user)
    db.session.commit()
    bad = submit(web, "/login", {"email": "jo@example.com", "password": "wrong password"})
    assert bad.status_code == 400 and "do not match" in bad.get_data(as_text=True)
    good = submit(web, "/login", {"email": "JO@example.com", "password": f.PASSWORD})
    assert good.status_code == 302
    assert web.get("/dashboard").status_code == 200
    assert submit(web, "/logout", {}, page="/dashboard").status_code == 302
    assert web.get("/dashboard").status_code == 302


def test_login_never_redirects_off_site(web, ctx) -> None:
    user = f.user("jo@example.com")
    f.workspace(user)
    db.session.commit()
    response = submit(
        web, "/login?next=//evil.example/x", {"email": "jo@example.com", "password": f.PASSWORD}
    )
    assert response.location.endswith("/dashboard")


def test_password_reset_by_emailed_link(web, ctx) -> None:
    user = f.user("jo@example.com")
    f.workspace(user)
    db.session.commit()
    submit(web, "/password/forgot", {"email": "nobody@example.com"})
    assert db.session.execute(select(OutboxMessage)).first() is None
    assert submit(web, "/password/forgot", {"email": "jo@example.com"}).status_code == 302
    message = db.session.execute(select(OutboxMessage)).scalar_one()
    assert message.to_email == "jo@example.com" and "Reset" in message.subject
    link = re.search(r"http://localhost(/password/reset/\S+)", message.body_text).group(1)
    assert submit(web, link, {"password": "a brand new password"}).status_code == 302
    submit(web, "/logout", {}, page="/dashboard")
    assert (
        submit(
            web, "/login", {"email": "jo@example.com", "password": "a brand new password"}
        ).status_code
        == 302
    )
    assert web.get(link).status_code == 400  # used


def test_invitation_and_roles(web, ctx) -> None:
    owner = f.user("owner@example.com")
    ws = f.workspace(owner, "Acme")
    db.session.commit()
    f.login(web, owner)
    assert (
        submit(web, "/settings/team", {"email": "new@example.com", "role": "viewer"}).status_code
        == 302
    )
    message = db.session.execute(select(OutboxMessage)).scalar_one()
    link = re.search(r"http://localhost(/invitations/\S+)", message.body_text).group(1)
    submit(web, "/logout", {}, page="/dashboard")
    assert submit(web, link, {"password": "viewer password"}).status_code == 302
    viewer = db.session.execute(select(User).where(User.email == "new@example.com")).scalar_one()
    assert (
        db.session.execute(
            select(Membership.role).where(
                Membership.user_id == viewer.id, Membership.workspace_id == ws.id
            )
        ).scalar_one()
        == "viewer"
    )
    # A viewer can look but not change settings or invite.
    assert web.get("/settings/workspace").status_code == 200
    assert (
        submit(
            web,
            "/settings/workspace",
            {"name": "Hacked", "timezone": "UTC", "brand_color": "#000000"},
        ).status_code
        == 403
    )
    assert (
        submit(
            web,
            "/settings/team",
            {"email": "x@example.com", "role": "owner"},
            page="/settings/team",
        ).status_code
        == 403
    )
    db.session.refresh(ws)
    assert ws.name == "Acme"
    assert web.get(link).status_code == 400  # an invitation works once


def test_workspace_settings_validate(web, ctx) -> None:
    owner = f.user()
    ws = f.workspace(owner, "Acme")
    db.session.commit()
    f.login(web, owner)
    bad = submit(
        web,
        "/settings/workspace",
        {"name": "Acme", "timezone": "Mars/Base", "brand_color": "red", "logo_url": "nope"},
    )
    assert bad.status_code == 400
    good = submit(
        web,
        "/settings/workspace",
        {
            "name": "Acme Co",
            "timezone": "Europe/Paris",
            "brand_color": "#FF5500",
            "logo_url": "https://cdn.example.com/l.png",
            "postal_address": "  1 Main St,\n Springfield  ",
            "website_url": "https://acme.example.com",
        },
    )
    assert good.status_code == 302
    db.session.refresh(ws)
    assert (ws.name, ws.timezone, ws.brand_color) == ("Acme Co", "Europe/Paris", "#ff5500")
    assert ws.postal_address == "1 Main St, Springfield"
    assert ws.website_url == "https://acme.example.com"
    sneaky = submit(
        web,
        "/settings/workspace",
        {"name": "Acme", "timezone": "UTC", "brand_color": "#000000", "website_url": "ftp://x.io"},
    )
    assert sneaky.status_code == 400
    db.session.refresh(ws)
    assert ws.website_url == "https://acme.example.com" and ws.name == "Acme Co"


def test_the_printed_demo_login_is_one_the_login_form_accepts(app) -> None:
    from email_validator import validate_email

    from scripts.dev import DEMO_EMAIL, DEMO_PASSWORD

    validate_email(DEMO_EMAIL, check_deliverability=False)
    assert len(DEMO_PASSWORD) >= 10
