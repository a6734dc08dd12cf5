"""Settings → Emails: the pause offer and the last-chance discount (forms check shape,
services check meaning, bad input changes nothing), and the preview of both."""

from __future__ import annotations

from html import unescape

import pytest
from sqlalchemy import select

from app.dunning.models import DunningSettings
from app.extensions import db

from .. import factories as f
from ..forms import csrf_token, submit

FORM = {"sequence": "standard", "from_name": "", "reply_to": "", "pause_days": ""}


@pytest.fixture
def shop(web, ctx):
    owner = f.user("owner@offers.example")
    ws = f.workspace(owner, "Offer Shop")
    db.session.commit()
    f.login(web, owner)
    return ws


def stored(ws) -> DunningSettings | None:
    db.session.expire_all()
    return db.session.execute(
        select(DunningSettings).where(DunningSettings.workspace_id == ws.id)
    ).scalar_one_or_none()


def test_both_offers_are_off_by_default_and_saved_when_chosen(web, shop) -> None:
    html = unescape(web.get("/settings/emails").get_data(as_text=True))
    assert '<option value="" selected>send nothing more</option>' in html
    assert 'name="discount_percent" value=""' in html
    offers = {"pause_offer_days": "30", "discount_percent": "20", "discount_months": "3"}
    assert submit(web, "/settings/emails", {**FORM, **offers}).status_code == 302
    row = stored(shop)
    assert (row.pause_offer_days, row.discount_percent, row.discount_months) == (30, 20, 3)
    html = unescape(web.get("/settings/emails").get_data(as_text=True))
    assert 'name="discount_percent" value="20"' in html
    assert '<option value="30" selected>email an offer to pause for 30 days instead' in html
    # Emptied again: off.
    assert submit(web, "/settings/emails", FORM).status_code == 302
    row = stored(shop)
    assert (row.pause_offer_days, row.discount_percent, row.discount_months) == (None, None, None)


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ({"pause_offer_days": "45"}, "The pause offered after the last email lasts 14, 30 or 60"),
        ({"pause_offer_days": "soon"}, "The pause offered after the last email must be a whole"),
        ({"discount_percent": "95", "discount_months": "3"}, "5 to 90 percent off"),
        ({"discount_percent": "20", "discount_months": "24"}, "lasts 1 to 12 months"),
        ({"discount_percent": "20"}, "both a percent and a number of months"),
        ({"discount_percent": "-5", "discount_months": "3"}, "percent must be a whole number"),
    ],
)
def test_bad_offers_are_refused_and_nothing_changes(web, shop, typed, error) -> None:
    response = submit(web, "/settings/emails", {**FORM, **typed})
    assert response.status_code == 400
    assert error in unescape(response.get_data(as_text=True))
    assert stored(shop) is None


def preview(web, body: dict):
    token = csrf_token(web, "/settings/emails")
    return web.post("/settings/emails/preview", json=body, headers={"X-CSRFToken": token})


def test_the_preview_shows_the_discount_on_the_final_touch_only(web, shop) -> None:
    body = {
        "sequence": "standard",
        "variant": "insufficient_funds",
        "discount_percent": "20",
        "discount_months": "3",
    }
    final = preview(web, {**body, "touch": "d14"}).json
    assert "get 20% off your next 3 months" in final["text"]
    first = preview(web, {**body, "touch": "d0"}).json
    assert "% off" not in first["text"]


def test_the_preview_shows_the_pause_offer(web, shop) -> None:
    body = {"sequence": "short", "variant": "generic", "touch": "pause_offer"}
    shown = preview(web, {**body, "pause_offer_days": "60"}).json
    assert shown["subject"] == "Pause your Pro monthly subscription instead?"
    assert "Pause for 60 days" in shown["html"] and "/pause-offer/sample-link" in shown["text"]
    bad = preview(web, {**body, "pause_offer_days": "45"})
    assert bad.status_code == 400
