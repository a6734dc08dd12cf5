"""Inbound Stripe webhooks: verify, store once, answer at once, process in a worker."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select, text

from app.extensions import db
from app.stripe.models import MirrorCustomer, StripeEvent

from ...conftest import WEBHOOK_SECRET
from .. import factories as f


@pytest.fixture
def shop(ctx):
    ws = f.workspace()
    conn = f.connection(ws, account="acct_shop1")
    db.session.commit()
    return ws, conn


def count_events() -> int:
    return db.session.execute(select(func.count()).select_from(StripeEvent)).scalar_one()


def post(web, body, secret=WEBHOOK_SECRET, path="/webhooks/stripe", at=None):
    raw, headers = f.signed(body, secret, at)
    return web.post(path, data=raw, headers=headers)


def test_event_is_stored_processed_and_mirrored(web, shop) -> None:
    ws, _ = shop
    event = f.event(
        account="acct_shop1",
        obj={"id": "cus_1", "object": "customer", "email": "jo@example.com", "name": "Jo"},
    )
    response = post(web, event)
    assert response.status_code == 200
    assert response.json == {"received": True, "duplicate": False}
    stored = db.session.execute(select(StripeEvent)).scalar_one()
    assert stored.workspace_id == ws.id and stored.status == "processed"
    mirrored = db.session.execute(select(MirrorCustomer)).scalar_one()
    assert (mirrored.workspace_id, mirrored.email) == (ws.id, "jo@example.com")


def test_an_event_holding_nul_is_processed_without_it(web, shop) -> None:
    """Kept as received (the escape is plain text), processed with the NULs taken out:
    PostgreSQL's text columns refuse them, and the event must not be lost."""
    obj = {"id": "cus_1", "object": "customer", "email": "jo@example.com", "name": "J\x00o"}
    obj["metadata"] = {"note\x00": "a\x00b"}
    assert post(web, f.event(account="acct_shop1", obj=obj)).status_code == 200
    stored = db.session.execute(select(StripeEvent)).scalar_one()
    assert stored.status == "processed"
    mirrored = db.session.execute(select(MirrorCustomer)).scalar_one()
    assert mirrored.name == "Jo" and mirrored.data["metadata"] == {"note": "ab"}


def test_duplicate_delivery_is_200_and_changes_nothing(web, shop) -> None:
    event = f.event(account="acct_shop1")
    assert post(web, event).status_code == 200
    before = db.session.execute(select(StripeEvent)).scalar_one().processed_at
    again = post(web, event)
    assert again.status_code == 200 and again.json["duplicate"] is True
    db.session.expire_all()
    assert count_events() == 1
    assert db.session.execute(select(StripeEvent)).scalar_one().processed_at == before


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Stripe-Signature": "t=123"},
        {"Stripe-Signature": "garbage"},
    ],
)
def test_missing_or_malformed_signature_is_400_and_stores_nothing(web, shop, headers) -> None:
    response = web.post("/webhooks/stripe", data=b'{"id": "evt_x"}', headers=headers)
    assert response.status_code == 400
    assert count_events() == 0


def test_wrong_secret_is_400(web, shop) -> None:
    assert post(web, f.event(account="acct_shop1"), secret="whsec_other").status_code == 400
    assert count_events() == 0


def test_stale_timestamp_is_400(web, shop) -> None:
    response = post(web, f.event(account="acct_shop1"), at=int(time.time()) - 301)
    assert response.status_code == 400 and "tolerance" in response.json["error"]
    assert count_events() == 0


def test_body_that_is_not_json_is_400(web, shop) -> None:
    assert post(web, b"not json at all").status_code == 400
    assert post(web, b'{"json": "but not an event"}').status_code == 400
    assert count_events() == 0


def test_oversized_body_is_413(web, shop, app) -> None:
    limit = app.config["BACKSTOP"].webhook_max_bytes
    huge = b'{"pad": "' + b"x" * limit + b'"}'
    assert post(web, huge).status_code == 413
    assert count_events() == 0


def test_unknown_type_is_stored_and_ignored(web, shop) -> None:
    response = post(
        web, f.event("balance.available", account="acct_shop1", obj={"object": "balance"})
    )
    assert response.status_code == 200
    stored = db.session.execute(select(StripeEvent)).scalar_one()
    assert stored.type == "balance.available" and stored.status == "processed"
    assert db.session.execute(select(func.count()).select_from(MirrorCustomer)).scalar_one() == 0


def test_out_of_order_events_keep_the_newest_state(web, shop) -> None:
    newer = f.event(
        "customer.updated",
        account="acct_shop1",
        created=2_000,
        obj={"id": "cus_9", "object": "customer", "email": "new@example.com"},
    )
    older = f.event(
        "customer.updated",
        account="acct_shop1",
        created=1_000,
        obj={"id": "cus_9", "object": "customer", "email": "old@example.com"},
    )
    assert post(web, newer).status_code == 200
    assert post(web, older).status_code == 200
    assert db.session.execute(select(MirrorCustomer.email)).scalar_one() == "new@example.com"


def test_unrouted_account_is_stored_but_not_acted_on(web, shop) -> None:
    assert post(web, f.event(account="acct_nobody")).status_code == 200
    stored = db.session.execute(select(StripeEvent)).scalar_one()
    assert stored.workspace_id is None and stored.status == "ignored"


def test_disconnected_workspace_events_are_stored_not_acted_on(web, ctx) -> None:
    ws = f.workspace()
    f.connection(ws, account="acct_gone", status="disconnected")
    db.session.commit()
    assert post(web, f.event(account="acct_gone")).status_code == 200
    stored = db.session.execute(select(StripeEvent)).scalar_one()
    assert stored.workspace_id == ws.id and stored.status == "ignored"
    assert db.session.execute(select(func.count()).select_from(MirrorCustomer)).scalar_one() == 0


def test_workspace_endpoint_uses_its_own_secret(web, ctx) -> None:
    ws = f.workspace()
    f.connection(ws, mode="restricted_key", webhook_secret="whsec_shop_own")
    db.session.commit()
    path = f"/webhooks/stripe/{ws.slug}"
    assert post(web, f.event(), secret=WEBHOOK_SECRET, path=path).status_code == 400
    assert post(web, f.event(), secret="whsec_shop_own", path=path).status_code == 200
    assert db.session.execute(select(StripeEvent.workspace_id)).scalar_one() == ws.id


def test_unknown_slug_is_404(web, ctx) -> None:
    assert post(web, f.event(), path="/webhooks/stripe/no-such-shop").status_code == 404
    assert count_events() == 0


def test_deauthorization_disconnects_the_workspace(web, shop) -> None:
    _, conn = shop
    event = f.event(
        "account.application.deauthorized",
        account="acct_shop1",
        obj={"id": "ca_backstop_tests", "object": "application"},
    )
    assert post(web, event).status_code == 200
    db.session.refresh(conn)
    assert conn.status == "disconnected" and conn.disconnect_reason == "deauthorized"


@pytest.fixture
def on_postgresql(ctx) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("intake keeps connections of its own on PostgreSQL only")


def test_intake_reconnects_when_its_connection_was_dropped(web, shop, app, on_postgresql) -> None:
    from app.stripe.intake import _CONNECTIONS_KEY

    assert post(web, f.event(account="acct_shop1")).status_code == 200
    # This thread's intake connection, killed as a database restart would (another
    # test's thread may hold one too: killing "any" could miss the one this post uses).
    held = app.extensions[_CONNECTIONS_KEY]._local.held.connection
    dropped = held.info.backend_pid
    killed = db.session.execute(
        text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped}
    ).scalar_one()
    assert killed is True
    db.session.commit()
    response = post(web, f.event(account="acct_shop1"))
    assert response.status_code == 200 and response.json["duplicate"] is False
    fresh = app.extensions[_CONNECTIONS_KEY]._local.held.connection
    assert not fresh.closed and fresh.info.backend_pid != dropped  # it connected again
    db.session.expire_all()
    assert count_events() == 2


def test_intake_connections_close_with_the_engine(web, shop, app, on_postgresql) -> None:
    from app.stripe.intake import _CONNECTIONS_KEY

    assert post(web, f.event(account="acct_shop1")).status_code == 200
    held = app.extensions[_CONNECTIONS_KEY]._local.held.connection  # this thread's
    db.session.remove()
    db.engine.dispose()
    assert held.closed and _CONNECTIONS_KEY not in app.extensions
    assert post(web, f.event(account="acct_shop1")).status_code == 200
    assert count_events() == 2
