"""Every hosted dead end over HTTP: Backstop's own 404 when no merchant is known, else
the merchant's brand and support address with the right status, a fresh link where one
makes sense (rate limited), JSON for the page's own calls, and nothing changed."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from sqlalchemy import func, select

from app.dunning import config as dunning_config
from app.dunning import links
from app.dunning.models import CardUpdateLink
from app.extensions import db
from app.models import utcnow
from app.outbox.models import OutboxMessage
from app.outbox.services import unsubscribe_token

from ..app import factories as f
from ..app.recovery.test_operations import open_campaign

SUPPORT = "help@acme.example"


@pytest.fixture
def shop(ctx):
    ws = f.workspace(name="Acme Yoga")
    ws.logo_url = "https://cdn.acme.example/logo.png"
    ws.website_url = "https://acme.example/account"
    dunning_config.settings_for(db.session, ws.id).reply_to = SUPPORT
    db.session.commit()
    return ws


def issue(ws, *, campaign=None, purpose="dunning", email="ada@example.com", **state):
    """A link's token; ``state`` sets ``expired``, ``used_at`` or ``outcome``."""
    link, token = links.issue(
        db.session,
        ws.id,
        purpose=purpose,
        customer_id=campaign.customer_stripe_id if campaign else "cus_none",
        email=email,
        campaign_id=campaign.id if campaign else None,
        invoice_id=campaign.invoice_stripe_id if campaign else None,
        now=utcnow() - dt.timedelta(days=1),
    )
    if state.pop("expired", False):
        link.expires_at = utcnow() - dt.timedelta(minutes=1)
    for key, value in state.items():
        setattr(link, key, value)
    db.session.commit()
    return token


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


# -- no merchant known: Backstop's own page --------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/update-card/nope"),
        ("GET", "/wall/nope"),
        ("POST", "/update-card/nope/fresh"),
        ("POST", "/update-card/nope/pause"),
        ("GET", "/unsubscribe/nope"),
        ("POST", "/unsubscribe/nope"),
        ("GET", "/update-card/" + "x" * 200),
    ],
)
def test_an_unknown_link_gets_backstops_own_404(web, shop, method, path) -> None:
    response = web.open(path, method=method)
    page = text(response)
    assert response.status_code == 404
    assert "We couldn't find this link" in page and "Backstop" in page
    assert "Acme Yoga" not in page and SUPPORT not in page
    assert "Content-Security-Policy" in response.headers
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_an_unsubscribe_link_of_a_workspace_gone_is_backstops_404(web, shop) -> None:
    response = web.get("/unsubscribe/" + unsubscribe_token(shop.id + 1000, "ada@example.com"))
    assert response.status_code == 404 and "We couldn't find this link" in text(response)


def test_the_pages_own_call_gets_json(web, shop) -> None:
    response = web.post("/update-card/nope/complete", json={"payment_confirmed": True})
    assert response.status_code == 404 and response.is_json
    assert response.json["state"] == "unknown" and response.json["message"]


# -- spent links of an open campaign: a fresh link, rate limited -----------------------------------


def test_an_expired_link_shows_the_merchant_and_offers_a_fresh_link(web, shop) -> None:
    token = issue(shop, campaign=open_campaign(shop), expired=True)
    response = web.get(f"/update-card/{token}")
    page = text(response)
    assert response.status_code == 410
    assert "This link has expired" in page and "Email me a new link" in page
    assert 'src="https://cdn.acme.example/logo.png"' in page and 'alt="Acme Yoga"' in page
    assert f'href="mailto:{SUPPORT}"' in page
    assert "Back to Acme Yoga" not in page  # only once the customer is done
    link = db.session.execute(select(CardUpdateLink)).scalar_one()
    assert link.opened_at is None  # a dead end changes nothing


def test_a_fresh_link_is_emailed_a_few_times_an_hour_then_refused(web, shop) -> None:
    campaign = open_campaign(shop)
    token = issue(shop, campaign=campaign, used_at=utcnow(), outcome="updated")
    page = text(web.get(f"/update-card/{token}"))
    assert "This link has already been used" in page and "Email me a new link" in page
    for _ in range(3):
        sent = web.post(f"/update-card/{token}/fresh")
        assert sent.status_code == 200 and "Check your inbox" in text(sent)
    refused = web.post(f"/update-card/{token}/fresh")
    assert refused.status_code == 429
    assert "several links in the last hour" in text(refused) and SUPPORT in text(refused)
    assert count(CardUpdateLink) == 4  # the spent one and three fresh ones
    mail = db.session.execute(select(OutboxMessage.to_email, OutboxMessage.template)).all()
    assert mail == [("ada@example.com", "card_update_link")] * 3


def test_no_address_on_file_offers_the_support_address_instead(web, shop) -> None:
    token = issue(shop, campaign=open_campaign(shop), email=None, expired=True)
    page = text(web.get(f"/update-card/{token}"))
    assert "Email me a new link" not in page and SUPPORT in page
    refused = web.post(f"/update-card/{token}/fresh")
    assert refused.status_code == 409 and "no email address on file" in text(refused)
    assert count(OutboxMessage) == 0


def test_a_card_expiry_notices_link_about_no_campaign_gets_a_fresh_one(web, shop) -> None:
    token = issue(shop, purpose="expiry", expired=True)
    response = web.get(f"/update-card/{token}")
    assert response.status_code == 410 and "Email me a new link" in text(response)
    assert web.post(f"/update-card/{token}/fresh").status_code == 200


# -- campaigns that are over -----------------------------------------------------------------------


def test_a_spent_link_of_a_paid_campaign_says_all_paid_up_and_links_back(web, shop) -> None:
    token = issue(shop, campaign=open_campaign(shop), used_at=utcnow(), outcome="paid")
    response = web.get(f"/update-card/{token}")
    page = text(response)
    assert response.status_code == 410 and "You're all paid up" in page
    assert '<a href="https://acme.example/account">Back to Acme Yoga</a>' in page
    assert "Email me a new link" not in page
    refused = web.post(f"/update-card/{token}/fresh")
    assert refused.status_code == 410 and count(OutboxMessage) == 0


def test_an_expired_link_of_a_recovered_campaign_is_paid_up_too(web, shop) -> None:
    token = issue(shop, campaign=open_campaign(shop, state="recovered"), expired=True)
    response = web.get(f"/update-card/{token}")
    assert response.status_code == 410 and "You're all paid up" in text(response)


@pytest.mark.parametrize("state", ["lost", "abandoned"])
def test_a_spent_link_of_a_closed_campaign_is_409_with_the_support_address(
    web, shop, state
) -> None:
    token = issue(shop, campaign=open_campaign(shop, state=state), expired=True)
    response = web.get(f"/update-card/{token}")
    page = text(response)
    assert response.status_code == 409 and "This payment request is closed" in page
    assert SUPPORT in page and "Email me a new link" not in page
    refused = web.post(f"/update-card/{token}/fresh")
    assert refused.status_code == 409 and count(CardUpdateLink) == 1


def test_a_link_spent_on_a_pause_says_so(web, shop) -> None:
    campaign = open_campaign(shop, state="abandoned")
    token = issue(shop, campaign=campaign, used_at=utcnow(), outcome="paused")
    response = web.get(f"/update-card/{token}")
    assert response.status_code == 410 and "Your subscription is paused" in text(response)


def test_no_support_address_set_says_to_contact_the_merchant(web, ctx) -> None:
    ws = f.workspace(name="Quiet Shop")
    db.session.commit()
    token = issue(ws, campaign=open_campaign(ws, state="lost"), expired=True)
    page = text(web.get(f"/update-card/{token}"))
    assert "Contact Quiet Shop directly" in page and "mailto:" not in page
    assert "Back to" not in page


# -- the wall and the pause ------------------------------------------------------------------------


def test_a_card_link_opened_as_the_wall_is_the_merchants_404(web, shop) -> None:
    token = issue(shop, campaign=open_campaign(shop))
    response = web.get(f"/wall/{token}")
    assert response.status_code == 404 and "Acme Yoga" in text(response)
    assert "This page isn't available" in text(response)


def test_an_expired_wall_in_the_merchants_frame_can_be_closed(web, shop) -> None:
    token = issue(shop, campaign=open_campaign(shop), purpose="wall", expired=True)
    response = web.get(f"/wall/{token}?embed=modal")
    page = text(response)
    assert response.status_code == 410 and "This link has expired" in page
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in response.headers
    assert 'data-outcome="closed"' in page and "frame.js" in page
    assert "Back to Acme Yoga" not in page


def test_a_paid_wall_in_the_frame_continues(web, shop) -> None:
    campaign = open_campaign(shop)
    token = issue(shop, campaign=campaign, purpose="wall", used_at=utcnow(), outcome="paid")
    page = text(web.get(f"/wall/{token}?embed=modal"))
    assert 'data-outcome="updated"' in page and "Back to Acme Yoga" not in page


def test_a_pause_on_a_spent_or_closed_link_is_refused_on_a_branded_page(web, shop) -> None:
    expired = issue(shop, campaign=open_campaign(shop), expired=True)
    response = web.post(f"/update-card/{expired}/pause")
    assert response.status_code == 410 and "This link has expired" in text(response)
    closed = issue(shop, campaign=open_campaign(shop, state="lost"))
    response = web.post(f"/update-card/{closed}/pause")
    assert response.status_code == 409 and "This payment request is closed" in text(response)


def test_a_pause_where_none_is_on_offer_is_409(web, shop) -> None:
    token = issue(shop, campaign=open_campaign(shop))  # the standard sequence: no pause
    response = web.post(f"/update-card/{token}/pause")
    assert response.status_code == 409 and "A pause isn't available" in text(response)
    assert SUPPORT in text(response)
    link = db.session.execute(select(CardUpdateLink)).scalar_one()
    assert link.used_at is None


# -- the favicon -----------------------------------------------------------------------------------


def test_the_favicon_is_served_and_linked(web, shop) -> None:
    with web.get("/favicon.ico") as icon:
        assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
        assert icon.get_data(as_text=True).startswith("<svg")
    with web.get("/static/favicon.svg") as same:
        assert same.status_code == 200
    page = text(web.get("/update-card/nope"))
    assert '<link rel="icon" type="image/svg+xml" href="/static/favicon.svg">' in page
