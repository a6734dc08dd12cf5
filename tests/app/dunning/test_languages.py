"""Customers' emails in their language: the dunning touches, the card-expiry notice and
the fresh link, from the customer's Stripe preferred_locales, else the workspace's
default (an email has no browser to ask)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

import emails
from app.accounts.models import Workspace
from app.dunning import expiry
from app.dunning.touches import TEMPLATE, context_for
from app.extensions import db
from app.i18n import services as i18n
from app.outbox.models import OutboxMessage
from app.recovery.models import Campaign

from ..recovery.shop import START, Shop

NOW = dt.datetime(2026, 7, 1, 10, 0, tzinfo=dt.UTC)
WORKSPACE = Workspace(id=1, name="Acme <Yoga>", brand_color="#ff5500")


def _campaign(code: str = "insufficient_funds") -> Campaign:
    return Campaign(
        workspace_id=1,
        amount_minor=4900,
        currency="eur",
        decline_class="scheduled",
        decline_code=code,
        customer_tz="Europe/Madrid",
        opened_at=NOW,
        window_ends_at=NOW + dt.timedelta(days=30),
    )


def _render(locale: str, key: str = "d0", overrides: dict | None = None, **kw):
    language = i18n.translator(locale, overrides)
    context = context_for(
        WORKSPACE,
        _campaign(),
        key=key,
        sequence="standard",
        overrides={},
        customer_name="Jo Lee",
        link_url="https://pay.example/update-card/tok",
        at=NOW,
        language=language,
        **kw,
    )
    context["unsubscribe_url"] = "https://pay.example/unsubscribe/u"
    return emails.render(TEMPLATE, context, locale=locale, overrides=language.overrides)


def test_a_dunning_email_in_spanish() -> None:
    rendered = _render("es")
    assert rendered.subject == "Tu pago a Acme <Yoga> no se ha podido realizar"
    for part in (rendered.text, rendered.html):
        assert "Hola, Jo: no hemos podido cobrar tu último pago de Acme" in part
        assert "Tu banco ha rechazado el pago de 49,00\xa0€ por fondos insuficientes" in part
        assert "Actualizar método de pago" in part
        assert "es válido durante 21 días" in part
    assert "Importe pendiente: <strong>49,00\xa0€</strong>" in rendered.html
    assert '<html lang="es">' in rendered.html
    assert "Darme de baja de estos correos" in rendered.html


def test_the_last_reminder_names_its_deadline_in_the_language() -> None:
    rendered = _render("de", key="d14")
    assert rendered.subject == "Letzte Erinnerung: Ihre Zahlung an Acme <Yoga> ist noch fällig"
    assert "bis zum 31. Juli eingeht" in rendered.text


def test_a_pause_announced_in_french() -> None:
    paused = NOW + dt.timedelta(days=60)
    context = context_for(
        WORKSPACE,
        _campaign(),
        key="d30",
        sequence="extended",
        overrides={},
        customer_name=None,
        link_url="https://pay.example/u/t",
        at=NOW,
        pause_days=30,
        paused_until=paused,
        language=i18n.translator("fr"),
    )
    context["unsubscribe_url"] = "https://pay.example/unsubscribe/u"
    rendered = emails.render(TEMPLATE, context, locale="fr")
    assert rendered.subject == "Votre abonnement Acme <Yoga> est en pause"
    assert "Bonjour à vous" in rendered.text
    assert "en pause jusqu'au 30 août 2026\xa0: rien ne vous est facturé" in rendered.text


def test_the_merchants_own_copy_is_never_translated() -> None:
    language = i18n.translator("de")
    context = context_for(
        WORKSPACE,
        _campaign(),
        key="d0",
        sequence="standard",
        overrides={"d0": {"subject": "Hey {name}, {amount} is due"}},
        customer_name="Jo",
        link_url="https://pay.example/u/t",
        at=NOW,
        language=language,
    )
    assert context["subject"] == "Hey Jo, 49,00\xa0€ is due"  # their words, our amount format
    assert context["headline"] == "Ihre Zahlung ist fehlgeschlagen"


def test_a_workspace_override_of_an_email_string() -> None:
    rendered = _render("es", overrides={"Amount due: %(amount)s": "A pagar <ya>: %(amount)s"})
    assert "A pagar &lt;ya&gt;: <strong>49,00\xa0€</strong>" in rendered.html
    assert "A pagar <ya>: 49,00\xa0€" not in rendered.html


def test_a_card_expiry_notice_in_spanish() -> None:
    context = expiry.expiry_context(
        WORKSPACE,
        name="Ana Ruiz",
        brand_name="visa",
        last4="4242",
        exp_month=12,
        exp_year=2026,
        days_before=7,
        link_url="https://pay.example/u/t",
        language=i18n.translator("es"),
    )
    context["unsubscribe_url"] = "https://pay.example/unsubscribe/u"
    rendered = emails.render("card_expiring", context, locale="es")
    assert rendered.subject == "Tu tarjeta caduca en 7 días"
    assert "Hola, Ana: tu Visa terminada en 4242, que usas para tu suscripción a Acme" in (
        rendered.html.replace("<strong>", "").replace("</strong>", "")
    )
    assert "a finales de diciembre de 2026" in rendered.text


@pytest.fixture
def shop(ctx, sandbox_url) -> Shop:
    return Shop(sandbox_url)


def _first_email(shop: Shop, customer: str) -> OutboxMessage:
    return db.session.execute(
        select(OutboxMessage).where(OutboxMessage.customer_stripe_id == customer)
    ).scalar_one()


def test_the_d0_email_follows_the_customers_stripe_locale(shop) -> None:
    i18n.set_default_locale(db.session, shop.workspace.id, "fr", actor_id=None, actor_label="t")
    db.session.commit()
    spanish = shop.subscribe("pm_card_sandbox_visa_insufficient_funds", locales=["es-419"])
    default = shop.subscribe("pm_card_sandbox_visa_insufficient_funds")
    shop.advance(to=START + dt.timedelta(days=30, hours=2))
    message = _first_email(shop, spanish.customer)
    assert message.subject.startswith("Tu pago a Shop") and "29,00\xa0US$" in message.body_text
    assert "Hola, cliente: no hemos podido cobrar" in message.body_text
    assert _first_email(shop, default.customer).subject.startswith("Votre paiement à Shop")


def test_the_fresh_link_email_is_in_the_customers_language(shop, web) -> None:
    import re

    sub = shop.subscribe("pm_card_sandbox_visa_insufficient_funds", locales=["de"])
    shop.advance(to=START + dt.timedelta(days=30, hours=2))
    path = re.search(
        r"http://localhost(/update-card/\S+)", _first_email(shop, sub.customer).body_text
    ).group(1)
    from app.dunning.models import CardUpdateLink

    link = db.session.execute(select(CardUpdateLink)).scalar_one()
    link.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    db.session.commit()
    page = web.post(path + "/fresh", headers={"Accept-Language": "fr"})
    assert page.status_code == 200 and "Schauen Sie in Ihr Postfach" in page.get_data(as_text=True)
    fresh = db.session.execute(
        select(OutboxMessage).where(OutboxMessage.template == "card_update_link")
    ).scalar_one()
    assert (
        fresh.subject == f"Ihr neuer Link zum Aktualisieren Ihrer Karte für {shop.workspace.name}"
    )
