"""A campaign in the merchant's words: touches named by their place in the sequence,
retries by what set them off, the plan by its name, the test clock by its date."""

from __future__ import annotations

import datetime as dt
from html import unescape

import pytest

from app.extensions import db
from app.recovery import planning
from app.stripe import mirror
from app.stripe.models import StripeTestClock

from .. import factories as f
from .test_recovery_pages import DAY, campaign

OPENED = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def shop(web, ctx):
    owner = f.user("owner@words.example")
    ws = f.workspace(owner, "Words Shop")
    f.connection(ws)
    db.session.commit()
    f.login(web, owner)
    return ws


def html_of(web, row) -> str:
    response = web.get(f"/recovery/campaigns/{row.id}")
    assert response.status_code == 200
    return unescape(response.get_data(as_text=True))


def email(row, touch: str, due: dt.datetime, status: str = "pending", outcome=None):
    step = planning.add_step(db.session, row, "email", due, f"{touch} is due")
    step.touch, step.status, step.outcome = touch, status, outcome
    return step


def test_touches_and_retries_are_named_as_the_merchant_would(web, shop) -> None:
    row = campaign(shop, opened=OPENED)
    email(row, "d0", OPENED, status="done", outcome="sent")
    skipped = email(row, "d3", OPENED + 3 * DAY, status="done", outcome="skipped")
    skipped.outcome_detail = "skipped: the final reminder email was already due"
    email(row, "d7", OPENED + 7 * DAY)
    email(row, "d14", OPENED + 14 * DAY)
    planning.add_step(db.session, row, "retry", OPENED + DAY, "a day later")
    planning.add_step(db.session, row, "retry", OPENED + 2 * DAY, "new card", automatic=False)
    planning.add_window_end(db.session, row)
    db.session.commit()
    html = html_of(web, row)
    for title in (
        "First reminder email",
        "Second reminder email",
        "Third reminder email",
        "Final reminder email",
        "Retry after the card changed",
        "End of the 30-day window",
    ):
        assert title in html, title
    assert "Dunning email" not in html and ">d0<" not in html and "(generic copy)" not in html
    assert "Skipped: the final reminder email was already due" in html
    assert "Skipped: skipped" not in html


def test_the_next_step_in_the_list_is_named_too(web, shop) -> None:
    row = campaign(shop, opened=OPENED)
    email(row, "d3", OPENED + 3 * DAY)
    db.session.commit()
    html = unescape(web.get("/recovery").get_data(as_text=True))
    assert "Second reminder email" in html and "Email d3" not in html


def test_the_plan_is_named_and_its_id_kept_in_a_tooltip(web, shop) -> None:
    row = campaign(shop, opened=OPENED)
    mirror.upsert(
        db.session,
        shop.id,
        {
            "id": row.subscription_stripe_id,
            "object": "subscription",
            "customer": row.customer_stripe_id,
            "status": "past_due",
            "items": {"data": [{"price": {"id": "price_s", "nickname": "Studio monthly"}}]},
        },
        1,
    )
    db.session.commit()
    html = html_of(web, row)
    assert f'<span title="{row.subscription_stripe_id}">Studio monthly</span>' in html


def test_the_test_clock_is_shown_by_its_date_with_its_id_in_a_tooltip(web, shop) -> None:
    row = campaign(shop, opened=OPENED, test_clock="clock_words")
    db.session.add(
        StripeTestClock(workspace_id=shop.id, stripe_id="clock_words", frozen_time=OPENED)
    )
    db.session.commit()
    html = html_of(web, row)
    assert 'title="Stripe test clock clock_words">Test clock: 1 Dec 2026<' in html
    assert "<code>clock_words</code>" not in html
