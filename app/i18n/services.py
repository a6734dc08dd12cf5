"""A workspace's languages: its default, its overrides of our strings, the language a
given customer gets, and a translator for text made outside a request (emails).

Services take explicit arguments, flush, never commit (DESIGN §3)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from babel.support import NullTranslations
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from emails.i18n import CustomerTranslations, translate_plain

from ..audit import services as audit
from ..errors import Refusal
from ..stripe.models import MirrorCustomer
from . import catalogues, formatting
from .locales import DEFAULT, SUPPORTED, choose_locale, language_of
from .models import LanguageSettings, StringOverride
from .policy import override_problems
from .selector import preferred_locales_of


def default_locale(session: Session, workspace_id: int) -> str:
    """The workspace's default language for its customers (English when unset)."""
    found = session.execute(
        select(LanguageSettings.default_locale).where(LanguageSettings.workspace_id == workspace_id)
    ).scalar_one_or_none()
    return language_of(found) or DEFAULT


def set_default_locale(
    session: Session, workspace_id: int, locale: str, *, actor_id: int | None, actor_label: str
) -> None:
    if locale not in SUPPORTED:
        raise Refusal(f"Choose one of the languages: {', '.join(SUPPORTED)}.")
    row = session.execute(
        select(LanguageSettings).where(LanguageSettings.workspace_id == workspace_id)
    ).scalar_one_or_none()
    before = row.default_locale if row is not None else DEFAULT
    if row is None:
        row = LanguageSettings(workspace_id=workspace_id)
        session.add(row)
    row.default_locale = locale
    session.flush()
    if before != locale:
        audit.record(
            session,
            actor_id=actor_id,
            actor_label=actor_label,
            action="languages.default",
            target_type="workspace",
            target_id=str(workspace_id),
            workspace_id=workspace_id,
            before=before,
            after=locale,
        )


def overrides_for(session: Session, workspace_id: int | None, locale: str) -> dict[str, str]:
    """The workspace's wording in ``locale``: {msgid: text}. One indexed query."""
    if workspace_id is None:
        return {}
    rows = session.execute(
        select(StringOverride.msgid, StringOverride.text).where(
            StringOverride.workspace_id == workspace_id, StringOverride.locale == locale
        )
    ).all()
    return {row.msgid: row.text for row in rows}


def all_overrides(session: Session, workspace_id: int) -> dict[tuple[str, str], str]:
    """Every override of the workspace: {(locale, msgid): text}."""
    rows = session.execute(
        select(StringOverride.locale, StringOverride.msgid, StringOverride.text).where(
            StringOverride.workspace_id == workspace_id
        )
    ).all()
    return {(locale, msgid): text for locale, msgid, text in rows}


def set_override(
    session: Session,
    workspace_id: int,
    locale: str,
    msgid: str,
    text: str,
    *,
    actor_id: int | None,
    actor_label: str,
) -> None:
    """The merchant's wording of ``msgid`` in ``locale``; empty text goes back to ours."""
    if locale not in SUPPORTED:
        raise Refusal(f"Choose one of the languages: {', '.join(SUPPORTED)}.")
    if msgid not in catalogues.known_msgids():
        raise Refusal("That string is not one of ours; reload the page and try again.")
    text = text.strip()
    problems = override_problems(msgid, text) if text else []
    if problems:
        raise Refusal(*(p[:1].upper() + p[1:] + "." for p in problems))
    where = (
        StringOverride.workspace_id == workspace_id,
        StringOverride.locale == locale,
        StringOverride.msgid == msgid,
    )
    row = session.execute(select(StringOverride).where(*where)).scalar_one_or_none()
    before = row.text if row is not None else None
    if not text:
        session.execute(delete(StringOverride).where(*where))
    elif row is None:
        session.add(
            StringOverride(
                workspace_id=workspace_id,
                locale=locale,
                msgid=msgid,
                text=text,
                updated_by_id=actor_id,
            )
        )
    else:
        row.text, row.updated_by_id = text, actor_id
    session.flush()
    if before != (text or None):
        audit.record(
            session,
            actor_id=actor_id,
            actor_label=actor_label,
            action="languages.override" if text else "languages.override_removed",
            target_type="string_override",
            target_id=f"{locale}:{msgid[:200]}",
            workspace_id=workspace_id,
            locale=locale,
            msgid=msgid,
            before=before,
            after=text or None,
        )


def customer_data(
    session: Session, workspace_id: int, customer_stripe_id: str | None
) -> dict[str, Any] | None:
    """The Stripe customer object we mirror for the workspace (None when unknown)."""
    if not customer_stripe_id:
        return None
    return session.execute(
        select(MirrorCustomer.data).where(
            MirrorCustomer.workspace_id == workspace_id,
            MirrorCustomer.stripe_id == customer_stripe_id,
        )
    ).scalar_one_or_none()


def customer_locale(session: Session, workspace_id: int, customer_stripe_id: str | None) -> str:
    """The language to write to a customer in: their Stripe ``preferred_locales``, else
    the workspace's default (an email has no browser to ask)."""
    data = customer_data(session, workspace_id, customer_stripe_id)
    return choose_locale(preferred_locales_of(data), None, default_locale(session, workspace_id))


@dataclass(frozen=True)
class Translator:
    """Our strings, money and dates in one customer's language, for text made outside
    a request (an email's copy). ``gettext`` always %-formats, as templates do;
    ``overrides`` is the workspace's wording in that language, for ``emails.render``."""

    locale: str
    translations: NullTranslations
    overrides: Mapping[str, str] = field(default_factory=dict)

    def gettext(self, message: str, **variables: Any) -> str:
        return self.translations.gettext(message) % variables

    def translate(self, message: str) -> str:
        """A marked message (``N_``) that carries no ``%`` placeholders, as data."""
        return translate_plain(self.translations, message)

    def ngettext(self, singular: str, plural: str, num: int, **variables: Any) -> str:
        variables.setdefault("num", num)
        return self.translations.ngettext(singular, plural, num) % variables

    def money(self, minor: int, currency: str | None) -> str:
        return formatting.format_money(minor, currency, self.locale)

    def date(self, value: Any, format: str = "long") -> str:
        return formatting.format_date(value, self.locale, format)


def translator(locale: str = DEFAULT, overrides: Mapping[str, str] | None = None) -> Translator:
    """Our pages' catalogue of ``locale`` with the workspace's ``overrides`` on top."""
    overrides = dict(overrides or {})
    return Translator(
        locale, CustomerTranslations(catalogues.catalogue(locale), overrides), overrides
    )


def translator_for(session: Session, workspace_id: int, locale: str) -> Translator:
    return translator(locale, overrides_for(session, workspace_id, locale))


def for_customer(session: Session, workspace_id: int, customer_stripe_id: str | None) -> Translator:
    """How to write to this customer of the workspace (see :func:`customer_locale`)."""
    locale = customer_locale(session, workspace_id, customer_stripe_id)
    return translator_for(session, workspace_id, locale)
