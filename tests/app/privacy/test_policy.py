"""The pure rules of the data-rights features."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.privacy.policy import (
    ERASED,
    MIN_NAME_LENGTH,
    REDACTED,
    Subject,
    is_secret_column,
    needles,
    parse_subject,
    redact,
    scrub_document,
    scrub_text,
)


@pytest.mark.parametrize(
    "name",
    ["secret_enc", "token_hash", "auth_token_encrypted", "webhook_token", "holdout_salt",
     "password_hash", "totp_secret", "previous_secret_enc", "url_enc"],
)  # fmt: skip
def test_secrets_are_recognised(name) -> None:
    assert is_secret_column(name)


@pytest.mark.parametrize("name", ["email", "name", "amount_minor", "prefix", "encoding", "hashtag"])
def test_the_rest_is_not_a_secret(name) -> None:
    assert not is_secret_column(name)


def test_redact_keeps_only_whether_it_was_set() -> None:
    assert (redact(None), redact("gAAAA...")) == (None, REDACTED)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cus_NffrFeUfNV2Hib", Subject(customer_id="cus_NffrFeUfNV2Hib")),
        ("  Ada@Example.COM ", Subject(email="ada@example.com")),
    ],
)
def test_subject_is_an_id_or_an_email(text, expected) -> None:
    assert parse_subject(text) == expected


@pytest.mark.parametrize("text", ["", "ada", "sub_123", "cus_", "a@b", "ada lovelace@x.com"])
def test_anything_else_is_refused(text) -> None:
    with pytest.raises(ValueError, match="neither a Stripe customer id"):
        parse_subject(text)


def test_needles_skip_short_names_and_put_the_longest_first() -> None:
    found = needles(["Ada@Example.com", None], ["Ada", "Ada Lovelace"], ["+4477", "+447700900001"])
    assert found == ("ada@example.com", "+447700900001", "ada lovelace", "+4477")
    assert all(len(n) >= MIN_NAME_LENGTH for n in found)


def test_scrub_text_erases_every_case() -> None:
    assert scrub_text("Mail ADA@example.com or ada@EXAMPLE.com", ("ada@example.com",)) == (
        f"Mail {ERASED} or {ERASED}"
    )


def test_a_document_about_them_loses_its_personal_keys() -> None:
    doc = {"customer": "cus_1", "address": {"line1": "1 Row"}, "lines": [{"name": "Pro"}]}
    assert scrub_document(doc, (), whole=True) == {
        "customer": "cus_1",
        "address": None,
        "lines": [{"name": "Pro"}],
    }
    assert scrub_document(doc, (), whole=False) == doc


_words = st.text(alphabet="abcdefgh@.+ 0123ÀéXY", max_size=12)
_docs = st.recursive(
    st.none() | st.integers() | _words,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_words, inner, max_size=4),
    max_leaves=20,
)


@given(doc=_docs, needle=st.text(alphabet="abcdefgh@.+0123", min_size=5, max_size=10))
def test_no_needle_survives_a_scrub(doc, needle) -> None:
    planted = {"note": f"x{needle.upper()}y", "rest": doc, "list": [needle]}
    scrubbed = scrub_document(planted, (needle.lower(),), whole=False)
    # The law is about text: a needle of digits may still match a number (an amount),
    # and keys are field names, not anyone's details.
    assert not [s for s in _strings(scrubbed) if needle.lower() in s.lower()]


def _strings(doc):
    if isinstance(doc, str):
        yield doc
    elif isinstance(doc, dict):
        for value in doc.values():
            yield from _strings(value)
    elif isinstance(doc, list):
        for value in doc:
            yield from _strings(value)


@given(doc=_docs)
def test_a_scrub_without_needles_changes_nothing(doc) -> None:
    assert scrub_document(doc, (), whole=False) == doc
