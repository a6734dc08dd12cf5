"""The pause offer's page over HTTP: what a pause means, one CSRF-protected button that
pauses once, "Update my card instead", and the dead ends (spent, paid, wrong page)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from app.dunning.models import CardUpdateLink
from app.extensions import db

from ..app.dunning.test_end_of_dunning import configure, offered
from ..app.dunning.test_touches import renew
from ..app.recovery.shop import Shop


@pytest.fixture
def pause_link(web, ctx, sandbox_url):
    """A campaign whose pause offer went out; the page's path."""
    shop = Shop(sandbox_url)
    configure(shop, pause_offer_days=30)
    sub = shop.subscribe("pm_card_sandbox_visa_insufficient_funds")
    renew(shop)
    link, message = offered(shop, sub)
    path = re.search(r"http://localhost(/pause-offer/\S+)", message.body_text).group(1)
    return {"shop": shop, "sub": sub, "link": link, "path": path}


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_the_page_says_what_a_pause_means(web, pause_link) -> None:
    response = web.get(pause_link["path"])
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert "Pause your <strong>Studio</strong> subscription for 30 days" in html
    assert "The unpaid $29.00 is forgiven" in html and "picks up again by itself on" in html
    assert "Pause my subscription" in html and "Update my card instead" in html
    assert response.headers["X-Frame-Options"] == "DENY"


def test_pausing_needs_the_forms_csrf_token_and_changes_nothing_without(web, pause_link) -> None:
    response = web.post(pause_link["path"], data={})
    assert response.status_code == 400
    assert db.session.get(CardUpdateLink, pause_link["link"].id).used_at is None
    sub = pause_link["shop"].client.v1.subscriptions.retrieve(pause_link["sub"].id)
    assert sub.pause_collection is None


def test_one_tap_pauses_and_a_second_meets_the_paused_dead_end(web, pause_link) -> None:
    token = csrf_of(web.get(pause_link["path"]).get_data(as_text=True))
    done = web.post(pause_link["path"], data={"csrf_token": token})
    html = done.get_data(as_text=True)
    assert done.status_code == 200, html
    assert "Your subscription is paused" in html and "the unpaid $29.00 is forgiven" in html
    shop, sub = pause_link["shop"], pause_link["sub"]
    assert shop.client.v1.subscriptions.retrieve(sub.id).pause_collection.behavior == "void"
    again = web.post(pause_link["path"], data={"csrf_token": token})
    assert again.status_code == 410
    assert "You paused it with this link" in again.get_data(as_text=True)
    assert shop.campaign(sub.id).state == "abandoned"
    assert web.get(pause_link["path"]).status_code == 410


def test_paid_meanwhile_the_page_says_so_and_does_nothing(web, pause_link) -> None:
    shop = pause_link["shop"]
    campaign = shop.campaign(pause_link["sub"].id)
    shop.client.v1.invoices.pay(campaign.invoice_stripe_id, params={"paid_out_of_band": True})
    page = web.get(pause_link["path"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "You're all paid up" in html
    assert "Pause my subscription" not in html
    assert shop.client.v1.subscriptions.retrieve(pause_link["sub"].id).pause_collection is None


def test_update_my_card_instead_opens_a_card_page(web, pause_link) -> None:
    response = web.get(pause_link["path"] + "/card")
    assert response.status_code == 303
    target = response.headers["Location"]
    assert "/update-card/" in target
    card = (
        db.session.execute(
            select(CardUpdateLink)
            .where(CardUpdateLink.purpose == "dunning")
            .order_by(CardUpdateLink.id.desc())
        )
        .scalars()
        .first()
    )
    assert card.campaign_id == pause_link["link"].campaign_id
    page = web.get(target.replace("http://localhost", ""))
    assert page.status_code == 200 and "Save card and pay $29.00" in page.get_data(as_text=True)


def test_links_open_only_their_own_page(web, pause_link) -> None:
    path = pause_link["path"]
    assert web.get(path.replace("/pause-offer/", "/update-card/")).status_code == 404
    posted = web.post(
        path.replace("/pause-offer/", "/update-card/") + "/complete",
        json={"payment_confirmed": True},
    )
    assert posted.status_code == 404
    assert web.get("/pause-offer/nope").status_code == 404


def test_an_expired_pause_link_is_410(web, pause_link) -> None:
    link = db.session.get(CardUpdateLink, pause_link["link"].id)
    link.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    db.session.commit()
    response = web.get(pause_link["path"])
    assert response.status_code == 410
    assert "This link has expired" in response.get_data(as_text=True)
