"""Settings → API keys: made by owners and admins (the secret shown once), revoked,
listed for viewers, audited; bad input changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.accounts import api_keys
from app.accounts.models import ApiKey
from app.audit.models import AuditEntry
from app.extensions import db

from .. import factories as f
from ..forms import csrf_token, submit

URL = "/settings/api-keys"


@pytest.fixture
def shop(ctx):
    owner = f.user()
    ws = f.workspace(owner)
    viewer = f.member(ws, "viewer")
    db.session.commit()
    return ws, owner, viewer


def _keys() -> int:
    return db.session.execute(select(func.count()).select_from(ApiKey)).scalar_one()


def test_an_owner_makes_a_key_sees_it_once_and_it_works(web, shop) -> None:
    ws, owner, _ = shop
    f.login(web, owner)
    page = submit(web, URL, {"name": "Support dashboard", "scope": "read"})
    assert page.status_code == 201
    html = page.get_data(as_text=True)
    key = db.session.execute(select(ApiKey)).scalar_one()
    secret = html.split('id="api-key-secret">', 1)[1].split("<", 1)[0]
    assert secret.startswith(key.prefix) and api_keys.hash_secret(secret) == key.secret_hash
    assert key.scope == "read" and key.created_by_id == owner.id and key.workspace_id == ws.id
    assert secret not in web.get(URL).get_data(as_text=True)  # never again
    listed = web.get("/api/v1/campaigns", headers={"Authorization": f"Bearer {secret}"})
    assert listed.status_code == 200
    entry = db.session.execute(select(AuditEntry)).scalar_one()
    assert entry.action == "api_key.create" and entry.details["prefix"] == key.prefix
    assert secret not in str(entry.details)


def test_revoking_a_key_refuses_it_from_then_on(web, shop) -> None:
    ws, owner, _ = shop
    key, secret = api_keys.create(db.session, ws.id, name="x", scope="read", created_by_id=None)
    db.session.commit()
    f.login(web, owner)
    response = submit(web, f"{URL}/{key.id}/revoke", {}, page=URL)
    assert response.status_code == 302
    db.session.refresh(key)
    assert key.revoked_at is not None
    headers = {"Authorization": f"Bearer {secret}"}
    assert web.get("/api/v1/campaigns", headers=headers).status_code == 401
    again = submit(web, f"{URL}/{key.id}/revoke", {}, page=URL)
    assert again.status_code == 409
    actions = db.session.execute(select(AuditEntry.action)).scalars().all()
    assert actions == ["api_key.revoke"]


@pytest.mark.parametrize(
    "data",
    [
        {"name": "", "scope": "read"},
        {"name": "x" * 81, "scope": "read"},
        {"name": "ok", "scope": "admin"},
    ],
)
def test_bad_input_makes_no_key(web, shop, data) -> None:
    f.login(web, shop[1])
    assert submit(web, URL, data).status_code == 400
    assert _keys() == 0


def test_viewers_see_the_list_but_cannot_make_or_revoke(web, shop) -> None:
    ws, _, viewer = shop
    key, _ = api_keys.create(db.session, ws.id, name="Zapier", scope="read", created_by_id=None)
    db.session.commit()
    f.login(web, viewer)
    html = web.get(URL).get_data(as_text=True)
    assert "Zapier" in html and key.prefix in html and "Make key" not in html
    token = csrf_token(web, "/settings/team")
    assert (
        web.post(URL, data={"csrf_token": token, "name": "n", "scope": "read"}).status_code == 403
    )
    assert web.post(f"{URL}/{key.id}/revoke", data={"csrf_token": token}).status_code == 403
    assert _keys() == 1
    db.session.refresh(key)
    assert key.revoked_at is None


def test_the_settings_nav_links_the_page(web, shop) -> None:
    f.login(web, shop[1])
    assert 'href="/settings/api-keys"' in web.get("/settings/team").get_data(as_text=True)
