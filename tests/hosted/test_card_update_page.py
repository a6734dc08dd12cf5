"""The hosted card-update page over HTTP: states, a strict CSP, and bad input refused
without changing anything (the browser flows are in tests/e2e)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from app.dunning.models import CardUpdateLink
from app.extensions import db

from ..app.recovery.shop import START, Shop


@pytest.fixture
def linked(web, ctx, sandbox_url):
    """A failed renewal whose d0 email went out; the link's path."""
    shop = Shop(sandbox_url)
    sub = shop.subscribe("pm_card_sandbox_visa_insufficient_funds")
    shop.advance(to=START + dt.timedelta(days=30, hours=2))
    message_link = db.session.execute(select(CardUpdateLink)).scalar_one()
    from app.outbox.models import OutboxMessage

    body = db.session.execute(select(OutboxMessage.body_text)).scalar_one()
    path = re.search(r"http://localhost(/update-card/\S+)", body).group(1)
    return {"shop": shop, "sub": sub, "link": message_link, "path": path}


def test_the_form_carries_a_setup_intent_and_a_strict_csp(web, linked) -> None:
    response = web.get(linked["path"])
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '"clientSecret": "seti_' in html and "Save card and pay $29.00" in html
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    sandbox = linked["shop"].url
    assert "script-src 'self' 'nonce-" in csp and sandbox in csp
    assert "unsafe-eval" not in csp and response.headers["X-Frame-Options"] == "DENY"
    assert db.session.get(CardUpdateLink, linked["link"].id).opened_at is not None


def test_unknown_tokens_are_404(web, ctx) -> None:
    assert web.get("/update-card/nope").status_code == 404
    assert web.get("/wall/nope").status_code == 404
    assert web.post("/update-card/nope/complete", json={}).status_code == 404
    assert web.post("/update-card/nope/fresh").status_code == 404


def test_a_dunning_link_is_not_a_wall(web, linked) -> None:
    assert web.get(linked["path"].replace("/update-card/", "/wall/")).status_code == 404


@pytest.mark.parametrize(
    "body",
    [None, [], {}, {"setup_intent": 12}, {"setup_intent": "pi_123"}, {"payment_confirmed": "yes"}],
)
def test_bad_completions_are_400_and_change_nothing(web, linked, body) -> None:
    kwargs = {"json": body} if body is not None else {"data": "not json"}
    response = web.post(linked["path"] + "/complete", **kwargs)
    assert response.status_code == 400 and response.json["state"] == "invalid"
    link = db.session.get(CardUpdateLink, linked["link"].id)
    assert link.used_at is None and link.outcome is None


def test_completion_needs_no_session_the_token_is_the_authority(web, linked) -> None:
    # A cross-site iframe (the payment wall) never sends the session cookie.
    response = web.post(linked["path"] + "/complete", json={"payment_confirmed": True})
    assert response.status_code == 200 and response.json["state"] == "declined"
    assert db.session.get(CardUpdateLink, linked["link"].id).used_at is None


def test_an_expired_link_is_410_with_a_fresh_link_button(web, linked) -> None:
    link = db.session.get(CardUpdateLink, linked["link"].id)
    link.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    db.session.commit()
    response = web.get(linked["path"])
    assert response.status_code == 410
    assert "This link has expired" in response.get_data(as_text=True)
    assert "Email me a new link" in response.get_data(as_text=True)


def test_the_success_view_links_back_to_the_merchants_site(web, linked) -> None:
    workspace = linked["shop"].workspace
    back = f'<a href="https://shop.example/account">Back to {workspace.name}</a>'
    workspace.website_url = "https://shop.example/account"
    db.session.commit()
    page = web.get(linked["path"]).get_data(as_text=True)
    done_view = page[page.index('<section id="done-view" hidden>') :]
    assert back in done_view.split("</section>")[0]
    assert back not in web.get(linked["path"] + "?embed=modal").get_data(as_text=True)
    workspace.website_url = "javascript:alert(1)"
    db.session.commit()
    page = web.get(linked["path"]).get_data(as_text=True)
    assert "Back to" not in page and "javascript:" not in page
