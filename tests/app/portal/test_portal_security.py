"""A portal token shows one customer's billing and changes only theirs; an expired or
unknown token shows nothing; a warm page asks Stripe nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app.extensions import db
from app.portal.models import PortalLink
from app.stripe import client as stripe_client

from .conftest import form_of

ACTIONS = ("pause", "resume", "renew", "cancel", "switch", "keep-plan", "quantity")


def test_another_customers_subscription_is_out_of_reach(web, portal_shop) -> None:
    mine = portal_shop.subscribe("pm_card_visa", email="me@example.com")
    theirs = portal_shop.subscribe("pm_card_visa", email="them@example.com")
    path = portal_shop.open_portal(web, mine.customer)
    portal_shop.open_portal(web, theirs.customer)
    html = web.get(path).get_data(as_text=True)
    assert "me@example.com" in html and "them@example.com" not in html
    assert theirs.id not in html
    for action in ACTIONS:
        url = f"{path}/subscriptions/{theirs.id}/{action}"
        fields = form_of(html, f"{path}/subscriptions/{mine.id}/pause")
        response = web.post(url, data={**fields, "months": "1", "price": portal_shop.plus})
        assert response.status_code == 409, (action, response.status_code)
    preview = web.get(f"{path}/subscriptions/{theirs.id}/switch?price={portal_shop.plus}")
    assert preview.status_code == 409
    assert web.get(f"{path}/subscriptions/{theirs.id}/quantity?quantity=2").status_code == 409
    stripe_sub = portal_shop.client.v1.subscriptions.retrieve(theirs.id)
    assert not stripe_sub.pause_collection and not stripe_sub.cancel_at_period_end
    assert stripe_sub["items"].data[0].price.id == portal_shop.price


def test_a_form_token_is_good_for_its_own_link_only(web, portal_shop) -> None:
    mine = portal_shop.subscribe("pm_card_visa")
    theirs = portal_shop.subscribe("pm_card_visa")
    my_path = portal_shop.open_portal(web, mine.customer)
    their_path = portal_shop.open_portal(web, theirs.customer)
    html = web.get(my_path).get_data(as_text=True)
    fields = form_of(html, f"{my_path}/subscriptions/{mine.id}/pause")
    stolen = web.post(
        f"{their_path}/subscriptions/{theirs.id}/pause", data={**fields, "months": "1"}
    )
    assert stolen.status_code == 400
    assert not portal_shop.client.v1.subscriptions.retrieve(theirs.id).pause_collection


@pytest.mark.parametrize("suffix", ["", "/details", "/subscriptions/sub_x/switch?price=p"])
def test_unknown_tokens_find_nothing(web, portal_shop, suffix) -> None:
    response = web.get(f"/portal/{'x' * 43}{suffix}")
    assert response.status_code == 404
    assert "Backstop" in response.get_data(as_text=True)


def test_an_expired_link_says_so_and_a_new_request_makes_a_new_one(web, portal_shop) -> None:
    sub = portal_shop.subscribe("pm_card_visa")
    path = portal_shop.open_portal(web, sub.customer)
    link = db.session.execute(select(PortalLink)).scalar_one()
    link.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    db.session.commit()
    expired = web.get(path)
    assert expired.status_code == 410 and "expired" in expired.get_data(as_text=True)
    again = portal_shop.open_portal(web, sub.customer)
    assert again != path and web.get(again).status_code == 200


def test_a_warm_page_asks_stripe_nothing(web, portal_shop, monkeypatch) -> None:
    sub = portal_shop.subscribe("pm_card_visa")
    path = portal_shop.open_portal(web, sub.customer)
    assert web.get(path).status_code == 200  # the first view fills the cache

    def no_stripe(*args, **kwargs):
        raise AssertionError("the warm page called Stripe")

    monkeypatch.setattr(stripe_client, "client_for", no_stripe)
    for module in ("portal", "subscriptions", "billing"):
        monkeypatch.setattr(f"app.stripe.{module}.client_for", no_stripe, raising=False)
    page = web.get(path)
    assert page.status_code == 200 and "Next invoice $29.00" in page.get_data(as_text=True)


def test_a_change_made_elsewhere_refreshes_what_the_page_shows(web, portal_shop) -> None:
    sub = portal_shop.subscribe("pm_card_visa")
    path = portal_shop.open_portal(web, sub.customer)
    assert "Next invoice $29.00" in web.get(path).get_data(as_text=True)
    portal_shop.client.v1.subscriptions.update(
        sub.id,
        params={
            "items": [{"id": sub["items"].data[0].id, "price": portal_shop.plus}],
            "proration_behavior": "none",
        },
    )
    portal_shop.pump()  # the webhook reaches the mirror
    html = web.get(path).get_data(as_text=True)
    assert "Studio Plus" in html and "Next invoice $49.00" in html, html[
        html.find("subs-heading") :
    ][:1500]


def test_guessing_tokens_is_throttled_across_every_customer_page(web, portal_shop) -> None:
    sub = portal_shop.subscribe("pm_card_visa")
    path = portal_shop.open_portal(web, sub.customer)
    for _ in range(5):
        assert web.get(path).status_code == 200  # a real link's views count for nothing
    statuses = [web.get(f"/portal/guess{i:040d}").status_code for i in range(31)]
    assert statuses[:30] == [404] * 30 and statuses[30] == 429
    throttled = web.get("/update-card/another-guess")
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0


def test_stripe_out_of_reach_is_a_503_that_changes_nothing(web, portal_shop, monkeypatch) -> None:
    from app.api import cancel as cancel_api
    from app.portal import page

    sub = portal_shop.subscribe("pm_card_visa")
    path = portal_shop.open_portal(web, sub.customer)

    def down(*args, **kwargs):
        raise stripe_client.StripeError("connection refused")

    monkeypatch.setattr(page, "build", down)
    response = web.get(path)
    assert response.status_code == 503
    assert "Billing is unavailable right now" in response.get_data(as_text=True)
    monkeypatch.setattr(cancel_api, "start", down)
    started = web.post(
        "/cancel/start",
        data={
            "workspace": portal_shop.workspace.slug,
            "customer": sub.customer,
            "subscription": sub.id,
        },
    )
    assert started.status_code == 503 and "Nothing has changed" in started.get_data(as_text=True)
