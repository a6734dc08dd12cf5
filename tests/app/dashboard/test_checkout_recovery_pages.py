"""The Checkout recovery page and its settings over HTTP: figures that match the rows,
the campaigns listed, the empty state, the pause switch (audited), settings saved and
audited, bad settings a 400 that changes nothing, and a test send to oneself."""

from __future__ import annotations

from html import unescape

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.checkout_recovery import settings as recovery_settings
from app.extensions import db
from app.outbox.models import OutboxMessage

from .. import factories as f
from ..forms import csrf_token

SETTINGS = "/settings/checkout-recovery"


@pytest.fixture
def shop(web, ctx):
    owner = f.user("owner@cart.example")
    ws = f.workspace(owner, "Cart Shop")
    viewer = f.member(ws, "viewer", "viewer@cart.example")
    db.session.commit()
    f.login(web, owner)
    return {"ws": ws, "owner": owner, "viewer": viewer}


def html_of(web, url: str) -> str:
    response = web.get(url)
    assert response.status_code == 200
    return unescape(response.get_data(as_text=True))


def audits(action: str) -> list[AuditEntry]:
    return list(db.session.execute(select(AuditEntry).where(AuditEntry.action == action)).scalars())


def test_the_page_counts_and_lists_the_campaigns(web, shop) -> None:
    ws = shop["ws"]
    f.checkout_recovery_campaign(
        ws, "a@example.com", state="recovered", won_via="link", touches_sent=1
    )
    f.checkout_recovery_campaign(ws, "b@example.com", state="returned", won_via="other")
    f.checkout_recovery_campaign(ws, "c@example.com", customer_name="Dee Active")
    db.session.commit()
    page = html_of(web, "/checkout-recovery")
    assert (
        'data-figure="started"><div class="label">Abandoned checkouts</div><div class="value">3<'
        in page
    )
    assert "33% of abandoned checkouts; 1 through the reminder's link" in page
    assert "49.00 USD" in page and "Dee Active" in page and "Through the reminder's link" in page
    assert "Checked out on their own" in page


def test_the_empty_page_says_what_starts_a_campaign(web, shop) -> None:
    page = html_of(web, "/checkout-recovery")
    assert "No abandoned checkout yet" in page and "1 hour later" in page


def test_pause_stops_the_campaigns_and_is_audited(web, shop) -> None:
    campaign = f.checkout_recovery_campaign(shop["ws"])
    db.session.commit()
    token = csrf_token(web, "/checkout-recovery")
    assert web.post("/checkout-recovery/pause", data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert campaign.state == "stopped"
    assert len(audits("checkout_recovery.paused")) == 1
    assert "Checkout recovery is paused" in html_of(web, "/checkout-recovery")


def test_settings_save_and_are_audited(web, shop) -> None:
    token = csrf_token(web, SETTINGS)
    data = {
        "csrf_token": token,
        "is_enabled": "1",
        "delay_1": "2",
        "delay_2": "48",
        "delay_3": "",
        "consent_source": "metadata",
        "attribution_days": "5",
        "copy-1-subject": "Still want {plan}?",
        "copy-1-message": "Hi {name}, it's waiting.",
    }
    assert web.post(SETTINGS, data=data).status_code == 302
    db.session.expire_all()
    stored = recovery_settings.settings_for(db.session, shop["ws"].id)
    assert (stored.delays_hours, stored.consent_source, stored.attribution_days) == (
        [2, 48],
        "metadata",
        5,
    )
    assert stored.copy == {
        "1": {"subject": "Still want {plan}?", "message": "Hi {name}, it's waiting."}
    }
    assert len(audits("checkout_recovery.settings_saved")) == 1
    assert "Still want Pro?" in html_of(web, SETTINGS)  # the preview uses the saved copy


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"delay_1": "abc"}, "must be a number"),
        ({"delay_2": "1"}, "later than the one before"),
        ({"delay_1": "500"}, "1 to 168 hours"),
        ({"delay_1": "", "delay_2": "5"}, "needs the ones before it"),
        ({"consent_source": "anyone"}, "consent comes from"),
        ({"attribution_days": "0"}, "1 to 30 days"),
        ({"copy-2-subject": "Hi {nmae}"}, "nmae"),
    ],
)
def test_bad_settings_are_a_400_and_change_nothing(web, shop, changes, error) -> None:
    token = csrf_token(web, SETTINGS)
    data = {
        "csrf_token": token,
        "is_enabled": "1",
        "delay_1": "1",
        "delay_2": "24",
        "delay_3": "72",
        "consent_source": "stripe",
        "attribution_days": "7",
        **changes,
    }
    response = web.post(SETTINGS, data=data)
    assert response.status_code == 400
    assert error.lower() in unescape(response.get_data(as_text=True)).lower()
    db.session.expire_all()
    stored = recovery_settings.settings_for(db.session, shop["ws"].id)
    assert (stored.delays_hours, stored.consent_source) == ([1, 24, 72], "stripe")
    assert audits("checkout_recovery.settings_saved") == []


def test_a_test_send_goes_to_the_member_only(web, shop) -> None:
    token = csrf_token(web, SETTINGS)
    assert web.post(f"{SETTINGS}/test", data={"csrf_token": token, "touch": "3"}).status_code == 302
    (message,) = db.session.execute(
        select(OutboxMessage).where(OutboxMessage.template == "checkout_recovery")
    ).scalars()
    assert message.to_email == "owner@cart.example" and message.subject.startswith(
        "[Test] Last reminder"
    )
    bad = web.post(f"{SETTINGS}/test", data={"csrf_token": token, "touch": "9"})
    assert bad.status_code == 400


def test_viewers_read_but_cannot_change(web, shop) -> None:
    f.login(web, shop["viewer"])
    assert "Only owners and admins can change these." in html_of(web, SETTINGS)
    token = csrf_token(web, SETTINGS)
    response = web.post(SETTINGS, data={"csrf_token": token, "delay_1": "5"})
    assert response.status_code == 403
    assert web.post("/checkout-recovery/pause", data={"csrf_token": token}).status_code == 403
