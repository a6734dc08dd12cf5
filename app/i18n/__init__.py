"""Languages for everything a merchant's customers see (hosted pages and emails).

- :mod:`.locales`: the pure rules (which languages, which one a customer gets).
- :mod:`.selector`: the locale of a request; hosted views call :func:`use_customer`.

``init_app`` registers Flask-Babel, so ``_()``/``gettext`` work in Jinja templates and
``flask_babel.gettext`` in Python code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from flask_babel import Babel

from .locales import SUPPORTED, choose_locale
from .selector import (
    CustomerLanguage,
    customer_facing,
    preferred_locales_of,
    select_locale,
    set_customer_language,
)

#: The catalogues of the strings in ``app/`` and ``hosted/`` (emails keep their own).
TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"

babel = Babel()

__all__ = [
    "SUPPORTED",
    "TRANSLATIONS_DIR",
    "choose_locale",
    "customer_facing",
    "init_app",
    "use_customer",
]


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "en")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS_DIR))
    babel.init_app(app, locale_selector=select_locale)


def use_customer(workspace: Any, customer_data: dict[str, Any] | None) -> None:
    """Show this request's page in the language of ``workspace``'s customer whose Stripe
    object (``MirrorCustomer.data``) is ``customer_data`` (None when unknown)."""
    set_customer_language(
        CustomerLanguage(
            workspace_id=getattr(workspace, "id", None),
            preferred_locales=preferred_locales_of(customer_data),
            workspace_default=None,
        )
    )
