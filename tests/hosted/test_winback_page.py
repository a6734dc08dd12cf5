"""The win-back landing page over HTTP: the one-tap form, the tap itself (works without
JavaScript), a used or expired link with a fresh-link option, and bad input refused
without changing anything (the browser flow is in tests/e2e)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.outbox.models import OutboxMessage
from app.winback.models import WinbackCampaign, WinbackLink

from ..app.recovery.shop import Shop


@pytest.fixture
def ended(web, ctx, sandbox_url):
    """A cancelled customer whose first win-back email went out; the link's path."""
    shop = Shop(sandbox_url)
    sub = shop.subscribe("pm_card_visa")
    shop.catch_up()
    shop.client.v1.subscriptions.cancel(sub.id)
    shop.advance(days=15)
    body = db.session.execute(
        select(OutboxMessage.body_text).where(OutboxMessage.template == "winback")
    ).scalar_one()
    path = re.search(r"http://localhost(/come-back/\S+)", body).group(1)
    return {"shop": shop, "sub": sub, "path": path}


def live(shop: Shop, customer: str) -> list:
    subs = shop.client.v1.subscriptions.list(params={"customer": customer, "status": "all"}).data
    return [s for s in subs if s.status == "active"]


def test_the_page_offers_one_tap_with_the_card_on_file(web, ended) -> None:
    response = web.get(ended["path"])
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Come back to" in html and "Studio" in html and "$29.00" in html
    assert "Restart with Visa ending in 4242" in html
    assert "clientSecret" not in html  # no card form until one is wanted
    with_card = web.get(ended["path"] + "?card=new").get_data(as_text=True)
    assert '"clientSecret": "seti_' in with_card
    db.session.expire_all()
    assert db.session.execute(select(WinbackCampaign.clicked_at)).scalar_one() is not None


def test_the_tap_brings_the_customer_back_once(web, ended) -> None:
    shop, sub = ended["shop"], ended["sub"]
    first = web.post(ended["path"])
    assert first.status_code == 200 and "Welcome back!" in first.get_data(as_text=True)
    again = web.post(ended["path"])
    assert again.status_code == 410 and "Email me a new link" in again.get_data(as_text=True)
    assert len(live(shop, sub.customer)) == 1
    shop.catch_up()
    db.session.expire_all()
    campaign = db.session.execute(select(WinbackCampaign)).scalar_one()
    assert (campaign.state, campaign.won_via) == ("won", "link")


def test_a_used_link_offers_a_fresh_one_by_email(web, ended) -> None:
    web.post(ended["path"])
    page = web.get(ended["path"])
    assert page.status_code == 410
    fresh = web.post(ended["path"] + "/fresh")
    assert fresh.status_code == 200 and "Check your inbox" in fresh.get_data(as_text=True)
    db.session.expire_all()
    assert (
        db.session.execute(select(WinbackLink.purpose).order_by(WinbackLink.id)).scalars().all()[-1]
        == "fresh"
    )


def test_an_expired_link_says_so(web, ended) -> None:
    db.session.execute(
        WinbackLink.__table__.update().values(
            expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        )
    )
    db.session.commit()
    response = web.get(ended["path"])
    assert response.status_code == 410 and "This link has expired" in response.get_data(
        as_text=True
    )


def test_bad_input_is_refused_and_changes_nothing(web, ended) -> None:
    assert web.get("/come-back/nope").status_code == 404
    assert web.post("/come-back/nope").status_code == 404
    complete = ended["path"] + "/complete"
    assert web.post(complete, data="x", content_type="text/plain").status_code == 400
    assert web.post(complete, json={"setup_intent": "pi_1"}).status_code == 400
    assert web.post(complete, json={}).status_code == 400
    assert live(ended["shop"], ended["sub"].customer) == []
