"""The customer's pages in their language: Stripe's preferred_locales first, then the
browser's Accept-Language, then the workspace's default; a merchant's own wording wins
over ours, only on their own pages."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.i18n import services as i18n
from app.outbox.models import OutboxMessage

from ..app import factories as f
from ..app.recovery.shop import START, Shop
from ..app.retain.conftest import CancelShop
from ..app.retain.test_cancel_pages import start


def _card_page(shop: Shop, customer: str) -> str:
    """The path of the card-update link the customer's d0 email carries."""
    body = db.session.execute(
        select(OutboxMessage.body_text).where(OutboxMessage.customer_stripe_id == customer)
    ).scalar_one()
    return re.search(r"http://localhost(/update-card/\S+)", body).group(1)


@pytest.fixture
def shop(ctx, sandbox_url) -> Shop:
    return Shop(sandbox_url)


def _failed(shop: Shop, locales: list[str] | None = None):
    sub = shop.subscribe("pm_card_sandbox_visa_insufficient_funds", locales=locales)
    shop.advance(to=START + dt.timedelta(days=30, hours=2))
    return sub


def test_a_german_customer_gets_the_card_page_in_german(web, shop) -> None:
    sub = _failed(shop, ["de-DE"])
    page = web.get(_card_page(shop, sub.customer), headers={"Accept-Language": "fr"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<html lang="de">' in html and "<h1>Karte aktualisieren</h1>" in html
    assert "Karte speichern und 29,00\xa0$ bezahlen" in html
    assert "Zahlungen werden sicher über Stripe abgewickelt" in html
    # card_update.js gets its sentences from the page, translated.
    assert "Ihre Karte wurde abgelehnt." in html


def test_the_browser_decides_when_stripe_names_no_language(web, shop) -> None:
    sub = _failed(shop)
    path = _card_page(shop, sub.customer)
    html = web.get(path, headers={"Accept-Language": "pt-BR, fr;q=0.8, en;q=0.5"}).get_data(
        as_text=True
    )
    assert '<html lang="fr">' in html and "Mettre à jour votre carte" in html
    assert "29,00\xa0$US" in html


def test_the_workspace_default_decides_when_nothing_else_does(web, shop) -> None:
    i18n.set_default_locale(db.session, shop.workspace.id, "es", actor_id=None, actor_label="t")
    db.session.commit()
    sub = _failed(shop, ["ja"])
    html = web.get(_card_page(shop, sub.customer), headers={"Accept-Language": "it"}).get_data(
        as_text=True
    )
    assert '<html lang="es">' in html and "Actualiza tu tarjeta" in html
    # ...and its emails: no browser there, so the default decides.
    subject = db.session.execute(
        select(OutboxMessage.subject).where(OutboxMessage.customer_stripe_id == sub.customer)
    ).scalar_one()
    assert subject.startswith("Tu pago a Shop") and "no se ha podido realizar" in subject


def test_english_without_any_hint(web, shop) -> None:
    sub = _failed(shop)
    html = web.get(_card_page(shop, sub.customer)).get_data(as_text=True)
    assert '<html lang="en">' in html and "Save card and pay $29.00" in html


def test_a_merchant_override_shows_on_its_own_pages_only(web, shop, sandbox_url) -> None:
    i18n.set_override(
        db.session,
        shop.workspace.id,
        "de",
        "Update your card",
        "Neue Karte <b>eintragen</b>",
        actor_id=None,
        actor_label="t",
    )
    db.session.commit()
    other = Shop(sandbox_url)
    mine, theirs = _failed(shop, ["de"]), _failed(other, ["de"])
    html = web.get(_card_page(shop, mine.customer)).get_data(as_text=True)
    assert "<h1>Neue Karte &lt;b&gt;eintragen&lt;/b&gt;</h1>" in html  # the merchant's, escaped
    assert "Karte speichern" in html  # everything else stays ours
    theirs_html = web.get(_card_page(other, theirs.customer)).get_data(as_text=True)
    assert "<h1>Karte aktualisieren</h1>" in theirs_html and "eintragen" not in theirs_html


def test_the_json_answers_of_the_page_are_translated_too(web, shop) -> None:
    sub = _failed(shop, ["es"])
    response = web.post(
        _card_page(shop, sub.customer) + "/complete", json={"payment_confirmed": True}
    )
    assert response.json["state"] == "declined"
    assert response.json["message"] == (
        "Tu banco no ha confirmado el pago. Inténtalo de nuevo o usa otra tarjeta."
    )


def test_a_dead_end_follows_the_browser(web, ctx) -> None:
    html = web.get("/update-card/nope", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<html lang="de">' in html and "Wir konnten diesen Link nicht finden" in html


def test_the_unsubscribe_page_follows_the_workspace_default(web, ctx) -> None:
    from app.outbox import services as outbox

    workspace = f.workspace(name="Café")
    i18n.set_default_locale(db.session, workspace.id, "fr", actor_id=None, actor_label="t")
    db.session.commit()
    token = outbox.unsubscribe_token(workspace.id, "jo@example.com")
    html = web.get(f"/unsubscribe/{token}").get_data(as_text=True)
    assert "Vous désabonner des e-mails de paiement de Café\xa0?" in html


@pytest.fixture
def cancel_shop(ctx, sandbox_url) -> CancelShop:
    return CancelShop(sandbox_url)


def _german_cancel_page(web, cancel_shop, **headers) -> str:
    sub = cancel_shop.subscribe("pm_card_visa", locales=["de"])
    cancel_shop.catch_up()
    path = start(web, cancel_shop, sub)
    return path


def test_a_german_customer_gets_the_cancel_flow_in_german(web, cancel_shop) -> None:
    path = _german_cancel_page(web, cancel_shop)
    html = web.get(path, headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert '<html lang="de">' in html and "Trotzdem kündigen" in html
    assert "Weiter" in html
    # The steps' own copy is the merchant's (from the template, in English) and stays so.
    assert "It&#39;s too expensive" in html
    web.post(path, data={"action": "answer", "step": "survey", "reason": "too_expensive"})
    offer = web.get(path).get_data(as_text=True)
    assert "25\xa0% Rabatt für 3 Monate" in offer and "Sie sparen 21,75\xa0$" in offer
    assert "Nein, danke" in offer
    web.post(path, data={"action": "cancel"})
    done = web.get(path).get_data(as_text=True)
    # The success copy comes from the flow (the merchant's, as written); the date in it
    # is ours, in German.
    assert 'data-state="cancelled"' in done and "1. Juli 2026" in done


def test_the_cancel_flow_follows_the_browser_and_then_the_default(web, cancel_shop) -> None:
    sub = cancel_shop.subscribe("pm_card_visa")
    path = start(web, cancel_shop, sub)
    french = web.get(path, headers={"Accept-Language": "fr-CA,fr;q=0.9"}).get_data(as_text=True)
    assert '<html lang="fr">' in french and "Résilier quand même" in french
    i18n.set_default_locale(
        db.session, cancel_shop.workspace.id, "es", actor_id=None, actor_label="t"
    )
    db.session.commit()
    spanish = web.get(path).get_data(as_text=True)
    assert '<html lang="es">' in spanish and "Cancelar de todos modos" in spanish


def test_a_refusal_on_the_cancel_page_is_translated(web, cancel_shop) -> None:
    path = _german_cancel_page(web, cancel_shop)
    web.get(path)
    response = web.post(path, data={"action": "answer", "step": "survey", "reason": "nope"})
    assert response.status_code == 400
    assert "Bitte wählen Sie einen der Gründe." in response.get_data(as_text=True)


def test_the_portal_speaks_the_customers_language_too(web, ctx, sandbox_url) -> None:
    from ..app.portal.conftest import PortalShop

    portal_shop = PortalShop(sandbox_url)
    sub = portal_shop.subscribe("pm_card_visa", locales=["fr"])
    portal_shop.catch_up()
    html = web.get(portal_shop.open_portal(web, sub.customer)).get_data(as_text=True)
    assert '<html lang="fr">' in html and '<h1 id="top">Facturation</h1>' in html
    assert "29,00\xa0$US / mois" in html and "Historique des factures" in html
