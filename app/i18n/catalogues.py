"""Our customer-facing strings: the catalogue of ``app/`` and ``hosted/`` (under
``translations/`` here) and the emails' own (``emails/translations``), read for
translating and listed for the merchant's Languages page.

``make i18n-extract`` writes each ``messages.pot``, ``make i18n-update`` merges it into
every language's ``.po`` and ``make i18n-compile`` compiles the ``.mo`` files that are
read at run time (they are committed, so a fresh clone runs without a build step).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from babel.support import NullTranslations

from emails.i18n import TRANSLATIONS as EMAIL_TRANSLATIONS
from emails.i18n import catalogue as load_catalogue

from .locales import SUPPORTED

APP_TRANSLATIONS = Path(__file__).resolve().parent / "translations"
#: Every catalogue, by what its strings are part of.
CATALOGUES = {"pages": APP_TRANSLATIONS, "emails": EMAIL_TRANSLATIONS}
TRANSLATED = tuple(locale for locale in SUPPORTED if locale != "en")

#: Where a string shows, by the file it comes from (first match wins).
PLACES = (
    ("hosted/templates/hosted/card_update", "Card-update page and payment wall"),
    ("hosted/templates/hosted/cancel", "Cancel flow"),
    ("hosted/templates/hosted/dead_end", "Expired or unknown link page"),
    ("hosted/templates/hosted/unsubscribe", "Unsubscribe page"),
    ("hosted/templates/hosted/portal", "Customer portal"),
    ("hosted/templates/hosted/winback", "Win-back page"),
    ("hosted/winback_views", "Win-back page"),
    ("hosted/templates/hosted/_portal", "Customer portal"),
    ("hosted/templates/hosted/_support", "Every hosted page (support line)"),
    ("hosted/templates/hosted/", "Every hosted page"),
    ("hosted/cancel_views", "Cancel flow"),
    ("hosted/portal", "Customer portal"),
    ("hosted/", "Hosted pages"),
    ("app/retain/", "Cancel flow"),
    ("app/dunning/copy", "Dunning email and card-update page"),
    ("app/dunning/expiry", "Card-expiry email"),
    ("app/dunning/", "Card-update page"),
    ("app/portal/", "Customer portal"),
    ("app/checkout_recovery/", "Checkout-recovery email"),
    ("app/sms/", "Dunning text message (SMS)"),
    ("app/winback/copy", "Win-back email"),
    ("app/winback/", "Win-back email and page"),
    ("emails/templates/dunning", "Dunning email"),
    ("emails/templates/card_expiring", "Card-expiry email"),
    ("emails/templates/card_update_link", "Fresh-link email"),
    ("emails/templates/portal_link", "Billing-link email"),
    ("emails/templates/winback", "Win-back email"),
    ("emails/templates/checkout_recovery", "Checkout-recovery email"),
    ("emails/templates/base", "Every email (footer)"),
)


def catalogue(locale: str) -> NullTranslations:
    """The pages' compiled catalogue of ``locale``, read once per process."""
    return load_catalogue(str(APP_TRANSLATIONS), locale)


@dataclass(frozen=True)
class Message:
    """One of our strings: its English source, plural, where it shows, and ours in
    every language (the first form of a plural)."""

    msgid: str
    plural: str | None
    places: tuple[str, ...]
    ours: dict[str, str] = field(default_factory=dict)

    def matches(self, needle: str) -> bool:
        needle = needle.casefold()
        return any(needle in text.casefold() for text in (self.msgid, *self.ours.values()))


def place_of(path: str) -> str:
    return next((label for prefix, label in PLACES if path.startswith(prefix)), "Elsewhere")


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=locale)


def _first(value: object) -> str:
    if isinstance(value, (tuple, list)):
        return str(value[0]) if value else ""
    return str(value or "")


@functools.cache
def messages() -> tuple[Message, ...]:
    """Every string of every catalogue, once (a string in both shows in both places)."""
    found: dict[str, Message] = {}
    for directory in CATALOGUES.values():
        template = _read(directory / "messages.pot")
        translated = {
            locale: _read(directory / locale / "LC_MESSAGES" / "messages.po", locale)
            for locale in TRANSLATED
        }
        for entry in template:
            if not entry.id:
                continue
            msgid = _first(entry.id)
            plural = str(entry.id[1]) if isinstance(entry.id, (tuple, list)) else None
            places = tuple(dict.fromkeys(place_of(path) for path, _ in entry.locations))
            ours = {"en": msgid}
            for locale, po in translated.items():
                own = po.get(entry.id)
                ours[locale] = _first(own.string) if own is not None else ""
            known = found.get(msgid)
            if known is not None:
                places = tuple(dict.fromkeys((*known.places, *places)))
                ours = {k: known.ours.get(k) or v for k, v in ours.items()}
            found[msgid] = Message(msgid, plural, places, ours)
    return tuple(sorted(found.values(), key=lambda m: (m.places, m.msgid.casefold())))


def known_msgids() -> frozenset[str]:
    return frozenset(m.msgid for m in messages())
