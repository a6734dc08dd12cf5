"""Which language a customer sees: pure rules over plain values (no Flask, no I/O).

The order is the issue's: the customer's own Stripe ``preferred_locales`` first, then
the browser's Accept-Language (by quality), then the workspace's default, then English.
Stripe and browsers send tags such as ``"de"``, ``"fr-CA"`` or ``"es-419"``; a tag
matches one of ours by its language part.
"""

from __future__ import annotations

from collections.abc import Iterable

#: The languages we ship catalogues for; the first is the source language.
SUPPORTED: tuple[str, ...] = ("en", "de", "fr", "es")
DEFAULT = "en"

#: Each language's name in itself, for the merchant's language picker.
NATIVE_NAMES = {"en": "English", "de": "Deutsch", "fr": "Français", "es": "Español"}

AcceptLanguage = str | Iterable[str] | Iterable[tuple[str, float]] | None


def language_of(tag: object) -> str | None:
    """The supported language a tag names (``"fr-CA"`` -> ``"fr"``), else None."""
    if not isinstance(tag, str):
        return None
    language = tag.strip().replace("_", "-").split("-", 1)[0].lower()
    return language if language in SUPPORTED else None


def parse_accept_language(header: str) -> list[str]:
    """The tags of an Accept-Language header, best quality first (ties keep their
    order); ``q=0`` means "not this one" and is dropped, as are malformed qualities."""
    weighted: list[tuple[float, int, str]] = []
    for index, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        tag = tag.strip()
        if not tag:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if 0.0 < quality <= 1.0:
            weighted.append((-quality, index, tag))
    return [tag for _, _, tag in sorted(weighted)]


def _accepted_tags(accept_language: AcceptLanguage) -> list[str]:
    if accept_language is None:
        return []
    if isinstance(accept_language, str):
        return parse_accept_language(accept_language)
    items = list(accept_language)
    if all(isinstance(item, str) for item in items):
        return [item for item in items if isinstance(item, str)]
    # (tag, quality) pairs, as werkzeug's ``request.accept_languages`` iterates.
    weighted = []
    for index, item in enumerate(items):
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            try:
                quality = float(item[1])
            except (TypeError, ValueError):
                continue
            if quality > 0:
                weighted.append((-quality, index, item[0]))
    return [tag for _, _, tag in sorted(weighted)]


def first_supported(tags: Iterable[object] | None) -> str | None:
    """The first tag that names a supported language, as that language."""
    for tag in tags or ():
        language = language_of(tag)
        if language is not None:
            return language
    return None


def choose_locale(
    preferred_locales: Iterable[object] | None,
    accept_language: AcceptLanguage,
    workspace_default: str | None,
) -> str:
    """The language a customer's page or email is in; always one of ``SUPPORTED``."""
    if isinstance(preferred_locales, str):  # a lone tag, not a list of letters
        preferred_locales = [preferred_locales]
    return (
        first_supported(preferred_locales)
        or first_supported(_accepted_tags(accept_language))
        or language_of(workspace_default)
        or DEFAULT
    )
