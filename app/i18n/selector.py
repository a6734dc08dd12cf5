"""The locale of the current request, and its translations, for Flask-Babel.

Merchant pages (dashboard, sign-in, the back office) stay in English. Customer-facing
blueprints are marked with :func:`customer_facing`; their requests follow the browser's
Accept-Language. A hosted view that knows whose page it is calls
:func:`app.i18n.use_customer`, so the customer's Stripe ``preferred_locales`` and the
workspace's default language take part too (see :func:`.locales.choose_locale`), and the
workspace's own wording of our strings wins over the catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from babel.support import NullTranslations
from flask import Blueprint, g, has_request_context, request
from flask_babel import Babel, Domain, get_locale, refresh
from werkzeug.utils import cached_property

from emails.i18n import CustomerTranslations

from .locales import DEFAULT, choose_locale, language_of


@dataclass(frozen=True)
class CustomerLanguage:
    """What the request knows about whose page it is."""

    workspace_id: int | None
    preferred_locales: tuple[str, ...]
    workspace_default: str | None


def _mark_customer_facing() -> None:
    g.i18n_customer_facing = True


def customer_facing(bp: Blueprint) -> None:
    """Every request of ``bp`` is a customer's: translated, by Accept-Language at least."""
    bp.before_request(_mark_customer_facing)


def preferred_locales_of(customer_data: Any) -> tuple[str, ...]:
    """The ``preferred_locales`` of a Stripe customer object (the mirror's ``data``);
    anything malformed counts as none."""
    if not isinstance(customer_data, dict):
        return ()
    found = customer_data.get("preferred_locales")
    if not isinstance(found, list):
        return ()
    return tuple(tag for tag in found if isinstance(tag, str))


def set_customer_language(language: CustomerLanguage) -> None:
    """Make ``language`` the hint of this request and forget any locale chosen before."""
    g.i18n_customer_facing = True
    g.i18n_customer = language
    g.pop("i18n_translations", None)
    refresh()


def customer_language() -> CustomerLanguage | None:
    return g.get("i18n_customer") if g else None


def select_locale() -> str:
    """Flask-Babel's locale selector."""
    if not g or not g.get("i18n_customer_facing"):
        return DEFAULT
    hint = customer_language()
    accept = request.accept_languages if has_request_context() else None
    return choose_locale(
        hint.preferred_locales if hint else (),
        accept,
        hint.workspace_default if hint else None,
    )


def current_locale() -> str:
    """The request's language code (``"de"``); English outside a request."""
    return language_of(str(get_locale() or DEFAULT)) or DEFAULT


class CustomerDomain(Domain):
    """Flask-Babel's translations, with the workspace's overrides laid over our
    catalogue: built once per request (one small query), only where there are any."""

    def get_translations(self) -> NullTranslations:
        if not g:
            return NullTranslations()
        locale = current_locale()
        hint = customer_language()
        workspace_id = hint.workspace_id if hint else None
        cached = g.get("i18n_translations")
        if cached is not None and cached[0] == (locale, workspace_id):
            return cached[1]
        from ..extensions import db
        from . import catalogues, services

        overrides = services.overrides_for(db.session, workspace_id, locale)
        translations = CustomerTranslations(catalogues.catalogue(locale), overrides)
        g.i18n_translations = ((locale, workspace_id), translations)
        return translations


class CustomerBabel(Babel):
    @cached_property
    def domain_instance(self) -> Domain:
        return CustomerDomain()
