"""A Message becomes well-formed MIME (text first, then HTML) and refuses header injection."""

from __future__ import annotations

import email
import email.policy
import email.utils
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emails.message import Message

UNSUBSCRIBE = {
    "List-Unsubscribe": "<https://backstop.example/u/tok>, <mailto:u+tok@backstop.example>",
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
}


def make(**overrides: object) -> Message:
    fields: dict[str, object] = {
        "from_addr": "Acme Billing <billing@mail.acme.example>",
        "to": "jo@example.com",
        "subject": "Your payment failed",
        "text": "Please update your card.\n",
        "html": "<p>Please update your card.</p>",
        "headers": UNSUBSCRIBE,
    }
    return Message(**{**fields, **overrides})  # type: ignore[arg-type]


def reparse(mime: EmailMessage) -> EmailMessage:
    parsed = email.message_from_bytes(mime.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_multipart_alternative_with_text_first_then_html() -> None:
    parsed = reparse(make().to_mime())
    assert parsed.get_content_type() == "multipart/alternative"
    parts = list(parsed.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in parts)
    assert parts[0].get_content() == "Please update your card.\r\n"
    assert parts[1].get_content().strip() == "<p>Please update your card.</p>"


def test_headers_date_message_id_reply_to_and_extras() -> None:
    when = datetime(2025, 3, 1, 12, 30, tzinfo=UTC)
    mime = make(reply_to="Support <help@acme.example>").to_mime("acme.example", date=when)
    parsed = reparse(mime)
    assert parsed["From"] == "Acme Billing <billing@mail.acme.example>"
    assert parsed["To"] == "jo@example.com"
    assert parsed["Subject"] == "Your payment failed"
    assert parsed["Reply-To"] == "Support <help@acme.example>"
    assert email.utils.parsedate_to_datetime(parsed["Date"]) == when
    assert parsed["Message-ID"].endswith("@acme.example>")
    # Too long for one line, so it is folded before the value; unfolding leaves a blank.
    assert parsed["List-Unsubscribe"].strip() == UNSUBSCRIBE["List-Unsubscribe"]
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_message_id_domain_defaults_to_the_senders_and_is_unique() -> None:
    message = make()
    first, second = message.to_mime()["Message-ID"], message.to_mime()["Message-ID"]
    assert first.endswith("@mail.acme.example>")
    assert first != second


def test_no_reply_to_unless_set_and_wire_form_is_crlf_ascii() -> None:
    mime = make(subject="Paiement refusé", text="Carte expirée\n").to_mime()
    assert "Reply-To" not in mime
    raw = mime.as_bytes()
    assert raw.isascii()  # non-ASCII goes out encoded, for relays without 8BITMIME
    assert b"\r\n" in raw
    assert b"\n" not in raw.replace(b"\r\n", b"")
    parsed = reparse(mime)
    assert parsed["Subject"] == "Paiement refusé"
    assert parsed.get_body(("plain",)).get_content() == "Carte expirée\r\n"  # type: ignore[union-attr]


def test_non_ascii_display_name_is_encoded() -> None:
    parsed = reparse(make(from_addr="Café Zoë <billing@cafe.example>").to_mime())
    assert parsed["From"].addresses[0].display_name == "Café Zoë"
    assert parsed["From"].addresses[0].addr_spec == "billing@cafe.example"


@pytest.mark.parametrize(
    "overrides",
    [
        {"subject": "Hi\r\nBcc: victim@example.com"},
        {"subject": "Hi\nBcc: victim@example.com"},
        {"subject": "Hi\rthere"},
        {"subject": "Hi\u2028there"},
        {"to": "jo@example.com\r\nBcc: victim@example.com"},
        {"from_addr": "Acme <a@acme.example>\nBcc: victim@example.com"},
        {"reply_to": "a@acme.example\r\nBcc: victim@example.com"},
        {"headers": {"List-Unsubscribe": "<https://x.example>\r\nBcc: v@example.com"}},
        {"headers": {"X-Bad\r\nBcc": "v@example.com"}},
        {"headers": {"X Space": "v"}},
        {"headers": {"Bcc": "victim@example.com"}},
        {"headers": {"subject": "a second subject"}},
        {"to": "not an address"},
        {"to": "a@example.com, b@example.com"},
    ],
)
def test_header_injection_and_bad_addresses_are_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        make(**overrides)


def test_headers_cannot_change_after_construction() -> None:
    extra = {"List-Unsubscribe": "<https://x.example/u>"}
    message = make(headers=extra)
    extra["Bcc"] = "victim@example.com"
    assert "Bcc" not in message.headers
    with pytest.raises(TypeError):
        message.headers["Bcc"] = "victim@example.com"  # type: ignore[index]


# Anything but the line breaks (and NUL) that Message refuses in a header.
SUBJECTS = st.text(
    st.characters(
        blacklist_categories=("Cs",),
        blacklist_characters="\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\x00",
    )
)


def normalised(text: str) -> str:
    """What a text part becomes on the wire: every line ends with one CRLF."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines[-1] == "":
        lines.pop()
    return "".join(line + "\r\n" for line in lines) or "\r\n"


@given(subject=SUBJECTS, text=st.text())
def test_any_subject_and_text_round_trip(subject: str, text: str) -> None:
    parsed = email.message_from_bytes(
        make(subject=subject, text=text).to_mime().as_bytes(), policy=email.policy.default
    )
    assert isinstance(parsed, EmailMessage)
    assert str(parsed["Subject"]) == subject
    body = parsed.get_body(("plain",))
    assert body is not None
    assert body.get_content() == normalised(text)
