"""High-value payments over HTTP: the threshold under Retry policy (saved and audited,
bad input a 400 with nothing saved, viewers refused), the "Call these customers" card on
the Overview and the Recovery page, the campaign page's call status, and the "Called"
button (CSRF, roles, a note too long, a second call)."""

from __future__ import annotations

import datetime as dt
from html import unescape

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.extensions import db
from app.recovery import high_value
from app.recovery.models import Campaign
from app.stripe import mirror

from .. import factories as f
from ..forms import csrf_token, submit

PAGE = "/settings/recovery"


@pytest.fixture
def shop(web, ctx):
    owner = f.user("owner@big.example")
    ws = f.workspace(owner, "Big Co")
    viewer = f.member(ws, "viewer", "viewer@big.example")
    db.session.commit()
    f.login(web, owner)
    return {"ws": ws, "owner": owner, "viewer": viewer}


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def _campaign(ws, *, high: bool = True, customer: str = "cus_jane", **kw) -> Campaign:
    opened = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
    row = Campaign(
        workspace_id=ws.id,
        invoice_stripe_id=f"in_{customer}_{kw.get('amount_minor', 124000)}",
        customer_stripe_id=customer,
        amount_minor=kw.pop("amount_minor", 124000),
        currency="usd",
        decline_class="scheduled",
        opened_at=opened,
        last_failure_at=opened,
        window_ends_at=opened + dt.timedelta(days=30),
        is_high_value=high,
        **kw,
    )
    db.session.add(row)
    db.session.flush()
    return row


def test_the_threshold_is_off_by_default_saved_and_audited(web, shop) -> None:
    html = text(web.get(PAGE))
    section = html[html.index('id="high-value"') :]
    assert "High-value payments" in section and "Now: off" in section
    assert "Only payments in the threshold's currency compare" in section
    response = submit(web, f"{PAGE}/high-value", {"amount": "1,240", "currency": "usd"}, page=PAGE)
    assert response.status_code == 302 and response.location.endswith("#high-value")
    db.session.expire_all()
    assert high_value.threshold_of(db.session, shop["ws"].id) == (124000, "usd")
    assert "Now: 1,240.00 USD or more" in text(web.get(PAGE))
    submit(web, f"{PAGE}/high-value", {"amount": "", "currency": "USD"}, page=PAGE)
    db.session.expire_all()
    assert high_value.threshold_of(db.session, shop["ws"].id) is None
    audits = db.session.execute(
        select(AuditEntry)
        .where(AuditEntry.action == "recovery.high_value_saved")
        .order_by(AuditEntry.id)
    ).scalars()
    assert [(a.details["was"], a.details["threshold"]) for a in audits] == [
        (None, [124000, "usd"]),
        ([124000, "usd"], None),
    ]


@pytest.mark.parametrize(
    ("amount", "currency"), [("lots", "usd"), ("-1", "usd"), ("10.5", "jpy"), ("100", "us")]
)
def test_a_bad_threshold_is_a_400_and_changes_nothing(web, shop, amount, currency) -> None:
    submit(web, f"{PAGE}/high-value", {"amount": "500", "currency": "eur"}, page=PAGE)
    response = submit(
        web, f"{PAGE}/high-value", {"amount": amount, "currency": currency}, page=PAGE
    )
    assert response.status_code == 400
    html = text(response)
    assert 'id="high-value-errors"' in html and "Nothing was saved." in html
    assert f'value="{amount}"' in html  # what was typed stays, to fix
    db.session.expire_all()
    assert high_value.threshold_of(db.session, shop["ws"].id) == (50000, "eur")


def test_a_viewer_cannot_set_the_threshold_and_csrf_is_required(web, shop) -> None:
    assert (
        web.post(f"{PAGE}/high-value", data={"amount": "5", "currency": "usd"}).status_code == 400
    )
    f.login(web, shop["viewer"])
    response = submit(web, f"{PAGE}/high-value", {"amount": "5", "currency": "usd"}, page=PAGE)
    assert response.status_code == 403
    assert high_value.threshold_of(db.session, shop["ws"].id) is None


def test_the_overview_lists_high_value_payments_to_call(web, shop) -> None:
    ws = shop["ws"]
    mirror.upsert(
        db.session,
        ws.id,
        {
            "id": "cus_jane",
            "object": "customer",
            "name": "Jane Doe",
            "email": "jane@example.com",
            "phone": "+1 555 0100",
        },
        1,
    )
    wanted = _campaign(ws)
    _campaign(ws, high=False, customer="cus_small", amount_minor=900)
    _campaign(ws, customer="cus_done", called_at=dt.datetime.now(dt.UTC), called_by="x@y")
    _campaign(ws, customer="cus_paid", state="recovered")
    db.session.commit()
    html = text(web.get("/dashboard"))
    card = html[html.index('id="to-call"') :]
    card = card[: card.index("</table>")]
    assert card.count("<tr data-campaign=") == 1
    assert f'data-campaign="{wanted.id}"' in card
    assert "Jane Doe" in card and "1,240.00 USD" in card and "+1 555 0100" in card
    assert "jane@example.com" in card and "3 hours ago" in card
    assert f"/recovery/campaigns/{wanted.id}" in card
    assert 'id="to-call"' in text(web.get("/recovery"))
    campaign_page = text(web.get(f"/recovery/campaigns/{wanted.id}"))
    assert "High value" in campaign_page and "Not called yet" in campaign_page
    f.login(web, shop["viewer"])
    viewer_card = text(web.get("/dashboard"))
    assert 'id="to-call"' in viewer_card and ">Called</button>" not in viewer_card


def test_marking_a_call_records_who_when_and_the_note(web, shop) -> None:
    campaign = _campaign(shop["ws"])
    db.session.commit()
    url = f"/recovery/campaigns/{campaign.id}/called"
    assert web.post(url, data={"note": "x"}).status_code == 400  # no CSRF token
    response = submit(web, url, {"note": "Left a voicemail", "back": "overview"}, page="/dashboard")
    assert response.status_code == 302 and response.location.endswith("/dashboard#to-call")
    db.session.expire_all()
    row = db.session.get(Campaign, campaign.id)
    assert (row.called_by, row.call_note) == ("owner@big.example", "Left a voicemail")
    assert 'id="to-call"' not in text(web.get("/dashboard"))
    page = text(web.get(f"/recovery/campaigns/{campaign.id}"))
    assert "Called by owner@big.example" in page and "Left a voicemail" in page
    again = submit(web, url, {"note": "twice"}, page="/dashboard")
    assert again.status_code == 409 and "already marked this customer called" in text(again)
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).call_note == "Left a voicemail"
    [entry] = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "recovery.customer_called")
    ).scalars()
    assert entry.actor_label == "owner@big.example"


def test_a_bad_call_is_refused_and_changes_nothing(web, shop) -> None:
    ordinary = _campaign(shop["ws"], high=False, customer="cus_small")
    big = _campaign(shop["ws"])
    db.session.commit()
    token = csrf_token(web, "/dashboard")
    not_high = web.post(
        f"/recovery/campaigns/{ordinary.id}/called", data={"csrf_token": token, "note": ""}
    )
    assert not_high.status_code == 400 and "not high-value" in text(not_high)
    too_long = web.post(
        f"/recovery/campaigns/{big.id}/called", data={"csrf_token": token, "note": "x" * 501}
    )
    assert too_long.status_code == 400 and "keep it under 500" in text(too_long)
    f.login(web, shop["viewer"])
    token = csrf_token(web, "/dashboard")
    viewer = web.post(f"/recovery/campaigns/{big.id}/called", data={"csrf_token": token})
    assert viewer.status_code == 403
    assert web.post(
        "/recovery/campaigns/999999/called", data={"csrf_token": token}
    ).status_code in (
        403,
        404,
    )
    db.session.expire_all()
    assert db.session.get(Campaign, big.id).called_at is None
