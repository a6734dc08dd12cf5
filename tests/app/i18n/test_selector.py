"""The locale of a request: English for merchants, the customer's for customers."""

from __future__ import annotations

from types import SimpleNamespace

from flask import g, render_template_string
from flask_babel import get_locale, gettext

from app.i18n import use_customer


def test_gettext_works_in_templates_and_python(app):
    with app.test_request_context("/"):
        assert render_template_string("{{ _('Hello %(who)s', who='<b>') }}") == "Hello &lt;b&gt;"
        assert gettext("Hello %(who)s", who="you") == "Hello you"


def test_merchant_pages_stay_english_whatever_the_browser(app):
    with app.test_request_context("/", headers={"Accept-Language": "de"}):
        assert str(get_locale()) == "en"


def test_customer_pages_follow_the_browser(app):
    with app.test_request_context("/", headers={"Accept-Language": "pt, fr;q=0.8"}):
        g.i18n_customer_facing = True
        assert str(get_locale()) == "fr"


def test_the_customer_stripe_locale_wins_and_replaces_an_earlier_choice(app):
    with app.test_request_context("/", headers={"Accept-Language": "fr"}):
        assert str(get_locale()) == "en"
        use_customer(SimpleNamespace(id=1), {"preferred_locales": ["es-419"]})
        assert str(get_locale()) == "es"


def test_a_malformed_stripe_customer_counts_as_no_preference(app):
    with app.test_request_context("/", headers={"Accept-Language": "de"}):
        use_customer(SimpleNamespace(id=1), {"preferred_locales": "fr"})
        assert str(get_locale()) == "de"
        use_customer(None, None)
        assert str(get_locale()) == "de"
