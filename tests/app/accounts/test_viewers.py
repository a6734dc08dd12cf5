"""Viewers look and never act (403 on every dashboard write but their own sign-in), and
never see a customer's email address in full: pages, CSV downloads, dispute evidence."""

from __future__ import annotations

import datetime as dt
import gzip

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.routing import IntegerConverter

from app.accounts.masking import MASK, mask_csv, mask_email
from app.audit.models import AuditEntry
from app.dashboard.chrome import VIEWER_MAY_POST
from app.extensions import db
from app.insights.models import InsightExport
from app.stripe import mirror

from .. import factories as f
from ..forms import csrf_token

#: Their own sign-in, and previews that save nothing.
ALLOWED = {
    "retry_policy.replay",
    "cancel_flows.preview",
    "cancel_flows.simulate",
    "emails.preview",
    "winback_settings.preview",
    "security.change_password",
    "security.revoke_session",
    "security.revoke_other_sessions",
    "security.start_two_factor",
    "security.confirm_two_factor",
    "security.replace_recovery_codes",
    "security.disable_two_factor",
}


def _dashboard_blueprints(app) -> set[str]:
    names = set()
    for name, bp in app.blueprints.items():
        hooks = bp.before_request_funcs.get(None, [])
        if any(getattr(h, "__name__", "") == "_signed_in" for h in hooks):
            names.add(name)
    return names


def test_the_allow_list_is_only_the_viewers_own_sign_in() -> None:
    assert VIEWER_MAY_POST == ALLOWED


def test_a_viewer_gets_403_on_every_dashboard_write(web, ctx, app) -> None:
    owner = f.user("owner@example.com")
    ws = f.workspace(owner)
    viewer = f.member(ws, "viewer", "viewer@example.com")
    db.session.commit()
    f.login(web, viewer)
    token = csrf_token(web, "/dashboard")
    dashboard = _dashboard_blueprints(app)
    assert {"team", "security", "recovery", "workspace", "api_keys"} <= dashboard
    walked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] not in dashboard:
            continue
        for method in sorted(rule.methods - {"GET", "HEAD", "OPTIONS"}):
            args = {
                name: 999_999 if isinstance(conv, IntegerConverter) else "x"
                for name, conv in rule._converters.items()
            }
            url = rule.build(args)[1]
            response = web.open(url, method=method, data={"csrf_token": token})
            if rule.endpoint in ALLOWED:
                assert response.status_code != 403, (rule.endpoint, response.status_code)
            else:
                assert response.status_code == 403, (method, rule.endpoint, response.status_code)
            walked += 1
    assert walked >= 80
    # Only the viewer's own sign-in changed (e.g. "sign out everywhere else").
    actions = db.session.execute(select(AuditEntry.action, AuditEntry.actor_id)).all()
    assert all(a.startswith("user.") and actor == viewer.id for a, actor in actions)


@given(st.emails())
def test_a_masked_address_keeps_only_the_first_letter_and_the_domain(email: str) -> None:
    masked = mask_email(email)
    local, _, domain = email.rpartition("@")
    assert masked == f"{local[0]}{MASK}@{domain}"


def test_mask_email_edges() -> None:
    assert mask_email("jo@example.com") == "j•••@example.com"
    assert mask_email(None) == "" and mask_email("") == ""
    assert mask_email("not an address") == MASK


def test_mask_csv_masks_only_addresses() -> None:
    data = b"ID,Email,Note\r\n1,jo@example.com,paid\r\n2,,x@\r\n"
    assert mask_csv(data).decode() == "ID,Email,Note\r\n1,j•••@example.com,paid\r\n2,,x@\r\n"


def _shop_with_a_customer():
    owner = f.user("owner@example.com")
    ws = f.workspace(owner)
    viewer = f.member(ws, "viewer", "viewer@example.com")
    mirror.upsert(
        db.session,
        ws.id,
        {"id": "cus_1", "object": "customer", "email": "jolene@customer.example", "name": None},
        1,
    )
    export = InsightExport(
        workspace_id=ws.id,
        kind="winback",
        first_day=dt.date(2026, 1, 1),
        last_day=dt.date(2026, 1, 31),
        status="done",
        content_gz=gzip.compress(b"ID,Email\r\n1,jolene@customer.example\r\n"),
    )
    db.session.add(export)
    db.session.commit()
    return owner, viewer, export


def test_viewers_see_customer_emails_masked_and_admins_in_full(web, ctx) -> None:
    owner, viewer, export = _shop_with_a_customer()
    f.login(web, viewer)
    for path in ("/customers", "/customers/cus_1", f"/exports/{export.id}/download"):
        body = web.get(path).get_data(as_text=True)
        assert "jolene@customer.example" not in body, path
        assert "j•••@customer.example" in body, path
    f.login(web, owner)
    for path in ("/customers", "/customers/cus_1", f"/exports/{export.id}/download"):
        assert "jolene@customer.example" in web.get(path).get_data(as_text=True), path
