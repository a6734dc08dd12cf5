"""Settings → Win back over HTTP: the form saves through the service or is refused whole
(400, every error, nothing stored); viewers only read; the preview renders a touch on
sample data; a test send goes to the signed-in member through the outbox."""

from __future__ import annotations

from html import unescape

import pytest
from sqlalchemy import select

from app.extensions import db
from app.outbox.models import OutboxMessage
from app.stripe import subscriptions as stripe_subs
from app.stripe.client import StripeError
from app.winback.models import WinbackSettings

from .. import factories as f
from ..forms import csrf_token, submit

FORM = {
    "is_enabled": "1",
    "includes_involuntary": "1",
    "delay_1": "10",
    "delay_2": "7",
    "delay_3": "",
    "offer_percent": "",
    "offer_months": "",
    "offer_to": "too_expensive",
    "price_id": "",
    "attribution_days": "30",
}
PRICES = [
    stripe_subs.PriceFacts("price_pro", "Pro", 4900, "usd", "month", 1),
    stripe_subs.PriceFacts("price_pro_year", "Pro yearly", 49000, "usd", "year", 1),
]


@pytest.fixture
def shop(web, ctx):
    owner = f.user("owner@winback.example")
    ws = f.workspace(owner, "Comeback Co")
    viewer = f.member(ws, "viewer", "viewer@winback.example")
    db.session.commit()
    f.login(web, owner)
    return {"ws": ws, "owner": owner, "viewer": viewer}


@pytest.fixture
def prices(monkeypatch, shop):
    f.connection(shop["ws"])
    db.session.commit()
    monkeypatch.setattr(stripe_subs, "list_prices", lambda connection, **kw: PRICES)


def stored(ws) -> WinbackSettings | None:
    db.session.expire_all()
    return db.session.execute(
        select(WinbackSettings).where(WinbackSettings.workspace_id == ws.id)
    ).scalar_one_or_none()


def page(web) -> str:
    response = web.get("/settings/winback")
    assert response.status_code == 200
    return unescape(response.get_data(as_text=True))


def test_the_page_shows_the_defaults(web, shop) -> None:
    html = page(web)
    assert 'name="delay_1" value="14"' in html
    assert 'name="delay_2" value="14"' in html
    assert 'name="attribution_days" value="30"' in html
    # Every email and reason has its fields, with Backstop's copy as the placeholder.
    assert 'name="copy-3-payment_failed-message"' in html
    assert 'placeholder="A better price to come back to {merchant}"' in html
    assert "Payment failed (involuntary)" in html
    assert "Save win-back settings" in html
    assert "Connect Stripe to choose a price" in html
    assert stored(shop["ws"]) is None  # a GET never writes


def test_valid_settings_are_saved(web, shop, prices) -> None:
    data = {
        **FORM,
        "includes_involuntary": "",
        "delay_3": "20",
        "copy-2-switched-subject": "Still with them, {name}?",
        "copy-1-payment_failed-message": "Your card let you down, {name}.",
        "offer_percent": "25",
        "offer_months": "3",
        "offer_to": "everyone",
        "price_id": "price_pro_year",
        "attribution_days": "21",
    }
    response = submit(web, "/settings/winback", data)
    assert response.status_code == 302
    row = stored(shop["ws"])
    assert row.is_enabled and not row.includes_involuntary
    assert row.delays == [10, 7, 20]
    assert row.copy == {
        "2": {"switched": {"subject": "Still with them, {name}?", "message": ""}},
        "1": {"payment_failed": {"subject": "", "message": "Your card let you down, {name}."}},
    }
    assert (row.offer_percent, row.offer_months, row.offer_to) == (25, 3, "everyone")
    assert row.price_stripe_id == "price_pro_year"
    assert row.attribution_days == 21
    html = page(web)
    assert 'value="Still with them, {name}?"' in html
    assert '<option value="price_pro_year" selected>' in html


def test_bad_settings_are_refused_with_every_error_and_nothing_changes(web, shop) -> None:
    data = {
        **FORM,
        "delay_1": "200",
        "delay_2": "",
        "delay_3": "5",
        "offer_percent": "95",
        "attribution_days": "a month",
        "copy-1-other-subject": "Hello {nickname}",
    }
    response = submit(web, "/settings/winback", data)
    assert response.status_code == 400
    html = unescape(response.get_data(as_text=True))
    assert "Nothing was saved" in html
    assert "The third win-back email needs the ones before it" in html
    assert "The attribution window must be a whole number" in html
    assert "The first win-back email goes 0 to 90 days after" in html
    assert "An offer needs both a percentage and a number of months" in html
    assert "The offer is 5 to 90 percent off" in html
    assert "{nickname}" in html
    assert 'name="delay_1" value="200"' in html  # what they typed, to fix
    assert stored(shop["ws"]) is None


def test_a_meaning_error_alone_is_refused_by_the_service(web, shop) -> None:
    response = submit(web, "/settings/winback", {**FORM, "offer_months": "2"})
    assert response.status_code == 400
    assert "An offer needs both a percentage" in unescape(response.get_data(as_text=True))
    assert stored(shop["ws"]) is None


def test_a_price_not_in_the_workspace_is_refused(web, shop, prices) -> None:
    response = submit(web, "/settings/winback", {**FORM, "price_id": "price_elsewhere"})
    assert response.status_code == 400
    assert "Choose one of your Stripe prices" in unescape(response.get_data(as_text=True))
    assert stored(shop["ws"]) is None


def test_stripe_out_of_reach_keeps_the_page_and_the_stored_price(web, shop, monkeypatch) -> None:
    f.connection(shop["ws"])
    db.session.commit()
    monkeypatch.setattr(stripe_subs, "list_prices", lambda connection, **kw: PRICES)
    assert submit(web, "/settings/winback", {**FORM, "price_id": "price_pro"}).status_code == 302

    def unreachable(connection, **kw):
        raise StripeError("down")

    monkeypatch.setattr(stripe_subs, "list_prices", unreachable)
    html = page(web)
    assert "Stripe could not be reached" in html
    assert '<input type="hidden" name="price_id" value="price_pro">' in html
    assert submit(web, "/settings/winback", {**FORM, "price_id": "price_pro"}).status_code == 302
    assert stored(shop["ws"]).price_stripe_id == "price_pro"
    refused = submit(web, "/settings/winback", {**FORM, "price_id": "price_other"})
    assert refused.status_code == 400
    assert stored(shop["ws"]).price_stripe_id == "price_pro"


def test_a_viewer_sees_the_page_read_only_and_cannot_save(web, shop) -> None:
    f.login(web, shop["viewer"])
    html = page(web)
    assert "Only owners and admins can change these." in html
    assert "Save win-back settings" not in html and "Send me a test" not in html
    token = csrf_token(web, "/settings/winback")
    response = web.post("/settings/winback", data={**FORM, "csrf_token": token})
    assert response.status_code == 403
    test = web.post(
        "/settings/winback/test",
        json={"touch": 1, "reason": "other"},
        headers={"X-CSRFToken": token},
    )
    assert test.status_code == 403
    assert stored(shop["ws"]) is None
    assert db.session.execute(select(OutboxMessage)).first() is None


def preview(web, body):
    token = csrf_token(web, "/settings/winback")
    return web.post("/settings/winback/preview", json=body, headers={"X-CSRFToken": token})


def test_the_preview_renders_unsaved_copy_and_offer_on_sample_data(web, shop) -> None:
    response = preview(
        web,
        {
            "touch": 1,
            "count": 2,
            "reason": "too_expensive",
            "subject": "{name}, {plan} for less",
            "message": "Hello {name} from {merchant}: {plan} was {price}.",
            "offer_percent": "20",
            "offer_months": "2",
            "offer_to": "too_expensive",
        },
    )
    assert response.status_code == 200
    assert response.json["subject"] == "Jordan, Pro for less"
    html = unescape(response.json["html"])
    assert "Hello Jordan from Comeback Co: Pro was $49.00 a month." in response.json["text"]
    assert "20% off for 2 months" in html
    assert response.json["warnings"] == []
    assert stored(shop["ws"]) is None


def test_the_preview_uses_our_copy_when_blank_and_warns_of_bad_placeholders(web, shop) -> None:
    last = preview(web, {"touch": 3, "count": 3, "reason": "not_using"})
    assert last.json["subject"] == "Last chance to restart Pro at Comeback Co"
    failed = preview(web, {"touch": 1, "reason": "payment_failed", "offer_percent": "10"})
    assert failed.json["subject"] == ("Your Comeback Co subscription ended: restart it in one tap")
    assert "% off" not in failed.json["html"]  # no offer without months
    warned = preview(web, {"touch": 2, "reason": "other", "message": "Hi {nickname}"})
    assert warned.status_code == 200
    assert "unknown placeholder {nickname}" in " ".join(warned.json["warnings"])


@pytest.mark.parametrize(
    "body",
    [
        [],
        {},
        {"touch": 4, "reason": "other"},
        {"touch": "1", "reason": "other"},
        {"touch": 2, "count": 1, "reason": "other"},
        {"touch": 1, "reason": "bored"},
        {"touch": 1, "reason": "other", "subject": 5},
        {"touch": 1, "reason": "other", "offer_to": "friends"},
        {"touch": 1, "reason": "other", "offer_percent": "lots"},
    ],
)
def test_a_bad_preview_request_is_a_400(web, shop, body) -> None:
    response = preview(web, body)
    assert response.status_code == 400
    assert response.json["error"]


def test_a_test_send_emails_the_preview_to_the_member_marked_as_a_test(web, shop) -> None:
    token = csrf_token(web, "/settings/winback")
    response = web.post(
        "/settings/winback/test",
        json={"touch": 1, "reason": "switched", "subject": "Come back, {name}"},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200
    assert response.json["sent_to"] == "owner@winback.example"
    db.session.expire_all()
    messages = db.session.execute(select(OutboxMessage)).scalars().all()
    assert len(messages) == 1
    message = messages[0]
    assert message.to_email == "owner@winback.example"
    assert message.subject == "[Test] Come back, Jordan"
    assert message.template == "winback"
    assert message.workspace_id == shop["ws"].id
    assert message.customer_stripe_id is None and message.step_id is None
    assert "Pro" in message.body_text
    assert stored(shop["ws"]) is None  # the form's copy is not saved by a test


def test_a_test_send_with_bad_copy_sends_nothing(web, shop) -> None:
    token = csrf_token(web, "/settings/winback")
    for body in ({"touch": 9}, {"touch": 1, "reason": "other", "subject": "Hi {nickname}"}):
        response = web.post("/settings/winback/test", json=body, headers={"X-CSRFToken": token})
        assert response.status_code == 400
    assert db.session.execute(select(OutboxMessage)).first() is None
