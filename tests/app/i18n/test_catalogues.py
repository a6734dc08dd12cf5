"""The catalogues cannot fall behind: the .pot files hold exactly the strings the code
and templates use, every language translates every one of them (nothing empty, nothing
fuzzy, every placeholder kept), and the committed .mo files are compiled from the .po."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from app.i18n.catalogues import APP_TRANSLATIONS, TRANSLATED, messages
from app.i18n.policy import brace_names, percent_names
from emails.i18n import TRANSLATIONS as EMAIL_TRANSLATIONS

from ...conftest import ROOT

#: Each catalogue with the mapping `make i18n-extract` uses for it.
CATALOGUES = {
    "pages": (APP_TRANSLATIONS, ROOT / "babel.cfg"),
    "emails": (EMAIL_TRANSLATIONS, ROOT / "emails" / "babel.cfg"),
}


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=locale)


def _ids(catalog: Catalog) -> set:
    return {m.id for m in catalog if m.id}


@pytest.mark.parametrize("name", sorted(CATALOGUES))
def test_the_template_is_up_to_date_with_the_code(name, tmp_path, monkeypatch) -> None:
    directory, mapping = CATALOGUES[name]
    out = tmp_path / "messages.pot"
    monkeypatch.chdir(ROOT)
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", str(mapping), "-o", str(out), "--no-location", "."]
    )
    extracted, committed = _ids(_read(out)), _ids(_read(directory / "messages.pot"))
    new, gone = sorted(map(str, extracted - committed)), sorted(map(str, committed - extracted))
    assert extracted == committed, (
        f"run `make i18n-extract i18n-update` and translate: new {new}, gone {gone}"
    )


@pytest.mark.parametrize("locale", TRANSLATED)
@pytest.mark.parametrize("name", sorted(CATALOGUES))
def test_every_string_is_translated_and_reviewed(name, locale) -> None:
    directory, _ = CATALOGUES[name]
    template = _read(directory / "messages.pot")
    po = _read(directory / locale / "LC_MESSAGES" / "messages.po", locale)
    assert _ids(po) == _ids(template), "run `make i18n-update`"
    problems = []
    for entry in po:
        if not entry.id:
            continue
        forms = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if entry.fuzzy:
            problems.append(f"fuzzy: {entry.id!r}")
        if not all(forms) or len(forms) != (po.num_plurals if entry.pluralizable else 1):
            problems.append(f"untranslated: {entry.id!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("locale", TRANSLATED)
@pytest.mark.parametrize("name", sorted(CATALOGUES))
def test_translations_keep_every_placeholder(name, locale) -> None:
    directory, _ = CATALOGUES[name]
    po = _read(directory / locale / "LC_MESSAGES" / "messages.po", locale)
    problems = []
    for entry in po:
        if not entry.id:
            continue
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        forms = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        allowed = set().union(*(percent_names(i) or set() for i in ids))
        needed = (percent_names(ids[0]) or set()) - {"num"}
        for form in forms:
            names = percent_names(form)
            if names is None or not needed <= names <= allowed:
                problems.append(f"{entry.id!r}: {form!r}")
            if brace_names(form) != brace_names(ids[0]):
                problems.append(f"{entry.id!r}: {form!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("locale", TRANSLATED)
@pytest.mark.parametrize("name", sorted(CATALOGUES))
def test_the_committed_mo_files_are_compiled_from_the_po(name, locale) -> None:
    folder = CATALOGUES[name][0] / locale / "LC_MESSAGES"
    compiled = io.BytesIO()
    write_mo(compiled, _read(folder / "messages.po", locale))
    assert (folder / "messages.mo").read_bytes() == compiled.getvalue(), (
        "run `make i18n-compile` and commit the .mo files"
    )


def test_the_languages_page_lists_every_string_once_with_where_it_shows() -> None:
    listed = messages()
    assert len({m.msgid for m in listed}) == len(listed) > 150
    update = next(m for m in listed if m.msgid == "Update your card")
    assert {"Card-update page and payment wall", "Card-expiry email"} <= set(update.places)
    assert update.ours["de"] == "Karte aktualisieren" and update.ours["en"] == "Update your card"
    assert all(m.places and "Elsewhere" not in m.places for m in listed)
