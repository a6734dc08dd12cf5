"""The cancel flow over HTTP against the sandbox: the embed request, every kind of step,
offers applied on Stripe for real, and "Cancel anyway" from every step."""

from __future__ import annotations

import copy
import datetime as dt
import re
import time

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import utcnow
from app.retain import drafts, flows
from app.retain.models import CancelSession, OutsideCancel
from workers.sweeper import sweep_once

URL = "/api/embed/cancel"


def start(web, shop, sub) -> str:
    response = web.post(URL, json=shop.signed(sub.customer, sub.id))
    assert response.status_code == 200, response.json
    url = response.json["url"]
    assert re.fullmatch(r"http://localhost/cancel/[\w-]+", url), url
    return url.removeprefix("http://localhost")


def sessions_count() -> int:
    return db.session.execute(select(func.count()).select_from(CancelSession)).scalar_one()


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
    assert "25% off for 3 months" in offer and "You save $21.75" in offer, offer
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


# -- the embed request ---------------------------------------------------------------------------


def test_a_forged_or_stale_signature_is_401_and_opens_nothing(web, cancel_shop) -> None:
    sub = cancel_shop.subscribe("pm_card_visa")
    forged = cancel_shop.signed(sub.customer, sub.id)
    forged["signature"] = "0" * 64
    assert web.post(URL, json=forged).status_code == 401
    stale = cancel_shop.signed(sub.customer, sub.id, at=int(time.time()) - 301)
    assert web.post(URL, json=stale).status_code == 401
    # A signature for another subscription does not open this one.
    other = cancel_shop.signed(sub.customer, "sub_other")
    other["subscription"] = sub.id
    assert web.post(URL, json=other).status_code == 401
    assert sessions_count() == 0


def test_unsigned_requests_follow_the_workspace_switch(web, cancel_shop) -> None:
    sub = cancel_shop.subscribe("pm_card_visa")
    body = {
        "workspace": cancel_shop.workspace.slug,
        "customer": sub.customer,
        "subscription": sub.id,
    }
    cancel_shop.workspace.is_embed_signature_required = True
    db.session.commit()
    assert web.post(URL, json=body).status_code == 401
    cancel_shop.workspace.is_embed_signature_required = False
    db.session.commit()
    assert web.post(URL, json=body).status_code == 200


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"customer": "cus_nobody"}, 401),
        ({"workspace": "no-such-shop"}, 404),
        ({"subscription": 12}, 400),
        ({"return_url": "https://evil.example/"}, 400),
    ],
)
def test_bad_requests_are_refused(web, cancel_shop, change, status) -> None:
    sub = cancel_shop.subscribe("pm_card_visa")
    body = {**cancel_shop.signed(sub.customer, sub.id), **change}
    response = web.post(URL, json=body)
    assert response.status_code == status, response.json
    assert response.json["error"]
    assert sessions_count() == 0


def test_an_unknown_subscription_or_another_customers_is_404(web, cancel_shop) -> None:
    sub = cancel_shop.subscribe("pm_card_visa")
    other = cancel_shop.subscribe("pm_card_visa")
    assert web.post(URL, json=cancel_shop.signed(sub.customer, "sub_missing")).status_code == 404
    assert web.post(URL, json=cancel_shop.signed(sub.customer, other.id)).status_code == 404


def test_no_published_flow_is_404(web, cancel_shop) -> None:
    sub = cancel_shop.subscribe("pm_card_visa")
    flows.archive(db.session, cancel_shop.flow, actor_id=None, actor_label="t", now=utcnow())
    db.session.commit()
    response = web.post(URL, json=cancel_shop.signed(sub.customer, sub.id))
    assert response.status_code == 404 and response.json["error"] == "no published cancel flow"


def test_a_replayed_request_reopens_the_same_session_until_it_is_decided(web, cancel_shop) -> None:
    sub = cancel_shop.subscribe("pm_card_visa")
    body = cancel_shop.signed(sub.customer, sub.id)
    first = web.post(URL, json=body).json["url"]
    second = web.post(URL, json=body).json["url"]
    assert first != second and sessions_count() == 1
    # The older link stops working; the newer one carries on.
    assert web.get(first.removeprefix("http://localhost")).status_code == 404
    path = second.removeprefix("http://localhost")
    web.post(path, data={"action": "cancel"})
    replay = web.post(URL, json=body)
    assert replay.status_code == 410


def test_a_return_url_on_the_merchants_site_is_where_the_customer_ends(web, cancel_shop) -> None:
    cancel_shop.workspace.website_url = "https://shop.example"
    db.session.commit()
    sub = cancel_shop.subscribe("pm_card_visa")
    response = web.post(
        URL,
        json=cancel_shop.signed(sub.customer, sub.id, return_url="https://shop.example/account"),
    )
    path = response.json["url"].removeprefix("http://localhost")
    web.post(path, data={"action": "cancel"})
    html = web.get(path).get_data(as_text=True)
    assert 'href="https://shop.example/account?backstop_outcome=cancelled"' in html


def test_the_hosted_redirect_opens_the_flow_from_a_form(web, cancel_shop) -> None:
    sub = cancel_shop.subscribe("pm_card_visa")
    body = cancel_shop.signed(sub.customer, sub.id)
    response = web.post("/cancel/start", data={k: str(v) for k, v in body.items()})
    assert response.status_code == 303
    assert re.match(r"http://localhost/cancel/[\w-]+$", response.headers["Location"])
    forged = {**{k: str(v) for k, v in body.items()}, "signature": "f" * 64}
    refused = web.post("/cancel/start", data=forged)
    assert refused.status_code == 401 and "link isn&#39;t valid" in refused.get_data(as_text=True)


# -- the pages -----------------------------------------------------------------------------------


def test_the_page_opens_in_a_frame_and_never_caches_a_decision(web, cancel_shop) -> None:
    sub = cancel_shop.subscribe("pm_card_visa")
    path = start(web, cancel_shop, sub)
    response = web.get(path + "?embed=modal")
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in response.headers
    html = response.get_data(as_text=True)
    assert 'id="close"' in html and "frame.js" in html


def test_unknown_and_expired_links_are_dead_ends(web, cancel_shop) -> None:
    assert web.get("/cancel/nope").status_code == 404
    sub = cancel_shop.subscribe("pm_card_visa")
    path = start(web, cancel_shop, sub)
    cs = only_session()
    cs.expires_at = utcnow() - dt.timedelta(seconds=1)
    db.session.commit()
    response = web.get(path)
    assert response.status_code == 410 and "This cancel link has expired" in response.get_data(
        as_text=True
    )
    assert web.post(path, data={"action": "cancel"}).status_code == 303
    assert cancel_shop.client.v1.subscriptions.retrieve(sub.id).cancel_at_period_end is False


def test_bad_actions_are_400_and_out_of_date_pages_change_nothing(web, cancel_shop) -> None:
    sub = cancel_shop.subscribe("pm_card_visa")
    path = start(web, cancel_shop, sub)
    web.get(path)
    assert web.post(path, data={"action": "explode"}).status_code == 400
    stale = web.post(path, data={"action": "accept", "step": "offer_discount"})
    assert stale.status_code == 400 and "out of date" in stale.get_data(as_text=True)
    unknown = web.post(path, data={"action": "answer", "step": "survey", "reason": "bored"})
    assert unknown.status_code == 400
    cs = only_session()
    assert cs.outcome is None and cs.current_step == "survey"


def test_a_customer_mid_session_keeps_the_version_they_started(web, cancel_shop) -> None:
    sub = cancel_shop.subscribe("pm_card_visa")
    path = start(web, cancel_shop, sub)
    flow = cancel_shop.flow
    draft = copy.deepcopy(flow.draft)
    draft["steps"][0]["title"] = "A brand new question"
    flows.save_draft(db.session, flow, draft)
    flows.publish(db.session, flow, actor_id=None, actor_label="t")
    db.session.commit()
    html = web.get(path).get_data(as_text=True)
    assert "A brand new question" not in html and "main reason" in html


def test_every_step_of_the_template_cancels_in_one_tap(web, cancel_shop) -> None:
    """From each step a customer can reach, "Cancel anyway" ends the subscription."""
    definition = cancel_shop.flow.draft
    routes = {"survey": [], "feedback": [("skip", "survey", None)], "confirm": []}
    for step in definition["steps"]:
        if step["kind"] == "offer":
            reason = next(
                r["key"] for r in definition["steps"][0]["reasons"] if r["next"] == step["id"]
            )
            routes[step["id"]] = [("answer", "survey", reason)]
    routes["confirm"] = [("skip", "survey", None), ("feedback", "feedback", None)]
    for target, walk in routes.items():
        sub = cancel_shop.subscribe("pm_card_visa")
        path = start(web, cancel_shop, sub)
        web.get(path)
        for action, step_id, reason in walk:
            data = {"action": action, "step": step_id, "reason": reason or "", "feedback": ""}
            assert web.post(path, data=data).status_code == 303
            web.get(path)
        page = web.get(path).get_data(as_text=True)
        assert (f'value="{target}"' in page) or target == "confirm"
        assert web.post(path, data={"action": "cancel"}).status_code == 303
        stripe_sub = cancel_shop.client.v1.subscriptions.retrieve(sub.id)
        assert stripe_sub.cancel_at_period_end is True, target


def test_cancelling_at_once_when_the_workspace_says_so(web, cancel_shop) -> None:
    settings = flows.settings_of(db.session, cancel_shop.workspace.id)
    settings.cancel_mode = "immediately"
    db.session.commit()
    sub = cancel_shop.subscribe("pm_card_visa")
    path = start(web, cancel_shop, sub)
    web.post(path, data={"action": "cancel"})
    assert cancel_shop.client.v1.subscriptions.retrieve(sub.id).status == "canceled"
    assert only_session().outcome == "cancelled"


# -- outside cancels, abandonment and the 30-day check -------------------------------------------


def test_a_cancel_in_stripe_ends_the_open_session_as_not_ours(web, cancel_shop) -> None:
    sub = cancel_shop.subscribe("pm_card_visa")
    start(web, cancel_shop, sub)
    cancel_shop.client.v1.subscriptions.cancel(sub.id)
    cancel_shop.catch_up()
    cs = only_session()
    assert (cs.outcome, cs.cancelled_by) == ("cancelled", "outside")
    [outside] = db.session.execute(select(OutsideCancel)).scalars().all()
    assert outside.subscription_stripe_id == sub.id and outside.mrr_minor == 2900


def test_our_own_cancel_is_never_counted_as_outside(web, cancel_shop) -> None:
    sub = cancel_shop.subscribe("pm_card_visa")
    path = start(web, cancel_shop, sub)
    web.post(path, data={"action": "cancel"})
    cancel_shop.catch_up()
    assert only_session().cancelled_by == "flow"
    assert db.session.execute(select(OutsideCancel)).first() is None


def test_an_undecided_session_is_abandoned_when_its_link_runs_out(web, cancel_shop) -> None:
    sub = cancel_shop.subscribe("pm_card_visa")
    start(web, cancel_shop, sub)
    assert sweep_once(utcnow() + dt.timedelta(hours=23)) == 0
    assert sweep_once(utcnow() + dt.timedelta(hours=24, seconds=1)) == 1
    assert only_session().outcome == "abandoned"


def test_a_save_is_checked_against_stripe_30_days_on(web, cancel_shop) -> None:
    sub = cancel_shop.subscribe("pm_card_visa")
    path = start(web, cancel_shop, sub)
    web.post(path, data={"action": "answer", "step": "survey", "reason": "too_expensive"})
    web.post(path, data={"action": "accept", "step": "offer_discount"})
    cancel_shop.advance(days=29)
    assert only_session().still_paying is None
    cancel_shop.advance(days=2)
    cs = only_session()
    assert cs.still_paying is True and cs.checked_at is not None


# -- a plan switch: Stripe's preview first, then the switch; a refused offer ----------------


def switch_flow(shop, price: str) -> None:
    flow = flows.create_from_template(
        db.session,
        shop.workspace.id,
        "downgrade_first",
        actor_id=None,
        actor_label="t",
        support_email=None,
    )
    step = copy.deepcopy(next(s for s in flow.draft["steps"] if s["id"] == "offer_downgrade"))
    step["offer"]["price"] = price
    drafts.update_step(db.session, flow, step)
    flows.publish(db.session, flow, actor_id=None, actor_label="t")
    flows.set_targeting(db.session, flow, is_default=True, price_ids=[], share_percent=100)
    db.session.commit()


def test_a_plan_switch_shows_stripes_preview_then_switches(web, cancel_shop) -> None:
    lite = cancel_shop.client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 1900,
            "recurring": {"interval": "month"},
            "product_data": {"name": "Studio Lite"},
        }
    ).id
    switch_flow(cancel_shop, lite)
    sub = cancel_shop.subscribe("pm_card_visa")
    cancel_shop.advance(days=10)
    path = start(web, cancel_shop, sub)
    web.get(path)
    web.post(path, data={"action": "answer", "step": "survey", "reason": "too_expensive"})
    page = web.get(path).get_data(as_text=True)
    assert "Switch to Studio Lite" in page and "$19.00 / month" in page
    assert "Adjustment for the rest of this period: -" in page, page
    assert "You save $10.00" in page
    web.post(path, data={"action": "accept", "step": "offer_downgrade"})
    switched = cancel_shop.client.v1.subscriptions.retrieve(sub.id)
    assert switched["items"]["data"][0]["price"]["id"] == lite
    assert only_session().outcome == "saved"


def test_an_offer_stripe_refuses_changes_nothing_and_cancel_still_works(web, cancel_shop) -> None:
    switch_flow(cancel_shop, "price_gone")
    sub = cancel_shop.subscribe("pm_card_visa")
    path = start(web, cancel_shop, sub)
    web.get(path)
    web.post(path, data={"action": "answer", "step": "survey", "reason": "too_expensive"})
    page = web.get(path).get_data(as_text=True)
    assert "This plan can&#39;t be offered right now." in page and "Cancel anyway" in page
    refused = web.post(path, data={"action": "accept", "step": "offer_downgrade"})
    assert refused.status_code == 409
    assert "Nothing has changed; you can still cancel" in refused.get_data(as_text=True)
    cs = only_session()
    assert cs.outcome is None and cs.offer_error
    unchanged = cancel_shop.client.v1.subscriptions.retrieve(sub.id)
    assert unchanged["items"]["data"][0]["price"]["id"] == cancel_shop.price
    web.post(path, data={"action": "cancel"})
    assert cancel_shop.client.v1.subscriptions.retrieve(sub.id).cancel_at_period_end is True


def test_stripe_unreachable_is_503_and_opens_nothing(web, cancel_shop, app) -> None:
    sub = cancel_shop.subscribe("pm_card_visa")
    settings = app.config["BACKSTOP"]
    real = settings.stripe_api_base
    object.__setattr__(settings, "stripe_api_base", "http://127.0.0.1:9")
    try:
        response = web.post(URL, json=cancel_shop.signed(sub.customer, sub.id))
    finally:
        object.__setattr__(settings, "stripe_api_base", real)
    assert response.status_code == 503 and "Stripe could not be reached" in response.json["error"]
    assert sessions_count() == 0
