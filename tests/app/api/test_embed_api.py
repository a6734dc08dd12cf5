"""``POST /api/embed/payment-wall`` (DESIGN §7, §8): signed, unsigned under the
require-signature switch, refused (401), unknown (404), current, malformed (400), CORS."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.api import embed_secrets
from app.api.signing import sign
from app.dunning import links
from app.dunning.models import CardUpdateLink
from app.extensions import db
from app.recovery.models import Campaign
from app.stripe import mirror

from .. import factories as f

URL = "/api/embed/payment-wall"
_n = itertools.count(1)


def campaign(ws, customer: str, *, state: str = "in_flight") -> Campaign:
    n = next(_n)
    opened = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    row = Campaign(
        workspace_id=ws.id,
        invoice_stripe_id=f"in_wall{n}",
        customer_stripe_id=customer,
        subscription_stripe_id=f"sub_wall{n}",
        amount_minor=2900,
        currency="usd",
        decline_code="insufficient_funds",
        decline_class="scheduled",
        state=state,
        opened_at=opened,
        last_failure_at=opened,
        window_ends_at=opened + dt.timedelta(days=30),
        closed_at=None if state == "in_flight" else opened,
    )
    db.session.add(row)
    db.session.flush()
    return row


def customer(ws, stripe_id: str, **extra: Any) -> None:
    body = {"id": stripe_id, "object": "customer", "email": f"{stripe_id}@example.com", **extra}
    mirror.upsert(db.session, ws.id, body, 1)


@pytest.fixture
def shop(ctx):
    ws = f.workspace(name="Wall Shop")
    secret = embed_secrets.ensure(db.session, ws)
    customer(ws, "cus_late")
    customer(ws, "cus_current")
    older = campaign(ws, "cus_late")
    newest = campaign(ws, "cus_late")
    db.session.commit()
    return {"ws": ws, "slug": ws.slug, "secret": secret, "older": older, "newest": newest}


def signed(shop, customer_id: str, *, at: int | None = None, **extra: Any) -> dict[str, Any]:
    ts = int(time.time()) if at is None else at
    return {
        "workspace": shop["slug"],
        "customer": customer_id,
        "timestamp": ts,
        "signature": sign(shop["secret"], customer_id, ts),
        **extra,
    }


def wall_links() -> list[CardUpdateLink]:
    db.session.expire_all()
    return list(db.session.execute(select(CardUpdateLink).order_by(CardUpdateLink.id)).scalars())


def token_of(url: str) -> str:
    assert url.startswith("http://localhost/wall/"), url
    return url.rsplit("/", 1)[1]


# -- a customer with a failed payment gets the wall -------------------------------------------


def test_signed_request_opens_the_wall_for_the_newest_campaign(web, shop) -> None:
    response = web.post(URL, json=signed(shop, "cus_late"))
    assert response.status_code == 200, response.json
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers
    [link] = wall_links()
    assert links.find(db.session, token_of(response.json["url"])).id == link.id
    newest = shop["newest"]
    assert (link.purpose, link.campaign_id, link.customer_stripe_id) == (
        "wall",
        newest.id,
        "cus_late",
    )
    assert link.invoice_stripe_id == newest.invoice_stripe_id
    assert link.subscription_stripe_id == newest.subscription_stripe_id
    assert link.email == "cus_late@example.com"
    assert link.is_dismissible is False
    assert link.workspace_id == shop["ws"].id


def test_dismissible_is_asked_for(web, shop) -> None:
    response = web.post(URL, json=signed(shop, "cus_late", dismissible=True))
    assert response.status_code == 200
    [link] = wall_links()
    assert link.is_dismissible is True


def test_each_visit_gets_its_own_link(web, shop) -> None:
    first = web.post(URL, json=signed(shop, "cus_late")).json["url"]
    second = web.post(URL, json=signed(shop, "cus_late")).json["url"]
    assert first != second
    assert len(wall_links()) == 2


def test_a_campaign_without_a_mirrored_customer_still_gets_the_wall(web, shop) -> None:
    campaign(shop["ws"], "cus_not_imported_yet")
    db.session.commit()
    response = web.post(URL, json=signed(shop, "cus_not_imported_yet"))
    assert response.status_code == 200
    assert wall_links()[0].email is None


def test_timestamp_at_the_edge_of_the_window_is_accepted(web, shop) -> None:
    response = web.post(URL, json=signed(shop, "cus_late", at=int(time.time()) - 290))
    assert response.status_code == 200


# -- current customers ------------------------------------------------------------------------


def test_a_customer_without_a_failed_payment_is_current(web, shop) -> None:
    response = web.post(URL, json=signed(shop, "cus_current"))
    assert response.status_code == 200
    assert response.json == {"status": "current"}
    assert wall_links() == []


def test_a_recovered_campaign_leaves_the_customer_current(web, shop) -> None:
    customer(shop["ws"], "cus_paid")
    campaign(shop["ws"], "cus_paid", state="recovered")
    db.session.commit()
    assert web.post(URL, json=signed(shop, "cus_paid")).json == {"status": "current"}


def test_a_held_out_campaign_gets_no_wall(web, shop) -> None:
    customer(shop["ws"], "cus_held")
    campaign(shop["ws"], "cus_held").is_holdout = True
    db.session.commit()
    assert web.post(URL, json=signed(shop, "cus_held")).json == {"status": "current"}
    assert wall_links() == []


# -- unsigned requests and the require-signature switch ---------------------------------------


def unsigned(shop, customer_id: str) -> dict[str, Any]:
    return {"workspace": shop["slug"], "customer": customer_id}


def test_unsigned_is_accepted_while_the_switch_is_off(web, shop) -> None:
    assert shop["ws"].is_embed_signature_required is False
    response = web.post(URL, json=unsigned(shop, "cus_late"))
    assert response.status_code == 200 and "url" in response.json
    nulls = {**unsigned(shop, "cus_current"), "timestamp": None, "signature": None}
    assert web.post(URL, json=nulls).json == {"status": "current"}


def test_unsigned_is_refused_once_the_switch_is_on(web, shop) -> None:
    embed_secrets.set_signature_required(db.session, shop["ws"], True)
    db.session.commit()
    response = web.post(URL, json=unsigned(shop, "cus_late"))
    assert response.status_code == 401
    assert response.json == {"error": "this workspace accepts signed requests only"}
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert wall_links() == []
    assert web.post(URL, json=signed(shop, "cus_late")).status_code == 200


# -- refused: 401 -----------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [-301, 301, -86_400])
def test_a_timestamp_outside_five_minutes_is_refused(web, shop, offset: int) -> None:
    response = web.post(URL, json=signed(shop, "cus_late", at=int(time.time()) + offset))
    assert response.status_code == 401
    assert "timestamp" in response.json["error"]
    assert wall_links() == []


def _flip(signature: str) -> str:
    return ("0" if signature[0] != "0" else "1") + signature[1:]


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda b: {**b, "signature": _flip(b["signature"])}, id="one-hex-digit"),
        pytest.param(lambda b: {**b, "signature": b["signature"].upper()}, id="upper-case"),
        pytest.param(lambda b: {**b, "signature": b["signature"][:-2]}, id="short"),
        pytest.param(lambda b: {**b, "timestamp": b["timestamp"] - 1}, id="other-timestamp"),
        pytest.param(lambda b: {**b, "customer": "cus_current"}, id="other-customer"),
        pytest.param(lambda b: {k: v for k, v in b.items() if k != "signature"}, id="no-sig"),
        pytest.param(lambda b: {k: v for k, v in b.items() if k != "timestamp"}, id="no-ts"),
    ],
)
def test_a_tampered_signature_is_refused(web, shop, tamper) -> None:
    response = web.post(URL, json=tamper(signed(shop, "cus_late")))
    assert response.status_code == 401
    assert response.json["error"]
    assert wall_links() == []


def test_the_old_secret_stops_working_after_a_rotation(web, shop) -> None:
    old = signed(shop, "cus_late")
    embed_secrets.rotate(db.session, shop["ws"])
    db.session.commit()
    assert web.post(URL, json=old).status_code == 401


def test_a_signed_request_before_any_secret_exists_is_refused(web, ctx) -> None:
    ws = f.workspace(name="No Secret Yet")
    customer(ws, "cus_x")
    campaign(ws, "cus_x")
    db.session.commit()
    body = signed({"slug": ws.slug, "secret": "bk_embed_guess"}, "cus_x")
    response = web.post(URL, json=body)
    assert response.status_code == 401
    assert db.session.get(type(ws), ws.id).embed_secret_enc is None


# -- unknown: 404 -----------------------------------------------------------------------------


def test_an_unknown_customer_is_404(web, shop) -> None:
    response = web.post(URL, json=signed(shop, "cus_nobody"))
    assert response.status_code == 404
    assert response.json == {"error": "unknown customer"}


def test_a_deleted_customer_without_a_campaign_is_404(web, shop) -> None:
    customer(shop["ws"], "cus_gone", deleted=True)
    db.session.commit()
    response = web.post(URL, json=signed(shop, "cus_gone"))
    assert response.status_code == 404
    assert response.json == {"error": "unknown customer"}


def test_an_unknown_workspace_is_404(web, shop) -> None:
    response = web.post(URL, json={**signed(shop, "cus_late"), "workspace": "no-such-shop"})
    assert response.status_code == 404
    assert response.json == {"error": "unknown workspace"}


def test_another_workspaces_customer_is_unknown_here(web, shop) -> None:
    other = f.workspace(name="Other Shop")
    customer(other, "cus_theirs")
    campaign(other, "cus_theirs")
    db.session.commit()
    response = web.post(URL, json=signed(shop, "cus_theirs"))
    assert response.status_code == 404
    # Their secret does not open our customers either.
    theirs = {"slug": other.slug, "secret": embed_secrets.ensure(db.session, other)}
    db.session.commit()
    response = web.post(URL, json={**signed(theirs, "cus_late")})
    assert response.status_code == 404
    response = web.post(URL, json={**signed(theirs, "cus_late"), "workspace": shop["slug"]})
    assert response.status_code == 401
    assert wall_links() == []


# -- malformed: 400 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"{not json", id="broken"),
        pytest.param(b"[]", id="array"),
        pytest.param(b'"cus_late"', id="string"),
        pytest.param(b"null", id="null"),
        pytest.param(b"\xff\xfe", id="not-utf8"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_400(web, shop, raw: bytes) -> None:
    response = web.post(URL, data=raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json == {"error": "send a JSON object"}
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"workspace": None}, "workspace"),
        ({"workspace": 7}, "workspace"),
        ({"workspace": "x" * 64}, "workspace"),
        ({"customer": ""}, "customer"),
        ({"customer": ["cus_late"]}, "customer"),
        ({"customer": "cus_late\n1"}, "customer"),
        ({"customer": " cus_late"}, "customer"),
        ({"customer": "c" * 256}, "customer"),
        ({"timestamp": "1767225600"}, "timestamp"),
        ({"timestamp": 1767225600.5}, "timestamp"),
        ({"timestamp": True}, "timestamp"),
        ({"signature": 1234}, "signature"),
        ({"signature": {"v1": "x"}}, "signature"),
        ({"dismissible": "yes"}, "dismissible"),
        ({"dismissible": 1}, "dismissible"),
    ],
)
def test_wrong_types_are_400(web, shop, change: dict[str, Any], field: str) -> None:
    response = web.post(URL, json={**signed(shop, "cus_late"), **change})
    assert response.status_code == 400
    assert field in response.json["error"]
    assert wall_links() == []


def test_json_without_the_content_type_header_is_read(web, shop) -> None:
    response = web.post(URL, data=json.dumps(signed(shop, "cus_late")), content_type="text/plain")
    assert response.status_code == 200 and "url" in response.json


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=80),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=12,
)
bodies = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "workspace": json_values | st.just("wall-shop"),
            "customer": json_values | st.sampled_from(["cus_late", "cus_current"]),
            "timestamp": json_values,
            "signature": json_values | st.just("0" * 64),
            "dismissible": json_values,
        },
    ),
)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=bodies)
def test_no_body_gets_a_server_error(web, shop, body: Any) -> None:
    """Bad input gets a clear 4xx, never a 500 (DESIGN §4)."""
    response = web.post(URL, data=json.dumps(body), content_type="application/json")
    assert response.status_code in (200, 400, 401, 404), (body, response.status_code)
    assert isinstance(response.json, dict)
    assert set(response.json) <= {"url", "status", "error"}


# -- CORS -------------------------------------------------------------------------------------


def test_the_cors_preflight_allows_a_json_post_from_any_origin(web, shop) -> None:
    response = web.options(
        URL,
        headers={
            "Origin": "https://app.merchant.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status_code in (200, 204)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "content-type" in response.headers["Access-Control-Allow-Headers"].lower()
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert db.session.execute(select(func.count()).select_from(CardUpdateLink)).scalar_one() == 0


def test_no_session_cookie_is_needed_or_set(web, shop) -> None:
    response = web.post(
        URL, json=signed(shop, "cus_late"), headers={"Origin": "https://app.merchant.example"}
    )
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
