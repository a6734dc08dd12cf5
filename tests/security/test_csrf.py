"""Every POST a browser session makes needs the form's CSRF token: walked from the
url_map (a route added tomorrow is walked too), a POST without one is 400 and changes
nothing. Machine endpoints are exempt on an explicit allow-list, each entry with what
authenticates it instead, and a test that it refuses a request without that."""

from __future__ import annotations

import pytest

from app.extensions import db

from ..app import factories as f
from .conftest import refused_for_csrf, snapshot

#: POST endpoints that take no CSRF token, and what stands in for it. Each is probed
#: without that authority in ``test_exempt_endpoints_refuse_unauthenticated_requests``.
EXEMPT = {
    # The merchant's backend, HMAC-signed with the workspace's embed secret.
    "api.cancel_flow": "embed HMAC signature",
    "api.payment_wall": "embed HMAC signature",
    "api.portal": "embed HMAC signature",
    # The REST API: a bearer key in the Authorization header, no cookie.
    "api_v1.pause_campaign": "bearer API key",
    "api_v1.resume_campaign": "bearer API key",
    "api_v1.erase_customer": "bearer API key",
    "api_v1.create_export": "bearer API key",
    # Inbound webhooks, signed by their senders.
    "stripe.platform_webhook": "Stripe-Signature (platform secret)",
    "stripe.workspace_webhook": "Stripe-Signature (the workspace's secret)",
    "mail_webhooks.ses_notice": "SNS message signature",
    "mail_webhooks.resend_notice": "Svix signature (Resend)",
    "sms_webhooks.inbound": "X-Twilio-Signature + the workspace's URL token",
    "sms_webhooks.status": "X-Twilio-Signature + the workspace's URL token",
    # Customer pages in a cross-site iframe or modal (no SameSite=Lax cookie there):
    # the unguessable link token in the URL, plus a form token bound to it.
    "hosted.complete": "card-update link token",
    "hosted.fresh_link": "card-update link token",
    "hosted.pause": "card-update link token",
    "hosted.unsubscribe": "unsubscribe token (RFC 8058 one-click from mail clients)",
    "hosted.cancel_action": "cancel link token + form nonce",
    "hosted.cancel_start": "embed HMAC signature (a merchant's own form posts it)",
    "hosted.portal_start": "embed HMAC signature (a merchant's own form posts it)",
    "hosted.portal_subscription_action": "portal link token + form token",
    "hosted.portal_details_save": "portal link token + form token",
    "hosted.portal_tax_id_add": "portal link token + form token",
    "hosted.portal_tax_id_remove": "portal link token + form token",
    "hosted.portal_card": "portal link token + form token",
    "hosted.portal_fresh": "the expired portal link token (the new one goes to Stripe's address)",
    "hosted.portal_login_send": "none needed: a link only ever goes to Stripe's address",
    "hosted.winback_tap": "win-back link token",
    "hosted.winback_complete": "win-back link token",
    "hosted.winback_fresh": "win-back link token (the new one goes to Stripe's address)",
}


def post_routes(app, arguments: dict) -> list[tuple[str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods:
            continue
        values = {k: arguments.get(k, "1") for k in rule.arguments}
        found.append((rule.endpoint, rule.build(values)[1]))
    return sorted(found)


def test_every_browser_post_without_a_csrf_token_is_400_and_changes_nothing(
    web, app, two_shops, shop_b_id
) -> None:
    from app.accounts.models import Workspace

    shop_a_id = db.session.query(Workspace.id).filter(Workspace.id != shop_b_id).scalar()
    admin_web = app.test_client()
    f.login(admin_web, f.user("founder@backstop.example", staff_role="admin"))
    db.session.commit()
    before = snapshot(shop_a_id, shop_b_id)
    walked = post_routes(app, {**two_shops, "export_type": "csv", "action": "pause"})
    unexpected = []
    for endpoint, url in walked:
        if endpoint in EXEMPT:
            continue
        client = admin_web if url.startswith("/admin") else web
        # What a cross-site form would send: plausible fields, no token.
        response = client.post(url, data={"name": "Forged", "email": "x@evil.example"})
        if not refused_for_csrf(response):
            unexpected.append((endpoint, response.status_code))
    assert not unexpected, (
        f"POSTs served without a CSRF token (exempt them on purpose?): {unexpected}"
    )
    assert len(walked) - len(EXEMPT) > 100
    assert snapshot(shop_a_id, shop_b_id) == before


def test_the_allow_list_names_only_real_exempt_routes(app) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if "POST" in rule.methods}
    assert set(EXEMPT) <= endpoints, set(EXEMPT) - endpoints


# -- the allow-list, probed without the authority each entry names -----------------------------


@pytest.fixture
def exempt_world(web, app, two_shops, shop_b_id):
    """Shop B requires embed signatures, texts with Twilio and has a Stripe webhook secret;
    the probes come from outside (signed out) and from shop A's secret."""
    import dataclasses
    import time

    from app.accounts.models import Workspace
    from app.api import embed_secrets
    from app.api.signing import sign

    from ..app.sms.helpers import turn_on

    shop_b = db.session.get(Workspace, shop_b_id)
    shop_a = db.session.query(Workspace).filter(Workspace.id != shop_b_id).one()
    embed_secrets.ensure(db.session, shop_b)
    embed_secrets.set_signature_required(db.session, shop_b, True)
    secret_a = embed_secrets.ensure(db.session, shop_a)
    f.connection(shop_b, mode="restricted_key", webhook_secret="whsec_shop_b")
    db.session.commit()
    sms = turn_on(shop_b_id)
    settings = app.config["BACKSTOP"]
    app.config["BACKSTOP"] = dataclasses.replace(
        settings, resend_webhook_secret="whsec_" + "c" * 32
    )
    web.post("/logout")  # the probes come with no session
    with web.session_transaction() as s:
        s.clear()
    now = int(time.time())
    yield {
        "slug": two_shops["slug"],
        "sms_token": sms.webhook_token,
        "campaign_id": two_shops["campaign_id"],
        # Shop A's secret signing for shop B's customer: a valid HMAC, the wrong key.
        "forged": {"timestamp": now, "signature": sign(secret_a, "cus_b", now)},
    }
    app.config["BACKSTOP"] = settings


def _probes(world: dict) -> dict[str, list[dict]]:
    """Per exempt endpoint: requests that lack its authority (kwargs for ``web.open``)."""
    slug, unknown = world["slug"], "u" * 43
    embed_unsigned = {"workspace": slug, "customer": "cus_b", "subscription": "sub_b"}
    embed_forged = {**embed_unsigned, **world["forged"]}
    embed = [{"json": embed_unsigned}, {"json": embed_forged}]
    hosted_token = lambda path: [{"path": path.format(t=unknown), "data": {"x": "1"}}]  # noqa: E731
    event = {"id": "evt_forged", "object": "event", "type": "customer.deleted", "data": {}}
    return {
        "api.cancel_flow": embed,
        "api.payment_wall": embed,
        "api.portal": embed,
        "api_v1.pause_campaign": [{}, {"headers": {"Authorization": "Bearer bk_forged"}}],
        "api_v1.resume_campaign": [{}, {"headers": {"Authorization": "Bearer bk_forged"}}],
        "api_v1.erase_customer": [{}, {"headers": {"Authorization": "Bearer bk_forged"}}],
        "api_v1.create_export": [{}, {"headers": {"Authorization": "Bearer bk_forged"}}],
        "stripe.platform_webhook": [
            {"json": event},
            {"json": event, "headers": {"Stripe-Signature": "t=1,v1=" + "0" * 64}},
        ],
        "stripe.workspace_webhook": [
            {"json": event},
            # Signed with the platform's secret, not shop B's own.
            {"data": b"{}", "headers": f.signed(b"{}", "whsec_platform_test_secret")[1]},
        ],
        "mail_webhooks.ses_notice": [{"json": {"Type": "Notification", "Message": "{}"}}],
        "mail_webhooks.resend_notice": [{"json": {"type": "email.bounced", "data": {}}}],
        "sms_webhooks.inbound": [
            {"data": {"From": "+14155550134", "Body": "STOP"}},
            {"path": f"/webhooks/twilio/{unknown}", "data": {"Body": "STOP"}},
        ],
        "sms_webhooks.status": [{"data": {"MessageSid": "SM1", "MessageStatus": "failed"}}],
        "hosted.complete": hosted_token("/update-card/{t}/complete"),
        "hosted.fresh_link": hosted_token("/update-card/{t}/fresh"),
        "hosted.pause": hosted_token("/update-card/{t}/pause"),
        "hosted.unsubscribe": hosted_token("/unsubscribe/{t}"),
        "hosted.cancel_action": hosted_token("/cancel/{t}"),
        "hosted.cancel_start": [{"data": embed_unsigned}, {"data": embed_forged}],
        "hosted.portal_start": [{"data": embed_unsigned}, {"data": embed_forged}],
        "hosted.portal_subscription_action": hosted_token("/portal/{t}/subscriptions/sub_b/pause"),
        "hosted.portal_details_save": hosted_token("/portal/{t}/details"),
        "hosted.portal_tax_id_add": hosted_token("/portal/{t}/tax-ids"),
        "hosted.portal_tax_id_remove": hosted_token("/portal/{t}/tax-ids/txi_b/delete"),
        "hosted.portal_card": hosted_token("/portal/{t}/card"),
        "hosted.portal_fresh": hosted_token("/portal/{t}/fresh"),
        # Portal log-in is off for shop B: its public page does not exist.
        "hosted.portal_login_send": [{"data": {"email": "secret@b.example"}}],
        "hosted.winback_tap": hosted_token("/come-back/{t}"),
        "hosted.winback_complete": hosted_token("/come-back/{t}/complete"),
        "hosted.winback_fresh": hosted_token("/come-back/{t}/fresh"),
    }


def test_exempt_endpoints_refuse_unauthenticated_requests(web, app, exempt_world) -> None:
    from sqlalchemy import select

    from app.accounts.models import Workspace

    ids = db.session.execute(select(Workspace.id)).scalars().all()
    probes = _probes(exempt_world)
    assert probes.keys() == EXEMPT.keys()
    arguments = {
        "slug": exempt_world["slug"],
        "token": exempt_world["sms_token"],
        "subscription_id": "sub_b",
        "tax_id": "txi_b",
        "action": "pause",
    }
    urls = dict(post_routes(app, arguments))
    before = snapshot(*ids)
    for endpoint, requests in probes.items():
        for probe in requests:
            probe = dict(probe)
            url = probe.pop("path", urls[endpoint])
            response = web.post(url, **probe)
            assert 400 <= response.status_code < 500, (endpoint, probe, response.status_code)
            assert response.status_code not in (405, 429), (endpoint, response.status_code)
    assert snapshot(*ids) == before
