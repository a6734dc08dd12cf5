"""Settings → Portal over HTTP: the merchant's plans from Stripe, saving (custom CSS
sanitised, bad values refused with nothing changed), the custom domain, viewers
read-only, and opening a customer's portal from their page."""

from __future__ import annotations

from sqlalchemy import select

from app.accounts import hosts
from app.audit.models import AuditEntry
from app.extensions import db
from app.portal.settings import config_of

from .. import factories as f
from ..forms import csrf_token

PAGE = "/settings/portal"


def _owner(web, portal_shop):
    owner = f.member(portal_shop.workspace, "owner")
    db.session.commit()
    f.login(web, owner)
    return owner


def _save(web, **overrides):
    data = {
        "csrf_token": csrf_token(web, PAGE),
        "downgrade_timing": "now",
        "pause_months": ["1", "6"],
        "can_cancel": "1",
        "detail_fields": ["email", "tax_id"],
        "button_style": "pill",
        "custom_css": ".subscription { border-color: #ccc } @import url(https://x.example/a.css);",
        "support_email": "help@shop.example",
        "terms_url": "https://shop.example/terms",
    }
    data.update(overrides)
    return web.post(PAGE, data=data)


def test_the_page_lists_the_accounts_plans(web, portal_shop) -> None:
    _owner(web, portal_shop)
    html = web.get(PAGE).get_data(as_text=True)
    for name in ("Studio", "Studio Plus", "Lite"):
        assert name in html
    assert "Backstop.portal" in html and "/portal/start" in html


def test_saving_sanitises_the_css_and_says_what_went(web, portal_shop) -> None:
    _owner(web, portal_shop)
    response = _save(web, switch_price_ids=[portal_shop.plus, portal_shop.price])
    assert response.status_code == 302
    config = config_of(db.session, portal_shop.workspace.id)
    assert config.switch_price_ids == [portal_shop.plus, portal_shop.price]
    assert config.pause_months == [1, 6] and config.downgrade_timing == "now"
    assert config.button_style == "pill" and not config.shows_powered_by
    assert "@import" not in config.custom_css and "border-color: #ccc" in config.custom_css
    assert "Removed from your CSS: @import" in web.get(PAGE).get_data(as_text=True)
    audit = db.session.execute(select(AuditEntry.action)).scalars().all()
    assert "portal.settings_saved" in audit


def test_bad_values_change_nothing(web, portal_shop) -> None:
    _owner(web, portal_shop)
    before = config_of(db.session, portal_shop.workspace.id)
    for bad in (
        {"switch_price_ids": ["price_not_theirs"]},
        {"support_email": "nope"},
        {"terms_url": "javascript:alert(1)"},
        {"button_style": "wobbly"},
        {"downgrade_timing": "whenever"},
    ):
        response = _save(web, **bad)
        assert response.status_code == 400, bad
        assert "Nothing was changed" in response.get_data(as_text=True)
    db.session.expire_all()
    assert config_of(db.session, portal_shop.workspace.id) == before


def test_viewers_read_but_cannot_change(web, portal_shop) -> None:
    viewer = f.member(portal_shop.workspace, "viewer")
    db.session.commit()
    f.login(web, viewer)
    html = web.get(PAGE).get_data(as_text=True)
    assert "Only owners and admins can change these." in html
    token = csrf_token(web, PAGE)
    assert web.post(PAGE, data={"csrf_token": token}).status_code == 403
    assert (
        web.post(
            f"{PAGE}/domain", data={"csrf_token": token, "hostname": "b.shop.example"}
        ).status_code
        == 403
    )


def test_a_custom_domain_is_added_and_verified(web, portal_shop, monkeypatch) -> None:
    _owner(web, portal_shop)
    token = csrf_token(web, PAGE)
    bad = web.post(f"{PAGE}/domain", data={"csrf_token": token, "hostname": "shop.example"})
    assert bad.status_code == 400
    added = web.post(
        f"{PAGE}/domain", data={"csrf_token": token, "hostname": "billing.shop.example"}
    )
    assert added.status_code == 302
    html = web.get(PAGE).get_data(as_text=True)
    assert "billing.shop.example" in html and "CNAME" in html and "Waiting for DNS" in html
    monkeypatch.setattr(hosts, "dns_resolve", lambda host: ["localhost"])
    web.post(f"{PAGE}/domain/verify", data={"csrf_token": token})
    assert "Verified" in web.get(PAGE).get_data(as_text=True)
    web.post(f"{PAGE}/domain/remove", data={"csrf_token": token})
    assert hosts.domain_of(db.session, portal_shop.workspace.id) is None


def test_an_owner_opens_a_customers_portal(web, portal_shop) -> None:
    sub = portal_shop.subscribe("pm_card_visa", email="ann@example.com")
    portal_shop.pump()
    _owner(web, portal_shop)
    token = csrf_token(web, f"/customers/{sub.customer}")
    moved = web.post(f"/customers/{sub.customer}/portal", data={"csrf_token": token})
    assert moved.status_code == 302 and "/portal/" in moved.location
    page = web.get(moved.location.removeprefix("http://localhost"))
    assert "ann@example.com" in page.get_data(as_text=True)
    assert web.post("/customers/cus_unknown/portal", data={"csrf_token": token}).status_code == 404


def test_the_white_label_shows_on_every_customer_page(web, portal_shop) -> None:
    from app.dunning import links as card_links
    from app.models import utcnow

    _owner(web, portal_shop)
    _save(
        web,
        custom_css=".sheet { border: 3px solid hotpink }",
        support_email="care@shop.example",
        support_url="https://shop.example/help",
    )
    _, token = card_links.issue(
        db.session, portal_shop.workspace.id, purpose="expiry", customer_id="cus_x", now=utcnow()
    )
    db.session.commit()
    page = web.get(f"/update-card/{token}").get_data(as_text=True)
    assert "border: 3px solid hotpink" in page and "--radius: 999px" in page
    assert "care@shop.example" in page and "https://shop.example/help" in page
