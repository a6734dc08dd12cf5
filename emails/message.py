"""One outgoing email as plain values, and its MIME form for the transports that send raw
messages (SES, SMTP)."""

from __future__ import annotations

import email.policy
import email.utils
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.header import Header
from email.message import EmailMessage
from types import MappingProxyType

# 7bit forces quoted-printable/base64 for non-ASCII bodies, so relays without 8BITMIME
# and SES's raw API see plain ASCII on the wire; SMTP's policy gives CRLF line endings.
_POLICY = email.policy.SMTP.clone(cte_type="7bit")

# Everything str.splitlines() breaks on: some mail software treats these as line ends
# too, so any of them in a header could start a new, forged header.
_LINE_BREAKS = frozenset("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")

# Headers the message builds itself; an extra header of the same name would duplicate it.
_RESERVED = frozenset(
    {
        "from",
        "to",
        "cc",
        "bcc",
        "subject",
        "reply-to",
        "date",
        "message-id",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
    }
)


def _refuse_line_breaks(label: str, value: str) -> None:
    if "\x00" in value or any(ch in _LINE_BREAKS for ch in value):
        raise ValueError(f"{label} must be a single line (line breaks would inject headers)")


def _refuse_bad_address(label: str, value: str) -> None:
    _refuse_line_breaks(label, value)
    parsed = email.utils.getaddresses([value])
    if len(parsed) != 1 or "@" not in parsed[0][1]:
        raise ValueError(f"{label} must be one address such as 'Name <a@example.com>'")


def _is_header_name(name: str) -> bool:
    # RFC 5322 field names: printable ASCII except the colon, no spaces.
    return bool(name) and all(33 <= ord(ch) <= 126 and ch != ":" for ch in name)


def address_domain(addr: str) -> str:
    """The domain of ``addr`` (``"Name <a@b.c>"`` → ``"b.c"``), lower-cased."""
    return email.utils.parseaddr(addr)[1].rpartition("@")[2].lower()


@dataclass(frozen=True)
class Message:
    """A rendered email ready for a transport; refuses header injection when built."""

    from_addr: str
    to: str
    subject: str
    text: str
    html: str
    reply_to: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _refuse_bad_address("The sender", self.from_addr)
        _refuse_bad_address("The recipient", self.to)
        if self.reply_to is not None:
            _refuse_bad_address("Reply-To", self.reply_to)
        _refuse_line_breaks("The subject", self.subject)
        for name, value in self.headers.items():
            if not _is_header_name(name):
                raise ValueError(f"{name!r} is not a valid header name")
            if name.lower() in _RESERVED:
                raise ValueError(f"the {name} header is set by the message itself")
            _refuse_line_breaks(f"The {name} header", value)
        # A frozen message should not change when the caller's dict does.
        object.__setattr__(self, "headers", MappingProxyType(dict(self.headers)))

    def to_mime(
        self, message_id_domain: str | None = None, *, date: datetime | None = None
    ) -> EmailMessage:
        """multipart/alternative (text, then HTML) with Date, Message-ID and the extra
        headers; the Message-ID domain defaults to the sender's."""
        mime = EmailMessage(policy=_POLICY)
        mime["From"] = self.from_addr
        mime["To"] = self.to
        _set_subject(mime, self.subject)
        if date is None:
            mime["Date"] = email.utils.formatdate(usegmt=True)
        else:
            mime["Date"] = email.utils.format_datetime(date)
        # An explicit domain: make_msgid() would otherwise ask DNS for this host's name.
        mime["Message-ID"] = email.utils.make_msgid(
            domain=message_id_domain or address_domain(self.from_addr)
        )
        if self.reply_to is not None:
            mime["Reply-To"] = self.reply_to
        for name, value in self.headers.items():
            mime[name] = value
        mime.set_content(self.text, charset="utf-8")
        mime.add_alternative(self.html, subtype="html", charset="utf-8")
        return mime


def _set_subject(mime: EmailMessage, subject: str) -> None:
    plain = (
        subject.isascii()
        and subject.isprintable()
        and "=?" not in subject
        and subject == subject.strip()
    )
    if plain:
        mime["Subject"] = subject
        return
    # The email package drops leading blanks and decodes text that merely looks like an
    # RFC 2047 word ("=?utf-8?q?x?="); encoding the whole subject keeps it exact.
    mime.set_raw("Subject", Header(subject, "utf-8", header_name="Subject").encode())
