"""Cross-tenant access is a test matrix, not a hope: every dashboard route that takes
an id, given another workspace's id, answers 404 or 403 and changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from app.accounts import api_keys, user_sessions
from app.accounts.models import ApiKey, Invitation, Membership, UserSession
from app.audit.models import AuditEntry
from app.disputes.models import Dispute
from app.dunning.models import SubjectTest
from app.extensions import db
from app.insights import exports
from app.insights.models import InsightExport
from app.integrations import channels, endpoints
from app.integrations.endpoints import Rules
from app.integrations.models import Delivery, NotificationChannel, WebhookEndpoint
from app.privacy import requests as privacy_requests
from app.recovery.models import Campaign
from app.retain import flows
from app.retain.models import RetainFlow
from app.stripe import mirror

from . import factories as f
from .forms import csrf_token

#: Routes with variables that are not tenant ids (tokens are their own secret).
NOT_TENANT_IDS = {
    "accounts.reset",
    "accounts.accept",
    "stripe.workspace_webhook",
    # Twilio's calls: the token names the workspace, the signature proves it (tests/app/sms).
    "sms_webhooks.inbound",
    "sms_webhooks.status",
    "static",
    "admin.static",
    "hosted.static",
    # Customer pages: the token is the secret (tests/hosted check them).
    "hosted.update_card",
    "hosted.payment_wall",
    "hosted.complete",
    "hosted.fresh_link",
    "hosted.pause",
    "hosted.pause_offer",
    "hosted.take_pause",
    "hosted.pause_offer_card",
    "hosted.unsubscribe_page",
    "hosted.unsubscribe",
    "hosted.cancel_page",
    "hosted.cancel_action",
    "hosted.portal_page",
    "hosted.portal_switch_preview",
    "hosted.portal_quantity_preview",
    "hosted.portal_subscription_action",
    "hosted.portal_details",
    "hosted.portal_details_save",
    "hosted.portal_tax_id_add",
    "hosted.portal_tax_id_remove",
    "hosted.portal_card",
    "hosted.portal_fresh",
    "hosted.winback_page",
    "hosted.winback_tap",
    "hosted.winback_complete",
    "hosted.winback_fresh",
    # A public page per workspace (off unless the merchant turns it on).
    "hosted.portal_login",
    "hosted.portal_login_send",
}
#: The REST API authenticates with keys, not sessions: tests/app/api_v1/test_tenancy.py
#: walks its operations with one workspace's key and another's ids.
KEY_AUTHENTICATED = "api_v1."


@pytest.fixture
def two_shops(web, ctx):
    alice = f.user("alice@example.com")
    shop_a = f.workspace(alice, "Shop A")
    bob = f.user("bob@example.com")
    shop_b = f.workspace(bob, "Shop B")
    bobs_viewer = f.member(shop_b, "viewer")
    mirror.upsert(
        db.session, shop_b.id, {"id": "cus_b", "object": "customer", "email": "secret@b.example"}, 1
    )
    mirror.upsert(
        db.session, shop_a.id, {"id": "cus_a", "object": "customer", "email": "mine@a.example"}, 1
    )
    theirs = _campaign(shop_b, "cus_b", "in_secret_b")
    theirs.is_high_value = True
    their_test = SubjectTest(workspace_id=shop_b.id, touch="d0", subject_a="", subject_b="B")
    db.session.add(their_test)
    their_flow = flows.create_from_template(
        db.session, shop_b.id, "saas_standard", actor_id=None, actor_label="b", support_email=None
    )
    _campaign(shop_a, "cus_a", "in_mine_a")
    their_key, _ = api_keys.create(
        db.session, shop_b.id, name="B's server", scope="read", created_by_id=None
    )
    their_export = exports.start(
        db.session,
        shop_b.id,
        "recovery",
        dt.date(2026, 1, 1),
        dt.date(2026, 1, 31),
        requested_by_id=None,
        now=dt.datetime.now(dt.UTC),
    )
    their_workspace_export = privacy_requests.start(
        db.session, shop_b.id, requested_by_id=None, via="dashboard", now=dt.datetime.now(dt.UTC)
    )
    their_dispute = f.dispute(shop_b, "dp_secret_b")
    their_endpoint = endpoints.create(db.session, shop_b.id, url="https://hooks.b.example/x",
                                      event_types=["*"], description="", rules=Rules())  # fmt: skip
    their_channel = channels.create(db.session, shop_b.id, kind="slack", posts=["recovered"],
                                    url="https://hooks.slack.com/services/T/B/x", threshold=None,
                                    rules=Rules())  # fmt: skip
    their_delivery = Delivery(workspace_id=shop_b.id, endpoint_id=their_endpoint.id,
                              event_type="recovery.campaign.recovered", payload={"id": "evt_b"},
                              status="failed", due_at=dt.datetime.now(dt.UTC))  # fmt: skip
    db.session.add(their_delivery)
    their_invitation = Invitation(
        workspace_id=shop_b.id,
        email="inv@b.example",
        role="viewer",
        token_hash="b" * 64,
        expires_at=dt.datetime.now(dt.UTC),
    )
    db.session.add(their_invitation)
    bobs_session = user_sessions.start(
        db.session, bob, ip=None, user_agent=None, now=dt.datetime.now(dt.UTC)
    )
    db.session.commit()
    member_b = db.session.execute(
        select(Membership).where(Membership.user_id == bobs_viewer.id)
    ).scalar_one()
    f.login(web, alice)
    return {
        "stripe_id": "cus_b",
        "member_id": member_b.id,
        "slug": shop_b.slug,
        "export_type": "csv",
        "campaign_id": theirs.id,
        "flow_id": their_flow.id,
        "step_id": "survey",
        "export_id": their_export.id,
        "workspace_export_id": their_workspace_export.id,
        "key_id": their_key.id,
        "dispute_id": their_dispute.id,
        "test_id": their_test.id,
        "endpoint_id": their_endpoint.id,
        "delivery_id": their_delivery.id,
        "channel_id": their_channel.id,
        "invitation_id": their_invitation.id,
        "session_id": bobs_session.id,
    }


def _campaign(ws, customer: str, invoice: str) -> Campaign:
    opened = dt.datetime.now(dt.UTC)
    row = Campaign(
        workspace_id=ws.id,
        invoice_stripe_id=invoice,
        customer_stripe_id=customer,
        amount_minor=1000,
        currency="usd",
        decline_class="scheduled",
        opened_at=opened,
        last_failure_at=opened,
        window_ends_at=opened + dt.timedelta(days=30),
    )
    db.session.add(row)
    db.session.flush()
    return row


def test_every_route_with_an_id_refuses_another_workspace(web, app, two_shops) -> None:
    token = csrf_token(web, "/dashboard")
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.arguments or rule.endpoint in NOT_TENANT_IDS:
            continue
        if rule.endpoint.startswith(KEY_AUTHENTICATED):
            continue
        unknown = rule.arguments - two_shops.keys()
        assert not unknown, f"{rule.endpoint} takes {unknown}: add it to this matrix"
        url = rule.build({k: two_shops[k] for k in rule.arguments})[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = web.open(url, method=method, data={"csrf_token": token})
            assert response.status_code in (403, 404), (method, url, response.status_code)
            checked += 1
    assert checked >= 3
    assert db.session.execute(select(func.count()).select_from(Membership)).scalar_one() == 3
    campaign = db.session.get(Campaign, two_shops["campaign_id"])
    assert campaign is not None and campaign.state == "in_flight"
    flow = db.session.get(RetainFlow, two_shops["flow_id"])
    assert flow.status == "active" and flow.draft_revision == 1 and flow.is_default
    assert campaign.called_at is None
    their_test = db.session.get(SubjectTest, two_shops["test_id"])
    assert their_test.ended_at is None and their_test.promoted_arm is None
    export = db.session.get(InsightExport, two_shops["export_id"])
    assert export.status == "done" and export.attempts == 1  # not started again
    key = db.session.get(ApiKey, two_shops["key_id"])
    assert key is not None and key.revoked_at is None
    dispute = db.session.get(Dispute, two_shops["dispute_id"])
    assert dispute.submitted_at is None and dispute.support_contact is None
    endpoint = db.session.get(WebhookEndpoint, two_shops["endpoint_id"])
    assert endpoint.is_enabled and endpoint.previous_secret_enc is None  # not off, not rotated
    assert db.session.get(Delivery, two_shops["delivery_id"]).status == "failed"  # not resent
    assert db.session.get(NotificationChannel, two_shops["channel_id"]).posts == ["recovered"]
    assert db.session.get(Invitation, two_shops["invitation_id"]) is not None
    assert db.session.get(UserSession, two_shops["session_id"]).revoked_at is None
    audited = db.session.execute(select(AuditEntry.action)).scalars().all()
    assert not [a for a in audited if a.startswith(("webhooks.", "notifications."))]


def test_lists_show_only_the_current_workspace(web, two_shops) -> None:
    page = web.get("/customers").get_data(as_text=True)
    assert "mine@a.example" in page and "secret@b.example" not in page
    assert web.get("/customers?q=cus_b").get_data(as_text=True).count("secret@b.example") == 0
    assert web.get("/customers/cus_a").status_code == 200
    assert "in_secret_b" not in web.get("/customers/cus_a").get_data(as_text=True)
    recovery = web.get("/recovery").get_data(as_text=True)
    assert "in_mine_a" in recovery and "in_secret_b" not in recovery
    assert "dp_secret_b" not in web.get("/disputes").get_data(as_text=True)


def test_language_settings_stay_in_their_workspace(web, two_shops) -> None:
    """Settings → Languages takes no id: it always reads and writes the signed-in
    member's workspace, and one workspace's wording never reaches another's pages."""
    from app.accounts.models import Workspace
    from app.i18n import services as i18n

    shop_b = db.session.execute(select(Workspace).where(Workspace.slug == two_shops["slug"]))
    shop_b = shop_b.scalar_one()
    i18n.set_override(
        db.session, shop_b.id, "de", "Save card", "B-Wort", actor_id=None, actor_label="b"
    )
    db.session.commit()
    page = web.get("/settings/languages?locale=de").get_data(as_text=True)
    assert "B-Wort" not in page
    token = csrf_token(web, "/settings/languages")
    data = {"csrf_token": token, "locale": "de", "msgid": "Save card", "text": "A-Wort"}
    assert web.post("/settings/languages/override", data=data).status_code == 302
    assert i18n.overrides_for(db.session, shop_b.id, "de") == {"Save card": "B-Wort"}
    web.post("/settings/languages/default", data={"csrf_token": token, "default_locale": "fr"})
    assert i18n.default_locale(db.session, shop_b.id) == "en"


def test_win_back_reads_and_pauses_only_the_current_workspace(web, two_shops) -> None:
    """The Win back pages take no id: they read and pause the signed-in member's
    workspace only, and a customer's timeline never shows another's campaigns."""
    from app.accounts.models import Workspace
    from app.winback.models import WinbackCampaign

    shop_b = db.session.execute(select(Workspace).where(Workspace.slug == two_shops["slug"]))
    theirs = f.winback_campaign(shop_b.scalar_one(), "cus_a", customer_name="Secret Bea")
    db.session.commit()
    assert "Secret Bea" not in web.get("/winback").get_data(as_text=True)
    assert "Secret Bea" not in web.get("/customers/cus_a").get_data(as_text=True)
    token = csrf_token(web, "/winback")
    assert web.post("/winback/pause", data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert db.session.get(WinbackCampaign, theirs.id).state == "active"


def test_checkout_recovery_reads_and_pauses_only_the_current_workspace(web, two_shops) -> None:
    """The Checkout recovery pages take no id: they read, pause and configure the
    signed-in member's workspace only."""
    from app.accounts.models import Workspace
    from app.checkout_recovery import settings as recovery_settings
    from app.checkout_recovery.models import CheckoutRecoveryCampaign

    shop_b = db.session.execute(select(Workspace).where(Workspace.slug == two_shops["slug"]))
    theirs = f.checkout_recovery_campaign(shop_b.scalar_one(), customer_name="Secret Cara")
    db.session.commit()
    assert "Secret Cara" not in web.get("/checkout-recovery").get_data(as_text=True)
    token = csrf_token(web, "/checkout-recovery")
    assert web.post("/checkout-recovery/pause", data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert db.session.get(CheckoutRecoveryCampaign, theirs.id).state == "active"
    assert not recovery_settings.settings_for(db.session, theirs.workspace_id).is_paused
