"""The back office, walked from the app's url_map (a view added tomorrow is walked too):
a merchant gets 403 on every admin endpoint, anyone signed out is sent to log in, and
staff ``support`` cannot change anything through any POST."""

from __future__ import annotations

import pytest

from app.extensions import db

from ..app import factories as f
from ..app.forms import csrf_token
from .conftest import snapshot

#: Placeholders for the admin routes' own variables (none of them is a tenant id).
ARGUMENTS = {"export_type": "csv", "filename": "admin/css/admin.css"}


def admin_routes(app) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) of every back-office route but its static files."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin") or rule.endpoint == "admin.static":
            continue
        url = rule.build({k: ARGUMENTS[k] for k in rule.arguments})[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, url))
    return found


@pytest.fixture
def back_office(web, ctx):
    """A workspace with a member, a staff admin and rows for every write to aim at."""
    owner = f.user("owner@shop.example")
    ws = f.workspace(owner, "Shop")
    f.connection(ws)
    f.dispute(ws)
    db.session.commit()
    return ws, owner


def _post_data(token: str, ws_id: int, owner_id: int) -> dict:
    # Enough to do harm if a write went through: a row id, a bulk action, form fields.
    return {
        "csrf_token": token,
        "id": str(ws_id),
        "rowid": [str(ws_id), str(owner_id)],
        "action": "delete",
        "name": "Hacked",
        "email": "hacked@example.com",
        "staff_role": "admin",
        "list_form_pk": str(owner_id),
        "value": "x",
    }


def test_a_merchant_gets_403_on_every_admin_endpoint(web, app, back_office) -> None:
    ws, owner = back_office
    f.login(web, owner)
    token = csrf_token(web, "/settings/team")
    before = snapshot(ws.id)
    walked = admin_routes(app)
    for endpoint, method, url in walked:
        query = f"?id={ws.id}" if method == "GET" else f"?id={owner.id}"
        response = web.open(url + query, method=method, data=_post_data(token, ws.id, owner.id))
        assert response.status_code == 403, (endpoint, method, response.status_code)
    assert len(walked) > 100  # every model view's list, details, edit, delete, actions...
    assert snapshot(ws.id) == before


def test_signed_out_visitors_are_sent_to_log_in_everywhere(web, app, back_office) -> None:
    ws, _ = back_office
    before = snapshot(ws.id)
    for endpoint, method, url in admin_routes(app):
        response = web.open(url, method=method, data={"id": str(ws.id)})
        # A POST without a session has no CSRF token either: refused before the view.
        assert response.status_code in (302, 400), (endpoint, method, response.status_code)
        if response.status_code == 302:
            assert response.headers["Location"].startswith("/login?next="), endpoint
    assert snapshot(ws.id) == before


def test_support_staff_cannot_post_anything(web, app, back_office) -> None:
    ws, owner = back_office
    support = f.user("support@backstop.example", staff_role="support")
    db.session.commit()
    f.login(web, support)
    token = csrf_token(web, "/admin/")
    before = snapshot(ws.id)
    posts = [(e, u) for e, m, u in admin_routes(app) if m == "POST"]
    for endpoint, url in posts:
        for query in ("", f"?id={ws.id}", f"?id={owner.id}"):
            response = web.post(url + query, data=_post_data(token, ws.id, owner.id))
            assert response.status_code == 403, (endpoint, query, response.status_code)
    assert len(posts) > 50
    assert snapshot(ws.id) == before
    # Reading is what support is for: the same session sees every list.
    for endpoint, _, url in admin_routes(app):
        if endpoint.endswith(".index_view") or endpoint == "admin.index":
            assert web.get(url).status_code == 200, endpoint
