"""emails/ renders in the language the caller names, with the merchant's wording laid
over ours, and knows nothing of app/ (DESIGN §3)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import emails
from emails.i18n import CustomerTranslations, catalogue, translate_plain, translations_for

from .test_render import CONTEXTS

EMAILS = Path(emails.__file__).resolve().parent


def _render(name: str, locale: str, **kw):
    return emails.render(name, {**CONTEXTS[name], "brand": {"name": "Acme"}}, locale=locale, **kw)


@pytest.mark.parametrize(
    ("locale", "subject"),
    [
        ("en", "Your card for Acme expires soon"),
        ("de", "Ihre Karte für Acme läuft bald ab"),
        ("fr", "Votre carte pour Acme expire bientôt"),
        ("es", "Tu tarjeta para Acme caduca pronto"),
        ("pt", "Your card for Acme expires soon"),  # no catalogue: our English
    ],
)
def test_subjects_in_every_language(locale, subject) -> None:
    assert _render("card_expiring", locale).subject == subject


def test_plurals_follow_the_language() -> None:
    one = emails.render(
        "card_expiring", {**CONTEXTS["card_expiring"], "days_before": 1}, locale="fr"
    )
    seven = emails.render(
        "card_expiring", {**CONTEXTS["card_expiring"], "days_before": 7}, locale="fr"
    )
    assert one.subject == "Votre carte expire dans 1 jour"
    assert seven.subject == "Votre carte expire dans 7 jours"


def test_staff_emails_stay_english() -> None:
    rendered = emails.render("password_reset", CONTEXTS["password_reset"], locale="de")
    assert "reset" in rendered.subject.lower()


def test_overrides_win_and_are_escaped_in_html_only() -> None:
    wording = {"Unsubscribe from these emails": "Keine Post mehr <bitte> & danke"}
    rendered = _render("card_update_link", "de", overrides=wording)
    assert "Keine Post mehr &lt;bitte&gt; &amp; danke" in rendered.html
    assert "Keine Post mehr <bitte> & danke: https://x.example/unsubscribe/u" in rendered.text


def test_an_override_of_a_plural_serves_every_form() -> None:
    text = "Gilt %(num)d Tage, einmal."
    msgid = "It works once, for %(num)d day. If you didn't ask for it, you can ignore this email."
    rendered = _render("card_update_link", "de", overrides={msgid: text})
    assert "Gilt 21 Tage, einmal." in rendered.text


def test_the_layout_names_the_language() -> None:
    assert '<html lang="fr">' in _render("card_update_link", "fr").html


def test_catalogues_are_read_once() -> None:
    assert catalogue(str(EMAILS / "translations"), "de") is catalogue(
        str(EMAILS / "translations"), "de"
    )
    base = translations_for("de")
    layered = CustomerTranslations(base, {"Hi,": "Servus,"})
    assert layered.gettext("Hi,") == "Servus," and base.gettext("Hi,") == "Hallo,"


def test_plain_translation_of_data() -> None:
    german = translations_for("de", {"Hi,": "100%% Hallo,"})
    assert translate_plain(german, "Hi,") == "100% Hallo,"
    assert translate_plain(german, "Stripe: 5% off") == "Stripe: 5% off"


def test_emails_never_import_app() -> None:
    for path in EMAILS.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and node.level == 0
                else []
            )
            assert not any(n == "app" or n.startswith("app.") for n in names), path
