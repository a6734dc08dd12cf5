"""The portal over HTTP against the sandbox: the embed request, the page, and every
action a customer takes there, each checked on Stripe itself."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.extensions import db
from app.portal.models import PortalChange, PortalLink
from app.retain import flows

from .conftest import PORTAL, form_of


def test_the_embed_request_gives_one_link_per_customer(web, portal_shop) -> None:
    sub = portal_shop.subscribe("pm_card_visa")
    first = portal_shop.open_portal(web, sub.customer)
    again = portal_shop.open_portal(web, sub.customer)
    assert first == again and first.startswith("/portal/")
    links = db.session.execute(select(PortalLink)).scalars().all()
    assert len(links) == 1 and links[0].token_hash not in first  # stored hashed
    assert (links[0].expires_at - links[0].created_at) == dt.timedelta(days=90)


def test_the_embed_request_refuses_what_it_must(web, portal_shop) -> None:
    sub = portal_shop.subscribe("pm_card_visa")
    body = portal_shop.signed(sub.customer)
    assert web.post(PORTAL, json={**body, "signature": "0" * 64}).status_code == 401
    stale = portal_shop.signed(sub.customer, at=int(dt.datetime.now(dt.UTC).timestamp()) - 900)
    assert web.post(PORTAL, json=stale).status_code == 401
    assert web.post(PORTAL, json=portal_shop.signed("cus_nobody")).status_code == 404
    assert web.post(PORTAL, json={**body, "workspace": "nope"}).status_code == 404
    assert web.post(PORTAL, data="not json").status_code == 400
    assert db.session.execute(select(PortalLink)).first() is None


def test_the_page_shows_the_subscription_and_its_invoices(web, portal_shop) -> None:
    sub = portal_shop.subscribe("pm_card_visa", email="ann@example.com")
    path = portal_shop.open_portal(web, sub.customer)
    page = web.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html
    assert "Studio" in html and "$29.00" in html and "ann@example.com" in html
    assert "Next invoice $29.00 on July 1, 2026" in html
    assert "Visa ···· 4242" in html
    invoice = portal_shop.client.v1.invoices.list(params={"customer": sub.customer}).data[0]
    assert invoice.id in html and invoice.hosted_invoice_url in html
    assert "Billing by Backstop" in html
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_an_upgrade_shows_the_proration_and_applies_now(web, portal_shop) -> None:
    sub = portal_shop.subscribe("pm_card_visa")
    path = portal_shop.open_portal(web, sub.customer)
    portal_shop.advance(days=15)
    html = web.get(path).get_data(as_text=True)
    assert "Studio Plus" in html and "Studio EUR" not in html  # another currency
    preview_url = f"{path}/subscriptions/{sub.id}/switch?price={portal_shop.plus}"
    preview = web.get(preview_url).get_data(as_text=True)
    assert "Adjustment for the rest of this period" in preview, preview
    assert "right away" in preview
    action = f"{path}/subscriptions/{sub.id}/switch"
    done = web.post(action, data={**form_of(preview, action), "price": portal_shop.plus})
    assert done.status_code == 303 and "notice=switched" in done.location
    stripe_sub = portal_shop.client.v1.subscriptions.retrieve(sub.id)
    assert stripe_sub["items"].data[0].price.id == portal_shop.plus
    assert "Studio Plus" in web.get(path).get_data(as_text=True)


def test_a_downgrade_waits_for_the_renewal(web, portal_shop) -> None:
    sub = portal_shop.subscribe("pm_card_visa")
    path = portal_shop.open_portal(web, sub.customer)
    action = f"{path}/subscriptions/{sub.id}/switch"
    preview = web.get(f"{action}?price={portal_shop.lite}").get_data(as_text=True)
    assert "You keep your current plan until July 1, 2026" in preview
    done = web.post(action, data={**form_of(preview, action), "price": portal_shop.lite})
    assert "notice=switch_scheduled" in done.location
    assert portal_shop.client.v1.subscriptions.retrieve(sub.id)["items"].data[0].price.id == (
        portal_shop.price
    )
    assert "Changes to Lite at your next renewal" in web.get(path).get_data(as_text=True)
    portal_shop.advance(dt.datetime(2026, 7, 1, 8, 30, tzinfo=dt.UTC))  # an hour before
    portal_shop.advance(dt.datetime(2026, 7, 1, 9, 30, tzinfo=dt.UTC))
    renewed = portal_shop.client.v1.subscriptions.retrieve(sub.id)
    assert renewed["items"].data[0].price.id == portal_shop.lite
    latest = portal_shop.client.v1.invoices.list(params={"subscription": sub.id}).data[0]
    assert latest.amount_due == 1500  # the renewal bills the new plan, nothing prorated
    change = db.session.execute(select(PortalChange)).scalar_one()
    assert change.outcome == "applied"


def test_keeping_the_plan_drops_the_scheduled_downgrade(web, portal_shop) -> None:
    sub = portal_shop.subscribe("pm_card_visa")
    path = portal_shop.open_portal(web, sub.customer)
    action = f"{path}/subscriptions/{sub.id}/switch"
    preview = web.get(f"{action}?price={portal_shop.lite}").get_data(as_text=True)
    web.post(action, data={**form_of(preview, action), "price": portal_shop.lite})
    html = web.get(path).get_data(as_text=True)
    keep = f"{path}/subscriptions/{sub.id}/keep-plan"
    assert "notice=kept_plan" in web.post(keep, data=form_of(html, keep)).location
    portal_shop.advance(dt.datetime(2026, 7, 1, 9, 30, tzinfo=dt.UTC))
    assert portal_shop.client.v1.subscriptions.retrieve(sub.id)["items"].data[0].price.id == (
        portal_shop.price
    )


def test_pause_and_resume(web, portal_shop) -> None:
    sub = portal_shop.subscribe("pm_card_visa")
    path = portal_shop.open_portal(web, sub.customer)
    html = web.get(path).get_data(as_text=True)
    pause = f"{path}/subscriptions/{sub.id}/pause"
    done = web.post(pause, data={**form_of(html, pause), "months": "2"})
    assert "notice=paused" in done.location
    paused = portal_shop.client.v1.subscriptions.retrieve(sub.id).pause_collection
    assert paused.behavior == "void"
    assert paused.resumes_at == int(dt.datetime(2026, 8, 1, 9, 0, tzinfo=dt.UTC).timestamp())
    html = web.get(path).get_data(as_text=True)
    assert "Paused until August 1, 2026" in html
    resume = f"{path}/subscriptions/{sub.id}/resume"
    assert "notice=resumed" in web.post(resume, data=form_of(html, resume)).location
    assert not portal_shop.client.v1.subscriptions.retrieve(sub.id).pause_collection


def test_a_double_tap_pauses_once_and_a_pause_not_offered_is_refused(web, portal_shop) -> None:
    sub = portal_shop.subscribe("pm_card_visa")
    path = portal_shop.open_portal(web, sub.customer)
    html = web.get(path).get_data(as_text=True)
    pause = f"{path}/subscriptions/{sub.id}/pause"
    fields = form_of(html, pause)
    refused = web.post(pause, data={**fields, "months": "7"})
    assert refused.status_code == 409
    assert not portal_shop.client.v1.subscriptions.retrieve(sub.id).pause_collection
    web.post(pause, data={**fields, "months": "1"})
    again = web.post(pause, data={**fields, "months": "1"})  # the same form, tapped twice
    assert again.status_code == 409  # already paused: nothing sent to Stripe twice


def test_cancel_runs_the_cancel_flow_when_one_is_published(web, portal_shop) -> None:
    flows.create_from_template(
        db.session,
        portal_shop.workspace.id,
        "saas_standard",
        actor_id=None,
        actor_label="test",
        support_email="help@shop.example",
    )
    db.session.commit()
    sub = portal_shop.subscribe("pm_card_visa")
    path = portal_shop.open_portal(web, sub.customer)
    html = web.get(path).get_data(as_text=True)
    cancel = f"{path}/subscriptions/{sub.id}/cancel"
    started = web.post(cancel, data=form_of(html, cancel))
    assert started.status_code == 303 and "/cancel/" in started.location
    flow = web.get(started.location.removeprefix("http://localhost")).get_data(as_text=True)
    assert "Cancel anyway" in flow
    # Posting the plain confirmation anyway is refused: the flow comes first.
    refused = web.post(cancel, data={**form_of(html, cancel), "confirm": "yes"})
    assert refused.status_code == 409
    assert not portal_shop.client.v1.subscriptions.retrieve(sub.id).cancel_at_period_end


def test_without_a_flow_cancel_confirms_then_ends_at_period_end(web, portal_shop) -> None:
    sub = portal_shop.subscribe("pm_card_visa")
    path = portal_shop.open_portal(web, sub.customer)
    html = web.get(path).get_data(as_text=True)
    cancel = f"{path}/subscriptions/{sub.id}/cancel"
    confirm = web.post(cancel, data=form_of(html, cancel))
    page = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "stays active until July 1, 2026" in page
    done = web.post(cancel, data={**form_of(page, cancel), "confirm": "yes"})
    assert "notice=cancelled" in done.location
    assert portal_shop.client.v1.subscriptions.retrieve(sub.id).cancel_at_period_end
    html = web.get(path).get_data(as_text=True)
    assert "Ends July 1, 2026" in html and "Don't cancel" in html
    renew = f"{path}/subscriptions/{sub.id}/renew"
    assert "notice=renewed" in web.post(renew, data=form_of(html, renew)).location
    assert not portal_shop.client.v1.subscriptions.retrieve(sub.id).cancel_at_period_end


def test_billing_details_are_saved_on_stripe_and_bad_ones_change_nothing(web, portal_shop) -> None:
    sub = portal_shop.subscribe("pm_card_visa", email="old@example.com")
    path = portal_shop.open_portal(web, sub.customer)
    form_page = web.get(f"{path}/details").get_data(as_text=True)
    action = f"{path}/details"
    fields = form_of(form_page, action)
    bad = web.post(action, data={**fields, "email": "not-an-email", "name": "Ann"})
    assert bad.status_code == 400 and "Enter an email address" in bad.get_data(as_text=True)
    assert portal_shop.client.v1.customers.retrieve(sub.customer).email == "old@example.com"
    good = {
        **fields,
        "email": "ann@example.com",
        "name": "Ann Smith",
        "address_line1": "1 Main St",
        "address_city": "Berlin",
        "address_postal_code": "10115",
        "address_country": "de",
    }
    assert "notice=details" in web.post(action, data=good).location
    customer = portal_shop.client.v1.customers.retrieve(sub.customer)
    assert (customer.email, customer.name, customer.address.country) == (
        "ann@example.com",
        "Ann Smith",
        "DE",
    )
    assert "Ann Smith" in web.get(path).get_data(as_text=True)  # mirrored at once


def test_update_card_goes_to_the_card_page(web, portal_shop) -> None:
    sub = portal_shop.subscribe("pm_card_visa")
    path = portal_shop.open_portal(web, sub.customer)
    html = web.get(path).get_data(as_text=True)
    action = f"{path}/card"
    moved = web.post(action, data=form_of(html, action))
    assert moved.status_code == 303 and "/update-card/" in moved.location
    card_page = web.get(moved.location.removeprefix("http://localhost"))
    assert card_page.status_code == 200


def test_forms_need_the_links_form_token(web, portal_shop) -> None:
    sub = portal_shop.subscribe("pm_card_visa")
    path = portal_shop.open_portal(web, sub.customer)
    pause = f"{path}/subscriptions/{sub.id}/pause"
    missing = web.post(pause, data={"months": "1", "nonce": "abcdefghij"})
    assert missing.status_code == 400
    forged = web.post(pause, data={"months": "1", "nonce": "abcdefghij", "form_token": "0" * 64})
    assert forged.status_code == 400
    assert not portal_shop.client.v1.subscriptions.retrieve(sub.id).pause_collection


def test_a_failed_payment_shows_and_leads_to_paying_it(web, portal_shop) -> None:
    sub = portal_shop.subscribe("pm_card_sandbox_visa_insufficient_funds")
    portal_shop.advance(dt.datetime(2026, 7, 1, 11, 0, tzinfo=dt.UTC))  # the renewal fails
    path = portal_shop.open_portal(web, sub.customer)
    html = web.get(path).get_data(as_text=True)
    assert "Your last payment didn't go through." in html
    assert 'class="primary" id="update-card"' in html
    action = f"{path}/card"
    moved = web.post(action, data=form_of(html, action))
    card_page = web.get(moved.location.removeprefix("http://localhost"))
    assert "29.00" in card_page.get_data(as_text=True)  # the amount the card will pay


def test_seats_change_now_with_the_preview_within_the_merchants_limit(web, portal_shop) -> None:
    from app.portal import settings as portal_settings

    portal_settings.save(
        db.session,
        portal_shop.workspace.id,
        {"max_quantity": "5", "switch_price_ids": [portal_shop.plus]},
        known_price_ids=None,
    )
    db.session.commit()
    sub = portal_shop.subscribe("pm_card_visa")
    path = portal_shop.open_portal(web, sub.customer)
    assert "Seats (up to 5)" in web.get(path).get_data(as_text=True)
    base = f"{path}/subscriptions/{sub.id}/quantity"
    assert web.get(f"{base}?quantity=6").status_code == 409
    assert web.get(f"{base}?quantity=1").status_code == 409  # what they have
    assert web.get(f"{base}?quantity=x").status_code == 409
    preview = web.get(f"{base}?quantity=3")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "3 seats of Studio" in html
    assert "Each seat is $29.00 / month." in html and "Next invoice" in html
    action = f"{path}/subscriptions/{sub.id}/quantity"
    tampered = web.post(action, data={**form_of(html, action), "quantity": "50"})
    assert tampered.status_code == 409
    done = web.post(action, data={**form_of(html, action), "quantity": "3"})
    assert "notice=quantity" in done.location
    assert portal_shop.client.v1.subscriptions.retrieve(sub.id)["items"].data[0].quantity == 3
    page = web.get(path).get_data(as_text=True)
    assert "Studio × 3" in page and "$87.00 / month" in page  # noqa: RUF001 - the sign we show


def test_the_portal_speaks_the_customers_language(web, portal_shop) -> None:
    sub = portal_shop.subscribe("pm_card_visa")
    portal_shop.client.v1.customers.update(sub.customer, params={"preferred_locales": ["de"]})
    path = portal_shop.open_portal(web, sub.customer)
    html = web.get(path).get_data(as_text=True)
    assert '<html lang="de">' in html and "Abonnements" in html
    assert "29,00" in html and "1. Juli 2026" in html
    pause = f"{path}/subscriptions/{sub.id}/pause"
    refused = web.post(pause, data={**form_of(html, pause), "months": "9"})
    assert refused.status_code == 409
    assert "Diese Pause ist nicht verfügbar." in refused.get_data(as_text=True)
    french = web.get(path, headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<html lang="de">' in french  # Stripe's preferred_locales come first


def test_every_dunning_email_links_to_the_customers_portal(web, portal_shop) -> None:
    import re as regex

    from app.outbox.models import OutboxMessage

    sub = portal_shop.subscribe("pm_card_sandbox_visa_insufficient_funds")
    portal_shop.advance(dt.datetime(2026, 7, 1, 11, 0, tzinfo=dt.UTC))  # the renewal fails
    message = db.session.execute(
        select(OutboxMessage).where(OutboxMessage.customer_stripe_id == sub.customer)
    ).scalar_one()
    found = regex.search(
        r"Manage your subscription and billing: (http://localhost/portal/\S+)", message.body_text
    )
    assert found, message.body_text
    assert found.group(1) in message.body_html
    page = web.get(found.group(1).removeprefix("http://localhost"))
    assert page.status_code == 200 and "Your last payment didn't go through." in page.get_data(
        as_text=True
    )
    assert portal_shop.open_portal(web, sub.customer) == found.group(1).removeprefix(
        "http://localhost"
    )
