"""The what-if replay over HTTP: Settings → Retry policy posts the form's draft to
/settings/recovery/replay, which shows the draft against what happened per decline
class, saves nothing, writes no row and never calls Stripe; a bad draft is a 400 with
every problem; CSRF applies; any member may run it; only this workspace's failures."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from html import unescape

import pytest
import stripe
from sqlalchemy import select

from app.extensions import db
from app.insights import replay_data
from app.recovery.models import Campaign, ChargeAttempt, RecoverySettings
from app.stripe import mirror

from .. import factories as f
from ..forms import csrf_token, submit
from .test_recovery_pages import policy_fields

PAGE = "/settings/recovery"
REPLAY = "/settings/recovery/replay"
DAY = dt.timedelta(days=1)
_n = itertools.count(1)


@pytest.fixture
def shop(web, ctx):
    owner = f.user("owner@replay.example")
    ws = f.workspace(owner, "Replay Shop")
    ws.timezone = "Europe/Paris"
    f.connection(ws)
    viewer = f.member(ws, "viewer", "viewer@replay.example")
    db.session.commit()
    f.login(web, owner)
    return {"ws": ws, "owner": owner, "viewer": viewer}


@pytest.fixture
def no_stripe(monkeypatch):
    """Any Stripe client made during the test fails it."""

    def refuse(*args, **kwargs):
        raise AssertionError("the replay must never call Stripe")

    monkeypatch.setattr(stripe.StripeClient, "__init__", refuse)


def a_failure(ws, code: str = "insufficient_funds", *, days_ago: int = 10, **kw) -> Campaign:
    n = next(_n)
    retries = kw.pop("retries", ())
    opened = dt.datetime.now(dt.UTC).replace(microsecond=0) - days_ago * DAY
    row = Campaign(
        workspace_id=ws.id,
        invoice_stripe_id=kw.pop("invoice", f"in_replay{n}"),
        customer_stripe_id=f"cus_replay{n}",
        amount_minor=2900,
        currency="usd",
        decline_code=code,
        decline_class="scheduled",
        customer_tz="Europe/Paris",
        card_brand="visa",
        opened_at=opened,
        last_failure_at=opened,
        window_ends_at=opened + 30 * DAY,
        **kw,
    )
    db.session.add(row)
    db.session.flush()
    for number, at in enumerate([opened, *retries]):
        db.session.add(
            ChargeAttempt(
                workspace_id=ws.id,
                campaign_id=row.id,
                invoice_stripe_id=row.invoice_stripe_id,
                charge_stripe_id=f"ch_{row.invoice_stripe_id}_{number}",
                at=at,
                source="stripe",
                decline_code=code,
            )
        )
    db.session.flush()
    return row


def everything() -> dict[str, list]:
    """Every row of every table, to prove a request changed none."""
    db.session.expire_all()
    return {
        table.name: sorted(map(tuple, db.session.execute(select(table)).all()), key=repr)
        for table in db.metadata.sorted_tables
    }


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def section(html: str) -> str:
    return html[html.index('id="replay-results"') : html.index('id="preview"')]


def test_the_page_offers_the_replay_inside_the_policy_form(web, shop) -> None:
    html = text(web.get(PAGE))
    assert 'id="replay-button"' in html
    start = html.index('action="/settings/recovery"')
    form = html[start : html.index("</form>", start)]
    assert 'formaction="/settings/recovery/replay#replay"' in form
    assert "What-if replay" in html and "never contacts Stripe" in html


def test_the_draft_is_replayed_per_class_and_nothing_changes(web, shop, no_stripe) -> None:
    ws = shop["ws"]
    a_failure(ws, "insufficient_funds", state="lost", closed_at=dt.datetime.now(dt.UTC))
    a_failure(ws, "do_not_honor", days_ago=20)
    a_failure(ws, "stolen_card", days_ago=5)
    db.session.commit()
    before = everything()

    draft = policy_fields(
        **{
            "cadence-1-steps": "2d, 4d",
            "override-0-code": "do_not_honor",
            "override-0-class": "customer_action",
        }
    )
    response = submit(web, REPLAY, draft, page=PAGE)
    assert response.status_code == 200
    html = text(response)
    results = section(html)
    assert "Your draft (not saved)" in results
    assert "replayed over 3 failed renewals: 3 from Backstop's campaigns" in results
    assert 'id="replay-scheduled"' in results and 'id="replay-customer_action"' in results
    assert 'id="replay-no_recovery"' in results
    scheduled = results[results.index('id="replay-scheduled"') :]
    assert re.search(r'data-cell="draft-retries">2 \(2\.0 per failure\)', scheduled)
    assert "wait for the customer's new card" in results  # do_not_honor moved by the draft
    assert "never retried (the card must not be charged again)" in results
    assert "What a replay can't tell" in results
    # The form keeps the draft to save or change, and says nothing was saved.
    assert 'value="2d, 4d"' in html
    assert everything() == before
    assert db.session.execute(select(RecoverySettings)).first() is None


def test_the_saved_policy_replayed_says_so(web, shop, no_stripe) -> None:
    a_failure(shop["ws"])
    db.session.commit()
    saved = {
        **policy_fields(),
        "cadence-2-code": "do_not_honor",
        "cadence-2-steps": "1d, 3d, 7d, 14d",
        "cadence-3-code": "card_velocity_exceeded",
        "cadence-3-steps": "1d, 2d",
    }
    html = text(submit(web, REPLAY, saved, page=PAGE))
    assert "Your saved policy, replayed over 1 failed renewal:" in section(html)


def test_a_bad_draft_is_refused_with_every_problem_and_nothing_replayed(web, shop) -> None:
    before = everything()
    response = submit(
        web,
        REPLAY,
        policy_fields(**{"cadence-1-steps": "1d, soonish", "max_auto_retries": "9"}),
        page=PAGE,
    )
    assert response.status_code == 400
    html = text(response)
    assert "Nothing was replayed. Please fix:" in html
    assert '"soonish" is not a duration' in html
    assert "above the legal maximum of 4" in html
    assert 'id="replay-summary"' not in html
    assert everything() == before


def test_the_replay_needs_the_csrf_token(web, shop) -> None:
    assert web.post(REPLAY, data=policy_fields()).status_code == 400
    token = csrf_token(web, PAGE)
    assert web.post(REPLAY, data={**policy_fields(), "csrf_token": token}).status_code == 200


def test_signed_out_visitors_are_sent_to_sign_in(app, shop) -> None:
    anonymous = app.test_client()
    response = anonymous.post(REPLAY, data=policy_fields())
    assert response.status_code in (302, 400, 401)
    assert response.status_code != 200


def test_a_viewer_replays_the_saved_policy_as_shown(web, shop, no_stripe) -> None:
    a_failure(shop["ws"], "processing_error")
    db.session.commit()
    f.login(web, shop["viewer"])
    html = text(web.get(PAGE))
    viewer_form = html[
        html.index('class="row actions">\n  <input type="hidden" name="csrf_token"') :
    ]
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', viewer_form))
    assert fields["cadence-0-code"] == "default" and "max_auto_retries" in fields
    response = web.post(REPLAY, data=fields)
    assert response.status_code == 200
    results = section(text(response))
    assert "Your saved policy" in results and 'id="replay-immediate"' in results


def test_only_this_workspaces_failures_are_replayed(web, shop, no_stripe) -> None:
    mine = a_failure(shop["ws"])
    theirs_ws = f.workspace(f.user("other@replay.example"), "Other Shop")
    theirs = a_failure(theirs_ws, "expired_card")
    mirror.upsert(
        db.session,
        theirs_ws.id,
        {"id": "in_theirs_imported", "object": "invoice", "subscription": "sub_t",
         "billing_reason": "subscription_cycle", "status": "open", "amount_due": 100,
         "currency": "usd", "created": int(dt.datetime.now(dt.UTC).timestamp()) - 86400,
         "attempt_count": 3},
        1,
    )  # fmt: skip
    db.session.commit()
    results = section(text(submit(web, REPLAY, policy_fields(), page=PAGE)))
    assert "replayed over 1 failed renewal:" in results
    assert mine.invoice_stripe_id in results
    assert theirs.invoice_stripe_id not in results and "in_theirs_imported" not in results
    assert 'id="replay-customer_action"' not in results


def test_the_empty_state_says_what_gives_data(web, shop) -> None:
    results = section(text(submit(web, REPLAY, policy_fields(), page=PAGE)))
    assert "No failed payments to replay yet." in results
    assert "found no renewal whose payment failed" in results

    other = f.user("new@replay.example")
    f.workspace(other, "Not Connected")
    db.session.commit()
    f.login(web, other)
    results = section(text(submit(web, REPLAY, policy_fields(), page=PAGE)))
    assert "Connecting Stripe (Settings → Stripe) imports the last 90 days" in results


def test_imported_failures_are_shown_without_a_replay(web, shop) -> None:
    ws = shop["ws"]
    created = int((dt.datetime.now(dt.UTC) - 20 * DAY).timestamp())
    mirror.upsert(
        db.session,
        ws.id,
        {"id": "in_imported", "object": "invoice", "subscription": "sub_i",
         "billing_reason": "subscription_cycle", "status": "paid", "amount_due": 100,
         "amount_paid": 100, "currency": "usd", "created": created, "attempt_count": 3,
         "status_transitions": {"finalized_at": created, "paid_at": created + 86400}},
        1,
    )  # fmt: skip
    from app.stripe.models import StripeConnection

    conn = db.session.execute(select(StripeConnection)).scalar_one()
    conn.connected_at = dt.datetime.now(dt.UTC) - 10 * DAY
    db.session.commit()
    results = section(text(submit(web, REPLAY, policy_fields(), page=PAGE)))
    assert "1 imported from Stripe's history" in results
    imported = results[results.index('id="replay-imported"') :]
    assert "The draft can't be replayed over these." in imported
    assert "neither the decline code" in imported
    assert (
        "2 (2.0 per failure) further attempts" in imported and "1 paid within 30 days" in imported
    )


def test_only_the_newest_failures_are_replayed_and_the_page_says_so(web, shop, monkeypatch) -> None:
    for days in (1, 2, 3):
        a_failure(shop["ws"], days_ago=days)
    db.session.commit()
    monkeypatch.setattr(replay_data, "MAX_FAILURES", 2)
    results = section(text(submit(web, REPLAY, policy_fields(), page=PAGE)))
    assert "replayed over 2 failed renewals" in results
    assert "Only the newest 2 failures were replayed" in results
