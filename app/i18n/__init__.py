"""Languages for everything a merchant's customers see (hosted pages and emails).

- :mod:`.locales`: the pure rules (which languages, which one a customer gets).
- :mod:`.selector`: the locale of a request and its translations (Flask-Babel).
- :mod:`.formatting`: money and dates in a language (Babel).
- :mod:`.services`: a workspace's default language and overrides; a customer's language
  for email; :func:`.services.translator_for` for text made outside a request.
- :mod:`.catalogues`: our catalogues, read and listed.

For a hosted view: ``use_customer(workspace, mirror_customer.data)`` (or
``use_customer_id``), then ``_()`` in templates and :func:`gettext` in Python. Python
code that runs outside a request marks its strings with :func:`N_` and has them
translated where the customer's language is known.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g
from flask_babel import get_translations

from emails.i18n import template_functions, translate_plain

from . import formatting
from .locales import SUPPORTED, choose_locale
from .selector import (
    CustomerBabel,
    CustomerLanguage,
    current_locale,
    customer_facing,
    preferred_locales_of,
    select_locale,
    set_customer_language,
)

babel = CustomerBabel()

__all__ = [
    "N_",
    "SUPPORTED",
    "choose_locale",
    "current_locale",
    "customer_facing",
    "format_date",
    "format_money",
    "format_percent",
    "gettext",
    "init_app",
    "ngettext",
    "translated",
    "use_customer",
    "use_customer_id",
    "uses_customer",
]


def init_app(app: Flask) -> None:
    from .catalogues import APP_TRANSLATIONS

    app.config.setdefault("BABEL_DEFAULT_LOCALE", "en")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(APP_TRANSLATIONS))
    babel.init_app(app, locale_selector=select_locale)
    # Flask-Babel's _/gettext/ngettext, but a merchant's wording is escaped in HTML.
    app.jinja_env.globals.update(template_functions(get_translations))
    app.jinja_env.globals["current_locale"] = current_locale
    app.add_template_filter(format_money, "localised_money")
    app.add_template_filter(format_date, "localised_date")


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue; it is translated later, where it is shown."""
    return message


def gettext(message: str, **variables: Any) -> str:
    """``message`` in the request's language (a %-format string, always formatted)."""
    return get_translations().gettext(message) % variables


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    variables.setdefault("num", num)
    return get_translations().ngettext(singular, plural, num) % variables


_ = gettext


def translated(message: str) -> str:
    """``message`` (marked with :func:`N_`, or text from elsewhere such as Stripe's own
    error message) in the request's language. Text we have no translation for comes back
    exactly as it came, never %-formatted."""
    return translate_plain(get_translations(), message)


def format_money(minor: int, currency: str | None) -> str:
    """Money in the request's language ("$1,234.56", "1.234,56 €")."""
    return formatting.format_money(minor, currency, current_locale())


def format_percent(percent: Any) -> str:
    """A percentage (``25``) in the request's language ("25%", "25 %")."""
    return formatting.format_percent(percent, current_locale())


def format_date(value: Any, format: str = "long") -> str:
    """A date in the request's language ("December 29, 2025", "29. Dezember 2025")."""
    return formatting.format_date(value, current_locale(), format)


def use_customer(workspace: Any, customer_data: dict[str, Any] | None) -> None:
    """Show this request's page in the language of ``workspace``'s customer whose Stripe
    object (``MirrorCustomer.data``) is ``customer_data`` (None when unknown), with the
    workspace's default language and its own wording of our strings."""
    from ..extensions import db
    from .services import default_locale

    workspace_id = getattr(workspace, "id", None)
    set_customer_language(
        CustomerLanguage(
            workspace_id=workspace_id,
            preferred_locales=preferred_locales_of(customer_data),
            workspace_default=(
                default_locale(db.session, workspace_id) if workspace_id is not None else None
            ),
        )
    )


def use_customer_id(workspace: Any, customer_stripe_id: str | None) -> None:
    """:func:`use_customer` for the customer with this Stripe id (from our mirror)."""
    from ..extensions import db
    from .services import customer_data

    data = customer_data(db.session, workspace.id, customer_stripe_id) if workspace else None
    use_customer(workspace, data)


def uses_customer() -> bool:
    """Whether this request already knows whose page it is."""
    return bool(g) and g.get("i18n_customer") is not None
