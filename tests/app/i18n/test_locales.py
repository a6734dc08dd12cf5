"""The language a customer gets: Stripe's preferred_locales, Accept-Language, the
workspace default, English."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.i18n.locales import (
    DEFAULT,
    SUPPORTED,
    choose_locale,
    first_supported,
    language_of,
    parse_accept_language,
)


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("de", "de"),
        ("DE", "de"),
        ("fr-CA", "fr"),
        ("es-419", "es"),
        ("es_ES", "es"),
        (" en-GB ", "en"),
        ("pt-BR", None),
        ("", None),
        ("*", None),
        ("-de", None),
        (None, None),
        (42, None),
    ],
)
def test_a_tag_matches_by_its_language(tag, expected):
    assert language_of(tag) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("de-DE,de;q=0.9,en;q=0.8", ["de-DE", "de", "en"]),
        ("en;q=0.5, fr", ["fr", "en"]),
        ("es;q=0.7,fr;q=0.7,de;q=0.9", ["de", "es", "fr"]),
        ("fr;q=0, de", ["de"]),
        ("fr;q=abc, de;q=0.1", ["de"]),
        ("fr;q=2", []),
        ("", []),
        (",,;q=1,", []),
        ("*", ["*"]),
    ],
)
def test_accept_language_is_read_by_quality(header, expected):
    assert parse_accept_language(header) == expected


@pytest.mark.parametrize(
    ("preferred", "accept", "default", "expected"),
    [
        (["de"], "fr", "es", "de"),
        (["fr-CA"], None, None, "fr"),
        (["es-419"], "de", "en", "es"),
        (["pt-BR", "de"], "fr", None, "de"),  # the first *supported* preferred locale
        (["pt-BR"], "fr-FR,en;q=0.5", "es", "fr"),
        ([], "pt, es;q=0.4, de;q=0.6", None, "de"),
        ([], "pt", "es", "es"),
        (None, None, "fr", "fr"),
        (None, None, "pt", "en"),  # an unsupported default falls to English
        (None, None, None, "en"),
        ([], [("es", 0.5), ("de", 0.9)], None, "de"),  # werkzeug's parsed pairs
        ([], [("es", 0.0)], "fr", "fr"),
        ([], ["it", "fr"], None, "fr"),  # plain tags, already in order
        ("de", None, None, "de"),  # a lone tag string is one tag, not letters
        ([None, 3, "fr"], None, None, "fr"),  # junk in Stripe's list is skipped
        ([], "*", "es", "es"),
    ],
)
def test_choose_locale(preferred, accept, default, expected):
    assert choose_locale(preferred, accept, default) == expected


def test_first_supported_of_nothing():
    assert first_supported(None) is None
    assert first_supported([]) is None


tags = st.one_of(
    st.sampled_from(["en", "de", "fr", "es", "fr-CA", "es-419", "de-AT", "en-US", "pt", "it"]),
    st.text(max_size=8),
)
qualities = st.floats(min_value=0, max_value=1, allow_nan=False)
accepts = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.lists(tags, max_size=5),
    st.lists(st.tuples(tags, qualities), max_size=5),
    st.lists(st.tuples(tags, qualities), max_size=5).map(
        lambda pairs: ",".join(f"{t};q={q:.2f}" for t, q in pairs)
    ),
)


@given(st.lists(tags, max_size=5), accepts, st.one_of(st.none(), tags))
def test_always_a_supported_locale(preferred, accept, default):
    assert choose_locale(preferred, accept, default) in SUPPORTED


@given(st.lists(tags, max_size=5), st.sampled_from(SUPPORTED), accepts, st.one_of(st.none(), tags))
def test_a_supported_preferred_locale_always_wins(before, wanted, accept, default):
    unsupported = [t for t in before if language_of(t) is None]
    assert choose_locale([*unsupported, wanted, *before], accept, default) == wanted


@given(st.lists(tags, max_size=5), st.lists(tags, min_size=1, max_size=5), accepts)
def test_the_browser_counts_only_without_a_supported_preferred_locale(preferred, accept, default):
    unsupported = [t for t in preferred if language_of(t) is None]
    expected = first_supported(accept) or language_of(default) or DEFAULT
    assert choose_locale(unsupported, accept, default) == expected


@given(st.sampled_from(SUPPORTED), st.lists(st.sampled_from(["pt", "it", "zz", ""]), max_size=4))
def test_the_workspace_default_counts_when_nothing_else_does(default, unsupported):
    assert choose_locale(unsupported, ",".join(unsupported), default) == default


@given(st.lists(st.tuples(tags, qualities), max_size=6))
def test_the_header_and_its_parsed_pairs_agree(pairs):
    clean = [(t.replace(",", "").replace(";", ""), float(f"{q:.3f}")) for t, q in pairs]
    header = ",".join(f"{t};q={q:.3f}" for t, q in clean)
    parsed = clean
    assert choose_locale([], header, None) == choose_locale([], parsed, None)


@given(st.permutations(["de;q=0.9", "fr;q=0.5", "es;q=0.2"]))
def test_order_in_the_header_does_not_matter_only_quality(items):
    assert choose_locale([], ",".join(items), None) == "de"
