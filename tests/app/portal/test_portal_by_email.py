"""A portal link by email: "Email me a new link" on an expired link's page, and the
workspace's login page where a customer types their address. The link only ever goes
to the address Stripe has; the page never says whether an address is a customer's."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from app.extensions import db
from app.outbox.models import OutboxMessage
from app.portal import settings as portal_settings
from app.portal.models import PortalLink

LINK = re.compile(r"(http://localhost/portal/[\w-]+)")


def _sent(customer: str) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(
        db.session.execute(
            select(OutboxMessage).where(
                OutboxMessage.customer_stripe_id == customer,
                OutboxMessage.template == "portal_link",
            )
        ).scalars()
    )


def test_an_expired_link_emails_a_new_one_to_the_customers_own_address(web, portal_shop) -> None:
    sub = portal_shop.subscribe("pm_card_visa", email="ann@example.com")
    path = portal_shop.open_portal(web, sub.customer)
    link = db.session.execute(select(PortalLink)).scalar_one()
    link.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    db.session.commit()
    expired = web.get(path).get_data(as_text=True)
    assert "Email me a new link" in expired
    done = web.post(f"{path}/fresh", data={"email": "attacker@evil.example"})
    assert "Check your inbox" in done.get_data(as_text=True)
    [message] = _sent(sub.customer)
    assert message.to_email == "ann@example.com" and "attacker" not in message.body_text
    fresh = LINK.search(message.body_text).group(1).removeprefix("http://localhost")
    assert fresh != path and web.get(fresh).status_code == 200
    for _ in range(3):
        web.post(f"{path}/fresh")
    assert len(_sent(sub.customer)) == 3  # at most three an hour
    assert "No new link" in web.post(f"{path}/fresh").get_data(as_text=True)


def test_the_login_page_is_off_until_the_merchant_turns_it_on(web, portal_shop) -> None:
    slug = portal_shop.workspace.slug
    assert web.get(f"/portal/login/{slug}").status_code == 404
    portal_settings.save(
        db.session, portal_shop.workspace.id, {"has_login_page": True}, known_price_ids=None
    )
    db.session.commit()
    assert web.get(f"/portal/login/{slug}").status_code == 200
    assert web.get("/portal/login/no-such-shop").status_code == 404


def test_the_login_page_never_tells_who_is_a_customer(web, portal_shop) -> None:
    portal_settings.save(
        db.session, portal_shop.workspace.id, {"has_login_page": True}, known_price_ids=None
    )
    db.session.commit()
    sub = portal_shop.subscribe("pm_card_visa", email="Ann@Example.com")
    portal_shop.pump()  # the customer reaches the mirror
    slug = portal_shop.workspace.slug
    known = web.post(f"/portal/login/{slug}", data={"email": "ann@example.com"})
    unknown = web.post(f"/portal/login/{slug}", data={"email": "nobody@example.com"})

    def page(response) -> str:
        text = response.get_data(as_text=True)
        return text.replace("ann@example.com", "X").replace("nobody@example.com", "X")

    assert known.status_code == unknown.status_code == 200 and page(known) == page(unknown)
    [message] = _sent(sub.customer)
    assert message.to_email.lower() == "ann@example.com"
    bad = web.post(f"/portal/login/{slug}", data={"email": "not an email"})
    assert bad.status_code == 400
