"""The machine endpoints, fed hostile bodies by hypothesis: the embed endpoints (JSON
and raw bytes, valid signatures over odd values), the REST API's POSTs and list
parameters, and the Stripe webhook with correctly signed garbage. Never a 5xx; a 4xx
changes nothing in the database."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.api import embed_secrets
from app.api.signing import MalformedSignature, sign
from app.extensions import db

from ..app import factories as f
from ..app.api_v1 import seed
from ..app.forms import csrf_token
from ..conftest import WEBHOOK_SECRET
from .conftest import Checker
from .fuzz import FUZZ, json_objects, json_values, raw_bodies, text_values

EMBED = ["/api/embed/cancel", "/api/embed/portal", "/api/embed/payment-wall"]
EMBED_KEYS = ["workspace", "customer", "subscription", "timestamp", "signature"]
EMBED_KEYS += ["return_url", "dismissible"]


@pytest.fixture
def api_shop(ctx):
    shop = seed.shop("Shop", "cus_fuzz")
    secret = embed_secrets.ensure(db.session, shop.workspace)
    db.session.commit()
    return shop, secret


def _signed(secret: str, body: dict, url: str) -> dict:
    """``body`` with a valid signature over whatever its fields hold, where they can be
    signed at all (one-line strings)."""
    subscription = body.get("subscription") if url.endswith("/cancel") else None
    now = int(time.time())
    try:
        signature = sign(secret, body["customer"], now, subscription)
    except (MalformedSignature, TypeError):
        return body
    return {**body, "timestamp": now, "signature": signature}


@pytest.mark.parametrize("url", EMBED)
def test_embed_endpoints_survive_hostile_bodies(web, api_shop, url) -> None:
    shop, secret = api_shop
    checker = Checker(web, shop.workspace.id)
    slug = shop.workspace.slug
    near_valid = st.fixed_dictionaries(
        {
            "workspace": st.just(slug) | json_values,
            "customer": st.just("cus_fuzz") | text_values | json_values,
        },
        optional={
            "subscription": text_values,
            "return_url": text_values,
            "dismissible": json_values,
        },
    )

    @FUZZ
    @given(
        body=st.one_of(
            json_objects(EMBED_KEYS).map(lambda b: ("json", b)),
            near_valid.map(lambda b: ("signed", b)),
            raw_bodies.map(lambda b: ("raw", b)),
        )
    )
    def run(body) -> None:
        kind, value = body
        if kind == "raw":
            checker.send("POST", url, data=value, content_type="application/json")
        else:
            value = _signed(secret, value, url) if kind == "signed" else value
            checker.send("POST", url, json=value)

    run()


def test_api_posts_and_lists_survive_hostile_input(web, app, api_shop) -> None:
    shop, _ = api_shop
    checker = Checker(web, shop.workspace.id)
    ids = shop.ids
    posts = [
        f"/api/v1/campaigns/{ids['campaign_id']}/pause",
        f"/api/v1/campaigns/{ids['campaign_id']}/resume",
        "/api/v1/campaigns/" + "x" * 300 + "/pause",
    ]
    lists = ["/api/v1/campaigns", "/api/v1/events", "/api/v1/cancel_sessions"]
    lists += ["/api/v1/winback_campaigns", "/api/v1/insights"]
    params = st.dictionaries(
        st.sampled_from(["limit", "starting_after", "ending_before", "type", "status", "since"])
        | st.text(max_size=8),
        text_values | st.sampled_from(list(ids.values())),
        max_size=4,
    )
    headers = st.sampled_from(
        [shop.auth(), shop.auth(write=False), {"Authorization": "Bearer " + "\x00" * 10}]
    )

    @FUZZ
    @given(
        url=st.sampled_from(posts),
        body=raw_bodies | json_values.map(lambda v: json.dumps(v).encode()),
        auth=headers,
        idempotency=st.none() | text_values,
    )
    def post(url, body, auth, idempotency) -> None:
        extra = {} if idempotency is None else {"Idempotency-Key": idempotency}
        checker.send(
            "POST", url, data=body, content_type="application/json", headers={**auth, **extra}
        )

    @FUZZ
    @given(url=st.sampled_from(lists), query=params, auth=headers)
    def listing(url, query, auth) -> None:
        checker.send("GET", url, query_string=query, headers=auth)

    post()
    listing()


def test_stripe_webhook_survives_signed_garbage(web, ctx) -> None:
    """A body with a valid signature is Stripe's: whatever it holds, a 2xx or a 4xx."""
    ws = f.workspace(name="Hooked")
    f.connection(ws, account="acct_fuzz")
    db.session.commit()
    checker = Checker(web, ws.id)
    events = st.fixed_dictionaries(
        {
            "id": st.just("evt_") | text_values,
            "object": st.just("event") | json_values,
            "type": st.sampled_from(
                ["invoice.payment_failed", "customer.deleted", "charge.dispute.created"]
            )
            | text_values,
            "account": st.just("acct_fuzz") | json_values,
            "created": st.just(int(time.time())) | json_values,
            "data": st.fixed_dictionaries({"object": json_values}) | json_values,
        }
    )

    @FUZZ
    @given(body=raw_bodies | events.map(lambda e: json.dumps(e).encode()))
    def run(body: bytes) -> None:
        raw, headers = f.signed(body, WEBHOOK_SECRET)
        checker.send("POST", "/webhooks/stripe", data=raw, headers=headers)

    run()


DEEP = b"[" * 100_000  # past the interpreter's recursion limit: json.loads' RecursionError


@pytest.mark.parametrize("url", [*EMBED, "/webhooks/ses"])
def test_json_nested_too_deep_is_a_400_not_a_500(web, ctx, url) -> None:
    """Anyone may post these (the SES endpoint reads the body before its signature)."""
    response = web.post(url, data=DEEP, content_type="application/json")
    assert response.status_code == 400, response.status_code


def test_a_signed_stripe_event_nested_too_deep_is_a_400(web, ctx) -> None:
    raw, headers = f.signed(DEEP, WEBHOOK_SECRET)
    assert web.post("/webhooks/stripe", data=raw, headers=headers).status_code == 400


@pytest.mark.parametrize("url", ["/settings/emails/preview", "/settings/winback/preview"])
def test_a_dashboard_preview_nested_too_deep_is_a_400(web, two_shops, url) -> None:
    token = csrf_token(web, "/settings/team")
    response = web.post(
        url, data=DEEP, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert response.status_code == 400, response.status_code
