"""Admins set a workspace's website (the card-update page's "Back to" link): http(s)
only, blank clears it, every change audited; support only reads it."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.extensions import db

from ..app import factories as f
from ..app.forms import csrf_token


@pytest.fixture
def ws(ctx):
    workspace = f.workspace(name="Acme")
    db.session.commit()
    return workspace


def login(web, role: str) -> None:
    user = f.user(staff_role=role)
    db.session.commit()
    f.login(web, user)


def save(web, ws, website: str):
    url = f"/admin/workspaces/edit/?id={ws.id}"
    return web.post(
        url,
        data={
            "csrf_token": csrf_token(web, url),
            "name": ws.name,
            "timezone": "UTC",
            "brand_color": "#4f46e5",
            "website_url": website,
        },
    )


def website(ws) -> str | None:
    db.session.expire_all()
    return ws.website_url


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        ("javascript://acme.example/%0aalert(1)", "An http:// or https:// address."),
        ("ftp://acme.example", "An http:// or https:// address."),
        ("acme.example", "Invalid URL."),
    ],
)
def test_only_a_web_address_is_taken(web, ws, bad, error) -> None:
    login(web, "admin")
    response = save(web, ws, bad)
    assert response.status_code == 200 and error in html.unescape(response.get_data(as_text=True))
    assert website(ws) is None


def test_an_admin_sets_and_clears_the_website_audited(web, ws) -> None:
    login(web, "admin")
    assert save(web, ws, " https://acme.example/account ").status_code == 302
    assert website(ws) == "https://acme.example/account"
    details = web.get(f"/admin/workspaces/details/?id={ws.id}").get_data(as_text=True)
    assert "Website" in details and "https://acme.example/account" in details
    assert save(web, ws, "").status_code == 302
    assert website(ws) is None
    entries = db.session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
    assert [e.details["changes"]["website_url"] for e in entries] == [
        [None, "https://acme.example/account"],
        ["https://acme.example/account", None],
    ]


def test_support_reads_the_website_but_cannot_edit_it(web, ws) -> None:
    ws.website_url = "https://acme.example"
    db.session.commit()
    login(web, "support")
    details = web.get(f"/admin/workspaces/details/?id={ws.id}").get_data(as_text=True)
    assert "https://acme.example" in details
    assert web.get(f"/admin/workspaces/edit/?id={ws.id}").status_code == 403
