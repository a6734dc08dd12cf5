"""Customers' emails in their language: the message catalogues under ``translations/``
(compiled by ``make i18n-compile``) and a merchant's own wording laid over them.

The pieces here know nothing of ``app/``; ``app.i18n`` uses the same ones for the
hosted pages, over its own catalogue:

- :func:`catalogue` loads a compiled catalogue once per process;
- :class:`CustomerTranslations` is a catalogue with a merchant's overrides on top;
- :func:`template_functions` gives Jinja's ``_``/``gettext``/``ngettext`` (newstyle:
  every string is a ``%(name)s`` format string, and autoescaped). A merchant's text is
  escaped in HTML: only our own catalogues may carry markup, and they carry none.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from babel.support import NullTranslations, Translations
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
DOMAIN = "messages"
#: More plural forms than any language we ship needs (French and Spanish have three).
_MAX_PLURAL_FORMS = 6


@functools.cache
def catalogue(directory: str, locale: str) -> NullTranslations:
    """The compiled catalogue of ``locale`` in ``directory`` (empty for the source
    language, English, or a language without one), read once per process."""
    return Translations.load(directory, [locale], DOMAIN)


class CustomerTranslations(Translations):
    """``base`` with ``overrides`` ({msgid: text}) on top. An override of a plural
    message stands for every form (write ``%(num)d`` where the number goes)."""

    def __init__(self, base: NullTranslations, overrides: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self._catalog = dict(getattr(base, "_catalog", {}))
        self.plural = getattr(base, "plural", self.plural)
        self.overridden = frozenset(overrides or ())
        for msgid, text in (overrides or {}).items():
            self._catalog[msgid] = text
            for form in range(_MAX_PLURAL_FORMS):
                self._catalog[(msgid, form)] = text


def translations_for(
    locale: str, overrides: Mapping[str, str] | None = None
) -> CustomerTranslations:
    """The emails' catalogue of ``locale`` with a merchant's ``overrides``."""
    return CustomerTranslations(catalogue(str(TRANSLATIONS), locale), overrides)


def translate_plain(translations: NullTranslations, message: str) -> str:
    """``message`` as data (a string marked for the catalogue, or text from elsewhere):
    translated, and %-formatted with nothing only where a catalogue or an override had
    it (our strings spell a percent sign ``%%``); anything else comes back as it came."""
    text = translations.gettext(message)
    if text == message:
        return message
    try:
        return text % {}
    except (TypeError, ValueError, KeyError):
        return text


def _finish(context: Context, text: str, overridden: bool, variables: dict[str, Any]) -> Any:
    if context.eval_ctx.autoescape:
        # Our catalogue is trusted (and holds no markup); a merchant's text is escaped.
        text = escape(text) if overridden else Markup(text)  # noqa: S704
    return text % variables


def template_functions(
    translations: Callable[[], NullTranslations],
) -> dict[str, Callable[..., Any]]:
    """``_``, ``gettext`` and ``ngettext`` for templates, reading the catalogue that
    ``translations()`` returns when they are called."""

    @pass_context
    def gettext(__context: Context, __message: str, **variables: Any) -> Any:
        found = translations()
        overridden = __message in getattr(found, "overridden", ())
        return _finish(__context, found.gettext(__message), overridden, variables)

    @pass_context
    def ngettext(
        __context: Context, __singular: str, __plural: str, __num: int, **variables: Any
    ) -> Any:
        variables.setdefault("num", __num)
        found = translations()
        overridden = __singular in getattr(found, "overridden", ())
        text = found.ngettext(__singular, __plural, __num)
        return _finish(__context, text, overridden, variables)

    return {"_": gettext, "gettext": gettext, "ngettext": ngettext}
