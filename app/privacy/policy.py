"""Pure rules of the data-rights features: no session, no clock, no Flask."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..crypto import SECRET_SUFFIXES

#: What replaces erased personal data in a column that may not be empty.
ERASED = "[erased]"
#: What stands in an export for a secret that is set (the secret itself never leaves).
REDACTED = "[redacted]"

_SECRET_WORDS = ("token", "secret", "password", "totp", "salt")


def is_secret_column(name: str) -> bool:
    """Encrypted values, hashes, tokens, secrets and salts: listed in an export as
    redacted, never in clear (even encrypted bytes would be an offline target)."""
    lowered = name.lower()
    return lowered.endswith(SECRET_SUFFIXES) or any(word in lowered for word in _SECRET_WORDS)


def redact(value: Any) -> Any:
    return None if value is None else REDACTED


# -- whom an erasure is about ------------------------------------------------------------------

_CUSTOMER_ID = re.compile(r"^cus_[A-Za-z0-9_]+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Subject:
    """Whom an erasure request names: a Stripe customer id or an email address."""

    customer_id: str | None = None
    email: str | None = None


def parse_subject(text: str) -> Subject:
    """``cus_...`` or an email address (lower-cased); ValueError for anything else."""
    value = (text or "").strip()
    if _CUSTOMER_ID.match(value):
        return Subject(customer_id=value)
    if _EMAIL.match(value):
        return Subject(email=value.lower())
    raise ValueError(f"{text!r} is neither a Stripe customer id (cus_...) nor an email address.")


#: Names shorter than this are not searched for outside the customer's own rows: "Al"
#: would match half the database (other customers' words, plan names).
MIN_NAME_LENGTH = 5


def needles(
    emails: Iterable[str | None], names: Iterable[str | None], phones: Iterable[str | None]
) -> tuple[str, ...]:
    """The strings whose every occurrence is erased, lower-cased, longest first (so a
    name inside an email is not erased first and the email left half-readable)."""
    found = {e.strip().lower() for e in emails if e and e.strip()}
    found |= {n.strip().lower() for n in names if n and len(n.strip()) >= MIN_NAME_LENGTH}
    found |= {p.strip().lower() for p in phones if p and len(p.strip()) >= MIN_NAME_LENGTH}
    return tuple(sorted(found, key=lambda s: (-len(s), s)))


def scrub_text(value: str, found: tuple[str, ...]) -> str:
    """``value`` with every occurrence of every needle (any case) replaced by ERASED."""
    for needle in found:
        value = re.sub(re.escape(needle), ERASED, value, flags=re.IGNORECASE)
    return value


#: Keys of Stripe objects (and our own event data) that hold a person's details,
#: wherever they appear in a stored document. Not "name": plans and products have one
#: (the customer's own name is a needle instead).
PII_KEYS = frozenset(
    {
        "address", "billing_details", "customer_address", "customer_email", "customer_name",
        "customer_phone", "customer_shipping", "email", "ip", "ip_address", "phone",
        "receipt_email", "shipping", "to_email", "to_number", "user_agent",
    }
)  # fmt: skip


def scrub_document(doc: Any, found: tuple[str, ...], *, whole: bool) -> Any:
    """A JSON document with the needles erased from every string. With ``whole`` (the
    document is about the erased customer) the values under PII_KEYS go too, needle
    or not (an address or a phone number we had no needle for)."""
    if isinstance(doc, dict):
        return {
            key: (
                None
                if whole and key in PII_KEYS and value not in (None, "", {}, [])
                else scrub_document(value, found, whole=whole)
            )
            for key, value in doc.items()
        }
    if isinstance(doc, list):
        return [scrub_document(item, found, whole=whole) for item in doc]
    if isinstance(doc, str):
        return scrub_text(doc, found)
    return doc


def contains_any(value: Any, found: tuple[str, ...]) -> bool:
    text = str(value).lower()
    return any(needle in text for needle in found)


# -- what survives a workspace purge -------------------------------------------------------------

#: Kept when a workspace is purged, and why (docs/data-rights.md says the same):
#: the audit trail (anonymised) is our record of who did what, and the daily figures
#: and baseline (money totals without a person in them) back our own invoicing.
PURGE_KEEPS = {
    "audit_entry": "the audit trail, anonymised (actor and details dropped)",
    "insight_daily": "daily money totals, no personal data: our own invoicing",
    "insight_baseline": "the baseline totals, no personal data: our own invoicing",
}

#: Columns of the workspace row that are kept after a purge: the record that it existed.
WORKSPACE_KEPT = frozenset({"id", "slug", "timezone", "created_at"})


def purged_name(workspace_id: int) -> str:
    return f"Purged workspace {workspace_id}"
