"""Texts in the customer's language: our copy in de/fr/es, every one still GSM-7 (one
segment with a typical link) and still saying how to opt out."""

from __future__ import annotations

import pytest

from app.i18n import services as i18n
from app.sms import copy, policy

LINK = "https://pay.example.com/update-card/" + "x" * 43


@pytest.mark.parametrize(
    ("locale", "opening", "stop"),
    [
        ("de", "Zahlung von 29,00 $ fehlgeschlagen", "Mit STOP abmelden."),
        ("fr", "paiement de 29,00 $US refusé", "Répondez STOP pour vous désinscrire."),
        ("es", "no se pudo cobrar 29,00 US$", "Responde STOP para darte de baja."),
    ],
)
def test_reminders_in_the_customers_language(ctx, locale, opening, stop) -> None:
    language = i18n.translator(locale)
    body = copy.reminder(
        merchant="Yoga",
        amount=language.money(2900, "usd"),
        link=LINK,
        is_first=True,
        translate=language.translate,
    )
    assert opening in body and body.endswith(stop) and LINK in body
    assert policy.segments(body)[1] == "gsm7"
    later = copy.reminder(
        merchant="Yoga", amount="29 €", link=LINK, is_first=False, translate=language.translate
    )
    assert policy.segments(later)[1] == "gsm7" and later.endswith(stop)


@pytest.mark.parametrize("locale", ["de", "fr", "es"])
def test_help_and_test_texts_are_translated(ctx, locale) -> None:
    language = i18n.translator(locale)
    help_text = copy.help_reply(merchant="Yoga", contact="a@b.c", translate=language.translate)
    assert "a@b.c" in help_text and "STOP" in help_text and "billing" not in help_text
    assert "Backstop" in copy.trial_text(merchant="Yoga", translate=language.translate)
