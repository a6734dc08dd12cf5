"""The locale of the current request, for Flask-Babel.

Merchant pages (dashboard, sign-in, the back office) stay in English. Customer-facing
blueprints are marked with :func:`customer_facing`; their requests follow the browser's
Accept-Language. A hosted view that knows whose page it is calls :func:`use_customer`,
so the customer's Stripe ``preferred_locales`` and the workspace's default language
take part too (see :func:`app.i18n.locales.choose_locale` for the order).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, g, has_request_context, request

from .locales import DEFAULT, choose_locale


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
    from flask_babel import refresh

    g.i18n_customer_facing = True
    g.i18n_customer = language
    refresh()


def customer_language() -> CustomerLanguage | None:
    return g.get("i18n_customer") if g else None


def select_locale() -> str:
    """Flask-Babel's locale selector."""
    if not g or not g.get("i18n_customer_facing"):
        return DEFAULT
    hint: CustomerLanguage | None = g.get("i18n_customer")
    accept = request.accept_languages if has_request_context() else None
    return choose_locale(
        hint.preferred_locales if hint else (),
        accept,
        hint.workspace_default if hint else None,
    )
