"""The request class: JSON nested too deep and text holding NUL are a 400 wherever a
client puts them (form, query string, path, JSON), and nothing is written. PostgreSQL
refuses NUL in text columns, so on that lane each case here was a 500 before."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.accounts.models import Workspace
from app.extensions import db
from app.nul import holds_nul, without_nul
from app.request_class import NUL_REFUSED

from . import factories as f
from .forms import csrf_token

json_leaves = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_docs = st.recursive(
    json_leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def strings(doc):
    """Every string of a JSON document, keys included, by recursion (the rule walks a
    stack instead, so a deep document cannot exhaust the interpreter's)."""
    if isinstance(doc, str):
        yield doc
    elif isinstance(doc, list):
        for item in doc:
            yield from strings(item)
    elif isinstance(doc, dict):
        for key, value in doc.items():
            yield key
            yield from strings(value)


@given(json_docs)
def test_holds_nul_is_whether_any_string_of_the_document_holds_one(doc) -> None:
    assert holds_nul(doc) == any("\x00" in text for text in strings(doc))


@given(json_docs)
def test_without_nul_keeps_everything_but_the_nuls(doc) -> None:
    clean = without_nul(doc)
    assert not holds_nul(clean)
    if not holds_nul(doc):
        assert clean == doc


@pytest.mark.parametrize("doc", ["a\x00", ["x", ["\x00"]], {"\x00": 1}, {"a": {"b": "\x00"}}])
def test_holds_nul_finds_it_at_any_depth_and_in_keys(doc) -> None:
    assert holds_nul(doc)


@pytest.fixture
def shop(web, ctx):
    owner = f.user("owner@nul.example")
    ws = f.workspace(owner, "Nul Shop")
    db.session.commit()
    f.login(web, owner)
    return ws


def _name(ws: Workspace) -> str:
    db.session.expire_all()
    return db.session.get(Workspace, ws.id).name


@pytest.mark.parametrize("field", ["name", "timezone"])
def test_a_form_value_holding_nul_is_a_400_and_changes_nothing(web, shop, field) -> None:
    data = {"name": "Renamed", "timezone": "UTC", "brand_color": "#112233"}
    data[field] = data[field] + "\x00"
    token = csrf_token(web, "/settings/workspace")
    response = web.post("/settings/workspace", data={**data, "csrf_token": token})
    assert response.status_code == 400
    assert NUL_REFUSED in response.get_data(as_text=True)
    assert _name(shop) == "Nul Shop"


def test_a_form_field_name_holding_nul_is_a_400(web, shop) -> None:
    token = csrf_token(web, "/settings/workspace")
    data = {"name": "Renamed", "timezone": "UTC", "csrf_token": token, "x\x00": "1"}
    assert web.post("/settings/workspace", data=data).status_code == 400
    assert _name(shop) == "Nul Shop"


def test_the_same_form_without_nul_still_saves(web, shop) -> None:
    token = csrf_token(web, "/settings/workspace")
    data = {"name": "Renamed", "timezone": "UTC", "brand_color": "#112233", "csrf_token": token}
    assert web.post("/settings/workspace", data=data).status_code == 302
    assert _name(shop) == "Renamed"


@pytest.mark.parametrize(
    "url", ["/login?next=%00", "/customers?q=a%00b", "/portal/abc%00def", "/cancel/%00"]
)
def test_a_path_or_query_holding_nul_is_a_400(web, shop, url) -> None:
    response = web.get(url)
    assert response.status_code == 400, (url, response.status_code)


@pytest.mark.parametrize("url", ["/api/embed/cancel", "/api/embed/portal"])
def test_a_json_string_holding_nul_is_a_400(web, shop, url) -> None:
    body = {"workspace": shop.slug, "customer": "cus_\u0000", "timestamp": 1, "signature": "x"}
    response = web.post(url, data=json.dumps(body), content_type="application/json")
    assert response.status_code == 400, response.status_code
