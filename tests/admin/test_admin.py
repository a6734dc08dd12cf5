"""The back office: who gets in, what support may not do, what admins do (audited),
secrets never shown, bounded counts and the ``?workspace_id=`` scope."""

from __future__ import annotations

import datetime as dt
import re
import secrets

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select

from admin.records import AuditLogView
from app.audit.models import AuditEntry
from app.audit.services import record
from app.crypto import encrypt
from app.extensions import db
from app.outbox.models import OutboxMessage
from app.stripe.models import MirrorCustomer, StripeEvent

from ..app import factories as f
from ..app.forms import csrf_token

WEBHOOK_SECRET = "whsec_admin_never_shows_this"
LISTS = [
    "/admin/",
    "/admin/workspaces/",
    "/admin/users/",
    "/admin/stripe-connections/",
    "/admin/stripe-events/",
    "/admin/outbox/",
    "/admin/audit-log/",
]


def staff(web, role: str | None, email: str | None = None):
    user = f.user(email, staff_role=role)
    db.session.commit()
    f.login(web, user)
    return user


def stored_event(
    ws, *, status: str = "failed", event_type: str = "customer.created", account: str | None = None
) -> StripeEvent:
    body = f.event(event_type, account=account)
    event = StripeEvent(
        stripe_event_id=body["id"],
        workspace_id=ws.id,
        type=event_type,
        account=account,
        stripe_created=body["created"],
        payload=body,
        status=status,
        attempts=1,
        error="boom" if status == "failed" else None,
    )
    db.session.add(event)
    db.session.flush()
    return event


@pytest.fixture
def shop(ctx):
    """A workspace on a restricted key of its own sandbox account, with a failed event."""
    key = "rk_test_" + secrets.token_hex(8)
    ws = f.workspace(name="Acme")
    conn = f.connection(
        ws, account="acct_acme", mode="restricted_key", webhook_secret=WEBHOOK_SECRET
    )
    conn.secret_enc = encrypt(key)
    event = stored_event(ws, account="acct_acme")
    db.session.commit()
    return ws, conn, event, key


def post_action(web, view: str, action: str, *ids: int, query: str = ""):
    token = csrf_token(web, "/admin/")
    return web.post(
        f"/admin/{view}/action/{query}",
        data={"csrf_token": token, "action": action, "rowid": [str(i) for i in ids]},
    )


def audit_actions() -> list[str]:
    db.session.expire_all()
    return list(db.session.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars())


# -- who gets in ------------------------------------------------------------------------------


def test_anonymous_is_sent_to_log_in(web, ctx) -> None:
    response = web.get("/admin/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/admin/"
    events = web.get("/admin/stripe-events/?workspace_id=3")
    assert events.headers["Location"] == "/login?next=/admin/stripe-events/%3Fworkspace_id%3D3"


def test_merchants_get_403(web, shop) -> None:
    ws, _, _, _ = shop
    f.login(web, ws.memberships[0].user)
    for url in LISTS:
        assert web.get(url).status_code == 403, url


def test_deactivated_staff_get_nothing(web, ctx) -> None:
    user = staff(web, "admin")
    user.is_active_user = False
    db.session.commit()
    response = web.get("/admin/")  # Flask-Login: an inactive user is not authenticated
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


# -- support reads, never writes ---------------------------------------------------------------


def test_support_can_list_and_view_everything(web, shop) -> None:
    ws, conn, event, _ = shop
    staff(web, "support")
    for url in LISTS:
        assert web.get(url).status_code == 200, url
    details = {"workspaces": ws.id, "stripe-connections": conn.id, "stripe-events": event.id}
    for view, row_id in details.items():
        page = web.get(f"/admin/{view}/details/?id={row_id}")
        assert page.status_code == 200, view
    home = web.get("/admin/").get_data(as_text=True)
    assert "support: read-only" in home


def test_support_sees_no_write_controls(web, shop) -> None:
    _, conn, event, _ = shop
    staff(web, "support")
    for url in (
        "/admin/stripe-events/",
        f"/admin/stripe-events/details/?id={event.id}",
        "/admin/users/",
        f"/admin/stripe-connections/details/?id={conn.id}",
    ):
        page = web.get(url).get_data(as_text=True)
        for control in ('name="action"', "/edit/", "/delete/", 'value="replay"', "Re-sync"):
            assert control not in page, (url, control)


def test_support_cannot_edit_delete_or_run_actions(web, shop) -> None:
    ws, conn, event, _ = shop
    support = staff(web, "support")
    merchant = ws.memberships[0].user
    token = csrf_token(web, "/admin/")
    assert web.get(f"/admin/users/edit/?id={merchant.id}").status_code == 403
    assert (
        web.post(
            f"/admin/users/edit/?id={merchant.id}",
            data={
                "csrf_token": token,
                "name": "Hacked",
                "is_active_user": "",
                "staff_role": "admin",
            },
        ).status_code
        == 403
    )
    assert (
        web.post(
            "/admin/workspaces/delete/", data={"csrf_token": token, "id": str(ws.id)}
        ).status_code
        == 403
    )
    assert post_action(web, "stripe-events", "replay", event.id).status_code == 403
    assert post_action(web, "stripe-connections", "resync", conn.id).status_code == 403
    assert post_action(web, "users", "deactivate", merchant.id).status_code == 403
    assert web.get("/admin/users/new/").status_code == 403
    db.session.expire_all()
    assert (event.status, event.attempts) == ("failed", 1)
    assert merchant.is_active_user and merchant.name is None and merchant.staff_role is None
    assert support.staff_role == "support"
    assert audit_actions() == []


# -- admins act, and every action is audited ---------------------------------------------------


def test_admin_replays_an_event_and_the_audit_log_records_it(web, shop) -> None:
    ws, _, event, _ = shop
    admin = staff(web, "admin")
    response = post_action(web, "stripe-events", "replay", event.id)
    assert response.status_code == 302
    db.session.expire_all()
    # replay() set it back to "received"; the eager task processed it again.
    assert (event.status, event.attempts, event.error) == ("processed", 2, None)
    assert db.session.execute(select(MirrorCustomer)).scalar_one().workspace_id == ws.id
    entry = db.session.execute(select(AuditEntry)).scalar_one()
    assert (entry.action, entry.actor_id, entry.actor_label) == (
        "stripe_event.replay",
        admin.id,
        admin.email,
    )
    assert (entry.target_type, entry.target_id, entry.workspace_id) == (
        "stripe_event",
        str(event.id),
        ws.id,
    )
    assert entry.details["stripe_event_id"] == event.stripe_event_id


def test_the_event_page_has_the_replay_button_and_pretty_json(web, shop) -> None:
    _, _, event, _ = shop
    staff(web, "admin")
    page = web.get(f"/admin/stripe-events/details/?id={event.id}").get_data(as_text=True)
    assert 'value="replay"' in page and f'name="rowid" value="{event.id}"' in page
    assert f"&#34;id&#34;: &#34;{event.stripe_event_id}&#34;" in page  # indented, escaped
    assert re.search(r"\n  &#34;type&#34;: &#34;customer.created&#34;", page)


def test_admin_resync_restarts_the_import(web, shop) -> None:
    ws, conn, _, _ = shop
    conn.import_status, conn.import_progress = "failed", {"customers": {"done": False}}
    conn.import_error = "The import stopped: boom"
    db.session.commit()
    admin = staff(web, "admin")
    assert post_action(web, "stripe-connections", "resync", conn.id).status_code == 302
    db.session.expire_all()
    assert conn.import_status == "done" and conn.import_error is None  # eager: ran at once
    assert set(conn.import_progress) == {"customers", "subscriptions", "invoices"}
    entry = db.session.execute(select(AuditEntry)).scalar_one()
    assert (entry.action, entry.actor_id, entry.workspace_id) == (
        "stripe_connection.resync",
        admin.id,
        ws.id,
    )


def test_resync_skips_a_disconnected_workspace(web, ctx) -> None:
    ws = f.workspace()
    conn = f.connection(ws, status="disconnected")
    db.session.commit()
    staff(web, "admin")
    assert post_action(web, "stripe-connections", "resync", conn.id).status_code == 302
    db.session.expire_all()
    assert conn.import_status == "done" and audit_actions() == []


def test_admin_edits_a_user_and_the_change_is_audited(web, shop) -> None:
    ws, _, _, _ = shop
    admin = staff(web, "admin")
    merchant = ws.memberships[0].user
    token = csrf_token(web, f"/admin/users/edit/?id={merchant.id}")
    response = web.post(
        f"/admin/users/edit/?id={merchant.id}",
        data={"csrf_token": token, "name": "Jo", "staff_role": "support"},
    )  # unticked: deactivate
    assert response.status_code == 302
    db.session.expire_all()
    assert (merchant.name, merchant.staff_role, merchant.is_active_user) == ("Jo", "support", False)
    entry = db.session.execute(select(AuditEntry)).scalar_one()
    assert (entry.action, entry.actor_id, entry.target_id) == (
        "user.update",
        admin.id,
        str(merchant.id),
    )
    assert entry.details["changes"]["staff_role"] == [None, "support"]
    assert entry.details["changes"]["is_active_user"] == [True, False]
    assert "password_hash" not in entry.details["changes"]


def test_admin_deactivates_and_reactivates_but_never_themselves(web, shop) -> None:
    ws, _, _, _ = shop
    admin = staff(web, "admin")
    merchant = ws.memberships[0].user
    post_action(web, "users", "deactivate", merchant.id, admin.id)
    db.session.expire_all()
    assert not merchant.is_active_user and admin.is_active_user
    post_action(web, "users", "reactivate", merchant.id)
    db.session.expire_all()
    assert merchant.is_active_user
    assert audit_actions() == ["user.deactivate", "user.reactivate"]
    token = csrf_token(web, f"/admin/users/edit/?id={admin.id}")
    web.post(
        f"/admin/users/edit/?id={admin.id}",
        data={"csrf_token": token, "name": "Me", "is_active_user": "y", "staff_role": "support"},
    )
    db.session.expire_all()
    assert admin.staff_role == "admin" and audit_actions() == ["user.deactivate", "user.reactivate"]


def test_admin_edits_a_workspace_but_not_its_slug(web, shop) -> None:
    ws, _, _, _ = shop
    staff(web, "admin")
    url = f"/admin/workspaces/edit/?id={ws.id}"
    token = csrf_token(web, url)
    bad = web.post(
        url,
        data={
            "csrf_token": token,
            "name": "Acme",
            "timezone": "Mars/Base",
            "brand_color": "#123456",
        },
    )
    assert bad.status_code == 200 and "Not an IANA time zone" in bad.get_data(as_text=True)
    ok = web.post(
        url,
        data={
            "csrf_token": token,
            "name": "Acme Inc",
            "slug": "stolen",
            "timezone": "Europe/Paris",
            "brand_color": "#123456",
        },
    )
    assert ok.status_code == 302
    db.session.expire_all()
    assert (ws.name, ws.slug, ws.timezone) == ("Acme Inc", "acme", "Europe/Paris")
    assert audit_actions() == ["workspace.update"]


# -- secrets, counts, scope --------------------------------------------------------------------


def test_connection_secrets_never_appear(web, shop) -> None:
    ws, conn, _, key = shop
    encrypted = (conn.secret_enc, conn.webhook_secret_enc)
    staff(web, "admin")
    post_action(web, "stripe-connections", "resync", conn.id)
    pages = [
        "/admin/stripe-connections/",
        f"/admin/stripe-connections/details/?id={conn.id}",
        f"/admin/stripe-connections/edit/?id={conn.id}",
        "/admin/stripe-connections/new/",
        "/admin/stripe-connections/?search=acct",
        "/admin/stripe-connections/export/csv/",
        f"/admin/workspaces/details/?id={ws.id}",
        "/admin/audit-log/",
        f"/admin/audit-log/details/?id={audit_ids()[0]}",
    ]
    for url in pages:
        html = web.get(url, follow_redirects=True).get_data(as_text=True)
        for secret in (*encrypted, key, WEBHOOK_SECRET, "secret_enc", "Secret Enc"):
            assert secret not in html, (url, secret)


def audit_ids() -> list[int]:
    return list(db.session.execute(select(AuditEntry.id)).scalars())


def test_the_list_count_is_capped(web, ctx, app, monkeypatch) -> None:
    monkeypatch.setattr(AuditLogView, "count_cap", 5)
    for i in range(8):
        record(db.session, actor_id=None, actor_label="cli:test", action=f"test.{i}")
    db.session.commit()
    staff(web, "support")
    statements: list[str] = []

    def remember(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    sa_event.listen(db.engine, "before_cursor_execute", remember)
    try:
        page = web.get("/admin/audit-log/").get_data(as_text=True)
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", remember)
    assert "List (5+)" in page
    counts = [s for s in statements if "count(" in s.lower() and "audit_entry" in s]
    assert counts and all("LIMIT" in s for s in counts), counts
    monkeypatch.setattr(AuditLogView, "count_cap", 10)
    assert "List (8)" in web.get("/admin/audit-log/").get_data(as_text=True)


def test_workspace_scope_limits_lists_details_and_actions(web, app, ctx) -> None:
    ours, theirs = f.workspace(name="Ours"), f.workspace(name="Theirs")
    f.connection(ours, account="acct_ours")
    f.connection(theirs, account="acct_theirs")
    mine, other = stored_event(ours, account="acct_ours"), stored_event(theirs)
    db.session.commit()
    staff(web, "admin")
    page = web.get(f"/admin/stripe-events/?workspace_id={ours.id}").get_data(as_text=True)
    assert mine.stripe_event_id in page and other.stripe_event_id not in page
    assert "List (1)" in page and "Only records of workspace" in page
    assert re.search(rf'details/\?id={mine.id}&amp;[^"]*workspace_id={ours.id}"', page)
    # get_one refuses a row outside the scope, on every page that loads one.
    outside = web.get(f"/admin/stripe-events/details/?id={other.id}&workspace_id={ours.id}")
    assert outside.status_code == 302
    assert web.get(f"/admin/stripe-events/details/?id={other.id}").status_code == 200
    post_action(web, "stripe-events", "replay", other.id, query=f"?workspace_id={ours.id}")
    db.session.expire_all()
    assert other.status == "failed" and audit_actions() == []
    assert web.get("/admin/stripe-events/?workspace_id=abc").status_code == 400
    view = app.extensions["admin"][0]._views[4]  # the events view
    assert view.endpoint == "stripe_events"
    with app.test_request_context(f"/admin/stripe-events/?workspace_id={ours.id}"):
        assert view.get_one(str(mine.id)).id == mine.id
        assert view.get_one(str(other.id)) is None
        assert view.get_one("nope") is None


def test_workspace_details_count_members_and_customers(web, ctx) -> None:
    ws = f.workspace(name="Counted")
    f.member(ws, "viewer", "viewer@example.com")
    for i in range(3):
        db.session.add(
            MirrorCustomer(
                workspace_id=ws.id, stripe_id=f"cus_{i}", data={}, email=f"c{i}@example.com"
            )
        )
    db.session.commit()
    staff(web, "support")
    page = web.get(f"/admin/workspaces/details/?id={ws.id}").get_data(as_text=True)
    assert "<strong>2</strong>" in page and "viewer@example.com" in page
    assert re.search(r"Customers \(mirror\)</b>\s*</td>\s*<td>\s*3\s*</td>", page)
    assert f"/admin/stripe-events/?workspace_id={ws.id}" in page


def test_outbox_html_is_shown_in_a_sandboxed_frame(web, ctx) -> None:
    message = OutboxMessage(
        template="password_reset",
        to_email="jo@example.com",
        from_email="no-reply@backstop.localhost",
        subject="Reset",
        body_text="Reset it",
        headers={},
        body_html='<p class="x">Hello</p><script>alert(1)</script>',
        created_at=dt.datetime.now(dt.UTC),
    )
    db.session.add(message)
    db.session.commit()
    staff(web, "support")
    page = web.get(f"/admin/outbox/details/?id={message.id}").get_data(as_text=True)
    assert '<iframe class="email-preview" sandbox=""' in page
    assert 'srcdoc="&lt;p class=&#34;x&#34;&gt;Hello&lt;/p&gt;&lt;script&gt;' in page
    assert "<script>alert(1)" not in page


def test_home_counts_failed_events_and_links_to_them(web, shop) -> None:
    ws, _, failed, _ = shop
    fine = stored_event(ws, status="processed")
    db.session.commit()
    staff(web, "support")
    home = web.get("/admin/").get_data(as_text=True)
    link = re.search(r'href="([^"]*flt0_status_equals=failed[^"]*)"', home)
    assert link, "the home page links to the failed events"
    page = web.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert failed.stripe_event_id in page and fine.stripe_event_id not in page
