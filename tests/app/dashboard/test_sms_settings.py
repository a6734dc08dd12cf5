"""Settings → Text messages over HTTP: owners save (the auth token encrypted, never shown
back, the change audited); bad input is refused whole (400, every error, nothing
stored); viewers only read; a test text goes through the outbox."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.extensions import db
from app.sms.models import SmsMessage, SmsSettings

from .. import factories as f
from ..forms import submit
from ..sms.helpers import ACCOUNT_SID, AUTH_TOKEN

URL = "/settings/sms"
FORM = {
    "is_enabled": "1",
    "account_sid": ACCOUNT_SID,
    "auth_token": AUTH_TOKEN,
    "from_number": "+1 500 555 0006",
    "messaging_service_sid": "",
    "monthly_cap": "200",
    "quiet_start": "21:00",
    "quiet_end": "09:00",
    "touch_days": "1, 5",
    "support_contact": "help@yoga.example",
}


@pytest.fixture
def shop(web, ctx):
    owner = f.user("owner@yoga.example")
    ws = f.workspace(owner, "Studio Yoga")
    viewer = f.member(ws, "viewer", "viewer@yoga.example")
    db.session.commit()
    f.login(web, owner)
    return {"ws": ws, "owner": owner, "viewer": viewer}


def stored(ws) -> SmsSettings | None:
    db.session.expire_all()
    return db.session.execute(
        select(SmsSettings).where(SmsSettings.workspace_id == ws.id)
    ).scalar_one_or_none()


def test_the_page_is_in_the_settings_nav(web, shop) -> None:
    page = web.get(URL)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'href="/settings/sms"' in html and "backstop_sms_consent" in html
    assert "/webhooks/twilio/" in html


def test_an_owner_saves_and_the_token_is_never_shown_back(web, shop) -> None:
    answer = submit(web, URL, FORM)
    assert answer.status_code == 302
    row = stored(shop["ws"])
    assert row.is_enabled and row.from_number == "+15005550006" and row.touch_days == [1, 5]
    assert (row.quiet_start_minute, row.quiet_end_minute, row.monthly_cap) == (1260, 540, 200)
    assert AUTH_TOKEN not in row.auth_token_encrypted
    page = web.get(URL).get_data(as_text=True)
    assert AUTH_TOKEN not in page and "stored" in page
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "sms.settings_saved")
    ).scalar_one()
    assert entry.details["auth_token_changed"] is True and AUTH_TOKEN not in str(entry.details)
    # Saving again without a token keeps the stored one.
    assert submit(web, URL, {**FORM, "auth_token": "", "monthly_cap": "300"}).status_code == 302
    again = stored(shop["ws"])
    assert again.auth_token_encrypted == row.auth_token_encrypted and again.monthly_cap == 300


def test_bad_input_is_refused_whole(web, shop) -> None:
    assert submit(web, URL, FORM).status_code == 302
    before = stored(shop["ws"]).monthly_cap
    bad = {
        **FORM,
        "account_sid": "nope",
        "monthly_cap": "many",
        "quiet_start": "25:00",
        "touch_days": "3, 40",
        "from_number": "555",
    }
    answer = submit(web, URL, bad)
    assert answer.status_code == 400
    html = answer.get_data(as_text=True).lower()
    for words in ("account sid", "monthly cap", "quiet hours", "0 to 29", "day 3", "sender number"):
        assert words in html, words
    assert stored(shop["ws"]).monthly_cap == before


def test_turning_on_needs_twilio(web, shop) -> None:
    answer = submit(web, URL, {**FORM, "account_sid": "", "auth_token": "", "from_number": ""})
    assert answer.status_code == 400
    assert "account SID and auth token" in answer.get_data(as_text=True)
    assert stored(shop["ws"]) is None  # nothing kept, not even the defaults


def test_a_viewer_reads_but_cannot_save_or_send(web, shop) -> None:
    f.login(web, shop["viewer"])
    assert "Only owners and admins" in web.get(URL).get_data(as_text=True)
    from ..forms import csrf_token

    token = csrf_token(web, URL)
    assert web.post(URL, data={**FORM, "csrf_token": token}).status_code == 403
    answer = web.post(f"{URL}/test", data={"phone": "+14155550134", "csrf_token": token})
    assert answer.status_code == 403
    assert stored(shop["ws"]) is None  # nothing kept, not even the defaults


def test_a_test_text_goes_through_the_outbox(web, shop) -> None:
    assert submit(web, URL, FORM).status_code == 302
    answer = submit(web, f"{URL}/test", {"phone": "+1 415 555 0134"}, page=URL)
    assert answer.status_code == 302
    [text] = db.session.execute(select(SmsMessage)).scalars().all()
    assert text.purpose == "test" and text.to_number == "+14155550134"
    assert text.status == "sent" and text.body.startswith("Studio Yoga: this is a test text")


def test_a_test_text_needs_a_number_and_a_sender(web, shop) -> None:
    bad = submit(web, f"{URL}/test", {"phone": "call me"}, page=URL)
    assert bad.status_code == 400
    unset = submit(web, f"{URL}/test", {"phone": "+14155550134"}, page=URL)
    assert unset.status_code == 409 and "Twilio is not set up" in unset.get_data(as_text=True)
    assert db.session.execute(select(SmsMessage)).scalars().all() == []
