"""The cancel flow over HTTP against the sandbox: the embed request, every kind of step,
offers applied on Stripe for real, and "Cancel anyway" from every step."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.retain.models import CancelSession

URL = "/api/embed/cancel"


def start(web, shop, sub) -> str:
    response = web.post(URL, json=shop.signed(sub.customer, sub.id))
    assert response.status_code == 200, response.json
    url = response.json["url"]
    assert re.fullmatch(r"http://localhost/cancel/[\w-]+", url), url
    return url.removeprefix("http://localhost")


def only_session() -> CancelSession:
    db.session.expire_all()
    return db.session.execute(select(CancelSession)).scalar_one()


def test_too_expensive_takes_the_discount_on_stripe(web, cancel_shop) -> None:
    sub = cancel_shop.subscribe("pm_card_visa")
    path = start(web, cancel_shop, sub)
    page = web.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html
    assert "Cancel anyway" in html and "It&#39;s too expensive" in html
    answered = web.post(
        path, data={"action": "answer", "step": "survey", "reason": "too_expensive"}
    )
    assert answered.status_code == 303
    offer = web.get(path).get_data(as_text=True)
    assert "25 % off for 3 months" in offer and "You save 21.75 USD" in offer, offer
    accepted = web.post(path, data={"action": "accept", "step": "offer_discount"})
    assert accepted.status_code == 303
    done = web.get(path).get_data(as_text=True)
    assert 'data-state="saved"' in done
    stripe_sub = cancel_shop.client.v1.subscriptions.retrieve(sub.id)
    assert [
        d.coupon.id if hasattr(d, "coupon") else d for d in stripe_sub.discounts
    ] or stripe_sub.discounts
    cs = only_session()
    assert (cs.outcome, cs.reason_key, cs.offer_step) == (
        "saved",
        "too_expensive",
        "offer_discount",
    )
    # A second accept (a double submit) changes nothing.
    again = web.post(path, data={"action": "accept", "step": "offer_discount"})
    assert again.status_code == 303


def test_cancel_anyway_from_the_first_step_ends_at_period_end(web, cancel_shop) -> None:
    sub = cancel_shop.subscribe("pm_card_visa")
    path = start(web, cancel_shop, sub)
    web.get(path)
    response = web.post(path, data={"action": "cancel"})
    assert response.status_code == 303
    done = web.get(path).get_data(as_text=True)
    assert 'data-state="cancelled"' in done, done
    stripe_sub = cancel_shop.client.v1.subscriptions.retrieve(sub.id)
    assert stripe_sub.cancel_at_period_end is True
    cs = only_session()
    assert cs.outcome == "cancelled" and cs.cancelled_by == "flow" and cs.ends_at is not None
