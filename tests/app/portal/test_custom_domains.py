"""Custom domains: a merchant's hostname is checked, verified by a DNS lookup (a stub
resolver here), then serves that workspace's customer pages and only those, and the
links we send use it. Unverified hosts are refused."""

from __future__ import annotations

import datetime as dt

import pytest

from app.accounts import hosts
from app.dunning import links as card_links
from app.extensions import db
from app.models import utcnow

from .. import factories as f

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("typed", "clean"),
    [
        ("billing.shop.example", "billing.shop.example"),
        (" Billing.Shop.Example. ", "billing.shop.example"),
        ("https://billing.shop.example/portal", "billing.shop.example"),
    ],
)
def test_hostnames_are_cleaned(ctx, typed, clean) -> None:
    assert hosts.clean_hostname(typed) == clean


@pytest.mark.parametrize(
    "bad",
    [
        "shop.example",
        "localhost",
        "bill ing.shop.example",
        "-x.shop.example",
        "1.2.3.4",
        "",
        "a..b.example",
        "x.localhost",
    ],
)
def test_bad_hostnames_are_refused(ctx, bad) -> None:
    with pytest.raises(hosts.HostnameProblem):
        hosts.clean_hostname(bad)


def test_verification_follows_what_dns_says(ctx) -> None:
    ws = f.workspace()
    domain = hosts.set_domain(db.session, ws.id, "billing.shop.example")
    assert domain.status == "pending"
    hosts.verify(db.session, domain, now=NOW, resolve=lambda host: [])
    assert domain.status == "failed" and "No CNAME record" in domain.last_error
    hosts.verify(db.session, domain, now=NOW, resolve=lambda host: ["elsewhere.example"])
    assert "points to elsewhere.example, not localhost" in domain.last_error

    def down(host):
        raise LookupError("DNS did not answer (Timeout)")

    hosts.verify(db.session, domain, now=NOW, resolve=down)
    assert domain.status == "failed" and "Timeout" in domain.last_error
    hosts.verify(db.session, domain, now=NOW, resolve=lambda host: ["localhost"])
    assert domain.is_verified and domain.last_error is None and domain.verified_at == NOW
    # Changing the hostname starts over.
    hosts.set_domain(db.session, ws.id, "pay.shop.example")
    assert domain.status == "pending" and domain.verified_at is None


def test_one_hostname_belongs_to_one_workspace(ctx) -> None:
    hosts.set_domain(db.session, f.workspace().id, "billing.shop.example")
    with pytest.raises(hosts.HostnameProblem):
        hosts.set_domain(db.session, f.workspace().id, "billing.shop.example")


def test_links_use_the_domain_once_verified(ctx) -> None:
    ws = f.workspace()
    domain = hosts.set_domain(db.session, ws.id, "billing.shop.example")
    assert card_links.url_for_token(db.session, ws.id, "tok") == "http://localhost/update-card/tok"
    hosts.verify(db.session, domain, now=NOW, resolve=lambda host: ["localhost"])
    assert card_links.url_for_token(db.session, ws.id, "tok") == (
        "http://billing.shop.example/update-card/tok"
    )


def test_a_verified_domain_serves_only_its_workspaces_customer_pages(web, portal_shop) -> None:
    sub = portal_shop.subscribe("pm_card_visa")
    domain = hosts.set_domain(db.session, portal_shop.workspace.id, "billing.shop.example")
    hosts.verify(db.session, domain, now=utcnow(), resolve=lambda host: ["localhost"])
    db.session.commit()
    url = web.post("/api/embed/portal", json=portal_shop.signed(sub.customer)).json["url"]
    assert url.startswith("http://billing.shop.example/portal/")
    path = url.removeprefix("http://billing.shop.example")
    on_domain = {"base_url": "http://billing.shop.example"}
    assert web.get(path, **on_domain).status_code == 200
    css = web.get("/hosted/static/hosted.css", **on_domain)
    assert css.status_code == 200
    css.close()
    assert web.get("/login", **on_domain).status_code == 404  # no dashboard there
    # Another merchant's link on this domain is an unknown link.
    other = f.workspace()
    other_link = card_links.issue(
        db.session, other.id, purpose="expiry", customer_id="cus_x", now=utcnow()
    )
    db.session.commit()
    assert web.get(f"/update-card/{other_link[1]}", **on_domain).status_code == 404
    assert web.get(f"/update-card/{other_link[1]}").status_code == 200  # on our own address


def test_an_unverified_domain_is_refused(web, portal_shop) -> None:
    hosts.set_domain(db.session, portal_shop.workspace.id, "billing.shop.example")
    db.session.commit()
    response = web.get("/portal/whatever", base_url="http://billing.shop.example")
    assert response.status_code == 421


def test_the_tls_ask_endpoint_answers_for_verified_domains_only(web, portal_shop) -> None:
    domain = hosts.set_domain(db.session, portal_shop.workspace.id, "billing.shop.example")
    db.session.commit()
    assert web.get("/custom-domains/check?domain=billing.shop.example").status_code == 404
    hosts.verify(db.session, domain, now=utcnow(), resolve=lambda host: ["localhost"])
    db.session.commit()
    assert web.get("/custom-domains/check?domain=billing.shop.example").status_code == 200
    assert web.get("/custom-domains/check?domain=other.shop.example").status_code == 404
    assert web.get("/custom-domains/check").status_code == 404


def test_the_tls_ask_endpoint_is_not_throttled(web, portal_shop) -> None:
    statuses = {
        web.get(f"/custom-domains/check?domain=x{n}.shop.example").status_code for n in range(40)
    }
    assert statuses == {404}


def test_other_hosts_are_answered_as_backstop_itself(web, portal_shop) -> None:
    # A load balancer's health check by address, an internal name: not a merchant's name.
    assert web.get("/login", base_url="http://10.0.0.5:5000").status_code == 200
    sub = portal_shop.subscribe("pm_card_visa")
    answer = web.post(
        "/api/embed/portal", json=portal_shop.signed(sub.customer), base_url="http://10.0.0.5:5000"
    )
    assert answer.json["url"].startswith("http://localhost/portal/")  # never the Host header
