"""No secret ever reaches a log line or a page it was not meant for.

One workspace holds every kind of secret Backstop keeps or is given (the Stripe
restricted key and webhook secret, the embed secret, an outbound webhook secret and its
previous one, a Slack URL, an API key, a Twilio auth token, a password) beside the
service's own (``SECRET_KEY``, the encryption keys, the platform's Stripe secrets).
Then merchants, staff, customers' browsers, Stripe, Twilio and on-call use it — the
happy paths and the bad input — while a handler of our own on the root logger takes
every record at DEBUG, and every response is kept. No secret, nor a telltale fragment
of one (the body after ``rk_test_``, its first or last stretch), may show anywhere,
except the three pages whose purpose is to hand an owner their own secret.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
import string
import time
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from app.accounts import services as accounts
from app.accounts.models import ApiKey, User, Workspace
from app.api.signing import sign as sign_embed
from app.crypto import decrypt
from app.extensions import db
from app.integrations import endpoints
from app.integrations.models import WebhookEndpoint
from app.secrets_at_rest import ENCRYPTED_COLUMNS
from app.sms.models import SmsSettings
from app.sms.transport import sign as sign_twilio
from app.stripe.models import StripeConnection
from app.stripe.signatures import sign as sign_stripe
from scripts.ops import ops

from ..app import factories as f
from ..app.dashboard.test_sms_settings import FORM as SMS_FORM
from ..app.forms import csrf_token
from ..app.stripe.test_oauth_connect import _consent
from ..conftest import WEBHOOK_SECRET, make_client
from .leaks import Leaks, every_log_record

PASSWORD = "pw-" + secrets.token_hex(12)
RESTRICTED_KEY = "rk_test_" + secrets.token_hex(16)
TWILIO_TOKEN = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
TWILIO_SID = "AC" + secrets.token_hex(16)

#: The pages whose purpose is to show an owner their own secret (once, or on demand).
SHOWN_TO_THEIR_OWNER = {
    ("GET", "/settings/embed"): ("embed secret",),
    ("POST", "/settings/api-keys"): ("API key",),
    # The customer's own portal link: handed to the merchant's server, then opened.
    ("POST", "/api/embed/portal"): ("portal link token",),
    ("GET", "/portal/<token>"): ("portal link token",),
    ("POST", "/settings/webhooks/<id>/secret"): (
        "webhook endpoint secret",
        "webhook endpoint previous secret",  # revealed before the rotation made it previous
    ),
}


class Browser:
    """The test client, keeping every answer (status line, headers, body)."""

    def __init__(self, web) -> None:
        self.web = web
        self.seen: list[tuple[str, str, str, str]] = []  # method, path pattern, what, text

    def open(self, method: str, url: str, *, pattern: str | None = None, **kw: Any):
        response = self.web.open(url, method=method, buffered=True, **kw)
        text = f"{response.status}\n{response.headers}\n{response.get_data(as_text=True)}"
        self.seen.append((method, pattern or url.split("?")[0], f"{method} {url}", text))
        assert response.status_code < 500, f"{method} {url}: {response.status}"
        return response

    def get(self, url: str, **kw: Any):
        return self.open("GET", url, **kw)

    def post(self, url: str, **kw: Any):
        return self.open("POST", url, **kw)

    def submit(self, url: str, data: dict[str, Any], *, page: str | None = None, **kw: Any):
        token = csrf_token(self.web, page or url)
        return self.post(url, data={**data, "csrf_token": token}, **kw)


@pytest.fixture
def service_secrets(app, monkeypatch):
    """The service's own secrets, fresh for this test (the test defaults are well known)."""
    settings = dataclasses.replace(
        app.config["BACKSTOP"],
        secret_key="sk-" + secrets.token_hex(24),
        encryption_keys=Fernet.generate_key().decode(),
    )
    monkeypatch.setitem(app.config, "BACKSTOP", settings)
    monkeypatch.setitem(app.config, "SECRET_KEY", settings.secret_key)
    return settings


@pytest.fixture
def people(web, ctx, service_secrets, sandbox_url):
    owner = accounts.create_user(db.session, "owner@leaky.example", PASSWORD)
    ws = f.workspace(owner, "Leaky Shop")
    ws2 = f.workspace(owner, "Leaky Two")
    viewer = f.member(ws, "viewer", "viewer@leaky.example")
    staff = accounts.create_user(db.session, "staff@backstop.example", PASSWORD, staff_role="admin")
    db.session.commit()
    # The merchant's Stripe account has a customer before it is connected (the import
    # brings it in).
    merchant = make_client(sandbox_url, RESTRICTED_KEY)
    customer = merchant.v1.customers.create(params={"email": "buyer@leaky.example"})
    return {
        **{"owner": owner, "ws": ws, "ws2": ws2, "viewer": viewer, "staff": staff},
        "customer": customer.id,
    }


def _oauth_connect(b: Browser, people) -> str:
    """Stripe Connect in the owner's second workspace: a forged callback, then the real
    consent; returns the access token Stripe granted."""
    b.get(f"/workspaces/{people['ws2'].slug}/switch")
    b.get("/stripe/oauth/callback?code=ac_forged&state=forged")
    b.get(_consent(b.web, "authorize"))
    db.session.expire_all()
    connection = db.session.execute(
        select(StripeConnection).where(StripeConnection.workspace_id == people["ws2"].id)
    ).scalar_one()
    b.get(f"/workspaces/{people['ws'].slug}/switch")
    return decrypt(connection.secret_enc)


def _merchant_flows(b: Browser, people, receiver) -> dict[str, str]:
    """Everything a merchant does with a secret, good and bad; returns what was made."""
    ws = people["ws"]
    b.post("/login", data={"email": "owner@leaky.example", "password": PASSWORD + "x"})
    b.submit("/login", {"email": "owner@leaky.example", "password": PASSWORD}, page="/login")
    b.submit(
        "/signup",
        {"email": "new@leaky.example", "password": PASSWORD[:5], "name": "New", "workspace": "New"},
        page="/signup",
    )
    oauth_token = _oauth_connect(b, people)

    # Stripe: a wrong kind of key, then the restricted key (the sandbox account).
    stripe_page = "/settings/stripe"
    b.submit(
        "/settings/stripe/restricted-key",
        {"key": "sk_test_" + RESTRICTED_KEY[8:]},
        page=stripe_page,
    )
    b.submit("/settings/stripe/restricted-key", {"key": RESTRICTED_KEY}, page=stripe_page)
    db.session.expire_all()
    connection = db.session.execute(
        select(StripeConnection).where(StripeConnection.workspace_id == ws.id)
    ).scalar_one()
    made = {
        "Stripe webhook secret": decrypt(connection.webhook_secret_enc),
        "Stripe OAuth access token": oauth_token,
    }

    # Stripe calls us: signed right, signed wrong, not JSON.
    body = b'{"id": "evt_leak1", "object": "event", "type": "customer.updated", "data": {}}'
    for secret in (made["Stripe webhook secret"], "whsec_wrong"):
        b.post(
            f"/webhooks/stripe/{ws.slug}",
            data=body,
            content_type="application/json",
            headers={"Stripe-Signature": sign_stripe(body, secret, int(time.time()))},
        )
    b.post(
        "/webhooks/stripe",
        data=b"{not json",
        content_type="application/json",
        headers={"Stripe-Signature": "t=1,v1=00"},
    )

    # The embed secret: made, shown to the owner, used, misused.
    b.submit("/settings/embed/rotate", {}, page="/settings/embed")
    db.session.expire_all()
    made["embed secret"] = decrypt(db.session.get(type(ws), ws.id).embed_secret_enc)
    now = int(time.time())
    for secret in (made["embed secret"], "whsec_" + made["embed secret"][6:][::-1]):
        payload = {
            "workspace": ws.slug,
            "customer": "cus_nobody",
            "timestamp": now,
            "signature": sign_embed(secret, "cus_nobody", now),
        }
        b.post("/api/embed/portal", json=payload)
    b.post("/api/embed/cancel", json={"workspace": ws.slug, "signature": "x" * 64})

    # The customer's portal link: asked for by the merchant's server, opened.
    asked = {
        "workspace": ws.slug,
        "customer": people["customer"],
        "timestamp": now,
        "signature": sign_embed(made["embed secret"], people["customer"], now),
    }
    answer = b.post("/api/embed/portal", json=asked)
    assert answer.status_code == 200, answer.json
    link = answer.json["url"]
    made["portal link token"] = token = link.rsplit("/", 1)[1]
    assert b.get(f"/portal/{token}", pattern="/portal/<token>").status_code == 200
    b.get(f"/portal/{token}/details", pattern="/portal/<token>")
    b.get(f"/portal/{token[:-2]}xx")  # a mistyped link

    # An outbound webhook endpoint: added, revealed, tested, rotated, its log read.
    b.submit("/settings/webhooks", {"url": receiver.url, "description": "CRM", "all_events": "1"})
    endpoint = db.session.execute(select(WebhookEndpoint)).scalar_one()
    page = f"/settings/webhooks/{endpoint.id}"
    made["webhook endpoint previous secret"] = endpoints.secret(endpoint)
    b.submit(f"{page}/secret", {}, page=page, pattern="/settings/webhooks/<id>/secret")
    b.submit(f"{page}/test", {"event_type": "cancel.session.saved"}, page=page)
    b.submit(f"{page}/rotate", {"overlap": "1"}, page=page)
    db.session.expire_all()
    made["webhook endpoint secret"] = endpoints.secret(db.session.get(WebhookEndpoint, endpoint.id))
    b.submit(f"{page}/test", {"event_type": "recovery.campaign.recovered"}, page=page)
    b.submit("/settings/webhooks", {"url": "ftp://crm.example/hook", "all_events": "1"})
    b.get(page)

    # Slack: the URL is the secret (its last segment the token).
    made["Slack URL"] = receiver.url.replace(
        "/hook", f"/services/T0LEAK/B0LEAK/{secrets.token_urlsafe(18)}"
    )
    slack = {"kind": "slack", "url": made["Slack URL"], "posts": ["recovered"]}
    b.submit("/settings/notifications", slack)
    b.submit("/settings/notifications", {**slack, "kind": "irc"})  # bad input
    b.submit("/settings/notifications", {**slack, "posts": ["nonsense"]})
    listed = b.get("/settings/notifications").get_data(as_text=True)
    channel_id = re.search(r"/settings/notifications/(\d+)/test", listed).group(1)
    b.submit(f"/settings/notifications/{channel_id}/test", {}, page="/settings/notifications")

    # An API key: shown once, used, misused.
    created = b.submit("/settings/api-keys", {"name": "CRM", "scope": "read_write"})
    made["API key"] = (
        created.get_data(as_text=True).split('id="api-key-secret">', 1)[1].split("<", 1)[0]
    )
    for key in (made["API key"], made["API key"][:-4] + "0000", "nonsense"):
        auth = {"Authorization": f"Bearer {key}"}
        b.get("/api/v1/campaigns", headers=auth)
        b.get("/api/v1/events?cursor=%%%bad", headers=auth)
        b.get("/api/v1/campaigns/cmp_nope", headers=auth)
        b.post("/api/v1/campaigns/cmp_nope/pause", headers=auth, json={"bad": True})

    # Twilio: a bad token refused, the real one saved, Twilio calling us back.
    sms = {**SMS_FORM, "account_sid": TWILIO_SID, "auth_token": TWILIO_TOKEN}
    b.submit("/settings/sms", {**sms, "auth_token": TWILIO_TOKEN[:-1] + "!"})
    b.submit("/settings/sms", {**sms, "from_number": "not a number"})
    b.submit("/settings/sms", sms)
    b.submit("/settings/sms/test", {"to": "+1 500 555 0006"}, page="/settings/sms")
    hook = db.session.execute(select(SmsSettings.webhook_token)).scalar_one()
    url = f"http://localhost/webhooks/twilio/{hook}"
    params = {"From": "+15005550006", "Body": "HELP", "AccountSid": TWILIO_SID}
    for token in (TWILIO_TOKEN, TWILIO_TOKEN[::-1]):
        b.post(url, data=params, headers={"X-Twilio-Signature": sign_twilio(token, url, params)})
    return made


def _every_plain_page(b: Browser, app) -> None:
    for rule in app.url_map.iter_rules():
        if (
            "GET" in rule.methods
            and not rule.arguments
            and not rule.rule.startswith(("/admin", "/static", "/hosted/static", "/logout"))
        ):
            b.get(rule.rule)


def _back_office(b: Browser, app, staff) -> None:
    """Every back-office list, and the details of its first rows, as admin staff."""
    f.login(b.web, staff)
    b.get("/admin/")
    [admin] = app.extensions["admin"]
    for view in admin._views:
        model = getattr(view, "model", None)
        if model is None:
            continue
        b.get(f"{view.url}/")
        for row_id in db.session.execute(select(model.id).limit(3)).scalars():
            b.get(f"{view.url}/details/?id={row_id}")
    ws = db.session.execute(select(Workspace).limit(1)).scalar_one()
    edit = f"/admin/workspaces/edit/?id={ws.id}"
    b.submit(edit, {"name": ws.name, "timezone": "Nowhere/Else", "brand_color": "#000000"})


def _on_call(app, people) -> list[str]:
    """The on-call commands near secrets, and their refusals; returns what each printed."""
    runner = app.test_cli_runner()
    staff = ["create-staff", "--role", "support", "--password-stdin", "--email"]
    runs = [
        (["check-keys"], None),
        (["rotate-keys", "--dry-run"], None),
        (["rotate-keys"], None),
        (["resync", "--workspace", people["ws"].slug], None),
        (["resync", "--workspace", "no-such-shop"], None),
        ([*staff, "s2@backstop.example"], PASSWORD + "\n"),
        ([*staff, "owner@leaky.example"], PASSWORD + "\n"),  # taken: refused
    ]
    printed = []
    for args, given in runs:
        result = runner.invoke(ops, args, input=given)
        assert result.exception is None or isinstance(result.exception, SystemExit), args
        printed.append(f"{args}: {result.exit_code}\n{result.output}\n{result.stderr}")
    return printed


def _stored_secrets_and_hashes() -> list[str]:
    """Ciphertexts and hashes: harmless-looking, but never for a page to show."""
    db.session.expire_all()
    found = [
        token
        for column in ENCRYPTED_COLUMNS
        for token in db.session.execute(select(column.column)).scalars()
        if token
    ]
    found += db.session.execute(select(ApiKey.secret_hash)).scalars().all()
    found += [u.password_hash for u in db.session.execute(select(User)).scalars()]
    return found


def test_no_secret_reaches_a_log_or_a_page(app, web, people, receiver) -> None:
    b = Browser(web)
    with every_log_record() as logged:
        made = _merchant_flows(b, people, receiver)
        _every_plain_page(b, app)
        f.login(web, people["viewer"])
        _every_plain_page(b, app)
        _back_office(b, app, people["staff"])
        printed = _on_call(app, people)
    settings = app.config["BACKSTOP"]
    leaks = Leaks(
        {
            **made,
            "Stripe restricted key": RESTRICTED_KEY,
            "Twilio auth token": TWILIO_TOKEN,
            "password": PASSWORD,
            "SECRET_KEY": app.config["SECRET_KEY"],
            "platform Stripe webhook secret": WEBHOOK_SECRET,
            **{f"encryption key {i + 1}": k for i, k in enumerate(settings.fernet_keys)},
        },
        # The sandbox knows the platform by this key, whose body is also in the (public)
        # client id: only the whole key counts.
        whole_only={"platform Stripe secret key": settings.stripe_secret_key},
    )
    # The flows did happen: two webhook tests and a Slack test went out, over 100 pages.
    assert len(receiver.requests) >= 3 and len(b.seen) > 100 and len(logged) > 100
    for n, text in enumerate(logged):
        leaks.scan(f"log record {n}", text)
    stored = _stored_secrets_and_hashes()
    for method, pattern, what, text in b.seen:
        leaks.scan(what, text, allowed=SHOWN_TO_THEIR_OWNER.get((method, pattern), ()))
        leaks.found += [f"a stored ciphertext or hash in {what}" for s in stored if s in text]
    for n, sent in enumerate(receiver.requests):  # what we posted to the merchant's URLs
        leaks.scan(f"outbound request {n}", f"{sent['headers']}\n{sent['body']}")
    for text in printed:
        leaks.scan("CLI output", text)
    assert not leaks.found, "\n".join(leaks.found)
