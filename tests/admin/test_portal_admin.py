"""The back office's portal: staff read portal links (never a token), waiting plan
changes and custom domains; admin staff revoke links and re-check DNS, audited;
support staff only read."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app.accounts import hosts
from app.audit.models import AuditEntry
from app.extensions import db
from app.models import utcnow
from app.portal import links
from app.portal.models import PortalChange, PortalLink

from ..app import factories as f
from ..app.forms import csrf_token
from .test_recovery_admin import staff


@pytest.fixture
def portal(ctx):
    ws = f.workspace(name="Ours")
    link, token = links.issue(db.session, ws.id, "cus_portal1", now=utcnow())
    db.session.add(
        PortalChange(
            workspace_id=ws.id,
            customer_stripe_id="cus_portal1",
            subscription_stripe_id="sub_portal1",
            from_price_id="price_a",
            to_price_id="price_b",
            to_plan_name="Lite",
            due_at=utcnow() + dt.timedelta(days=10),
        )
    )
    hosts.set_domain(db.session, ws.id, "billing.ours.example")
    db.session.commit()
    return {"ws": ws, "link": link, "token": token}


def _act(web, view: str, action: str, *ids: int):
    token = csrf_token(web, f"/admin/{view}/")
    return web.post(
        f"/admin/{view}/action/",
        data={"csrf_token": token, "action": action, "rowid": [str(i) for i in ids]},
    )


@pytest.mark.parametrize("role", ["support", "admin"])
def test_staff_read_links_changes_and_domains(web, portal, role) -> None:
    staff(web, role)
    page = web.get("/admin/portal-links/").get_data(as_text=True)
    assert "cus_portal1" in page and portal["token"] not in page
    details = web.get(f"/admin/portal-links/details/?id={portal['link'].id}").get_data(as_text=True)
    assert portal["token"] not in details and portal["link"].token_hash not in details
    assert "Lite" in web.get("/admin/portal-changes/").get_data(as_text=True)
    assert "billing.ours.example" in web.get("/admin/custom-domains/").get_data(as_text=True)


def test_admin_staff_revoke_a_link_and_support_cannot(web, portal) -> None:
    staff(web, "support")
    _act(web, "portal-links", "revoke", portal["link"].id)
    db.session.expire_all()
    assert db.session.get(PortalLink, portal["link"].id).revoked_at is None
    staff(web, "admin")
    _act(web, "portal-links", "revoke", portal["link"].id)
    db.session.expire_all()
    assert db.session.get(PortalLink, portal["link"].id).revoked_at is not None
    assert web.get(f"/portal/{portal['token']}").status_code == 410
    actions = db.session.execute(select(AuditEntry.action)).scalars().all()
    assert "portal_link.revoke" in actions


def test_admin_staff_recheck_a_domain(web, portal, monkeypatch) -> None:
    monkeypatch.setattr(hosts, "dns_resolve", lambda host: ["localhost"])
    staff(web, "admin")
    domain = hosts.domain_of(db.session, portal["ws"].id)
    _act(web, "custom-domains", "verify", domain.id)
    db.session.expire_all()
    assert hosts.domain_of(db.session, portal["ws"].id).is_verified
