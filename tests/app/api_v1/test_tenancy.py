"""Cross-tenant access through the API is a matrix, not a hope: every operation of the
OpenAPI document (so a new one is covered the day it is added), called with workspace
A's key and workspace B's ids, answers 404 and changes nothing; lists never show B's."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.api.v1.docs import document
from app.audit.models import AuditEntry
from app.extensions import db

from . import seed


@pytest.fixture
def shops(ctx):
    a = seed.shop("Shop A", "cus_a")
    b = seed.shop("Shop B", "cus_b")
    db.session.commit()
    return a, b


def _operations(app) -> list[tuple[str, str, dict]]:
    with app.test_request_context():
        spec = document()
    return [
        (method.upper(), path, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
    ]


def test_every_operation_with_an_id_is_404_for_another_workspaces_objects(web, app, shops) -> None:
    a, b = shops
    checked = 0
    for method, path, op in _operations(app):
        names = re.findall(r"{(\w+)}", path)
        if not names:
            continue
        unknown = set(names) - b.ids.keys()
        assert not unknown, f"{op['operationId']} takes {unknown}: add it to seed.shop's ids"
        url = path.format(**{name: b.ids[name] for name in names})
        response = web.open(url, method=method, headers=a.auth())
        assert response.status_code == 404, (method, url, response.status_code)
        assert response.get_json()["error"]["code"] == "resource_missing"
        # And B's own key reaches it: the ids are real.
        own = web.open(url, method=method, headers=b.auth())
        assert own.status_code == 200, (method, url, own.get_data(as_text=True))
        checked += 1
    assert checked >= 7
    # Only B's own pause and resume went through; A's key changed nothing of B's.
    actors = db.session.execute(select(AuditEntry.workspace_id)).scalars().all()
    assert set(actors) == {b.workspace.id}


def test_lists_show_only_the_keys_workspace(web, app, shops) -> None:
    a, b = shops
    theirs = {v for k, v in b.ids.items() if k != "customer_id"}
    listed = 0
    for method, path, op in _operations(app):
        if "{" in path or method != "GET":
            continue
        body = web.get(path, headers=a.auth()).get_data(as_text=True)
        assert not any(f'"{public_id}"' in body for public_id in theirs), op["operationId"]
        assert "cus_b" not in body, op["operationId"]
        listed += 1
    assert listed >= 5


def test_a_cursor_from_another_workspace_is_404(web, shops) -> None:
    a, b = shops
    response = web.get(f"/api/v1/campaigns?starting_after={b.ids['campaign_id']}", headers=a.auth())
    assert response.status_code == 404
    assert response.get_json()["error"]["param"] == "starting_after"
    assert db.session.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == 0
