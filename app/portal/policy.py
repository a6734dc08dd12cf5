"""The portal's pure rules: links, which plan changes are upgrades, pause lengths,
billing details, and the signed form token that stands in for a session's CSRF token
(the portal opens in the merchant's cross-site frame, where no cookie is sent)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..times import add_months


def N_(message: str) -> str:
    """Marks a customer-facing message for the catalogue (pybabel's ``N_``); it is
    translated where it is shown. Kept here so these rules import no Flask."""
    return message


LINK_TTL = dt.timedelta(days=90)
#: A link is handed out again while it has at least this long to run; after that a
#: fresh one is made (the old one keeps working until it expires).
REUSE_MIN_LEFT = dt.timedelta(days=7)
#: A downgrade at the period's end is applied this long before the renewal, so the
#: renewal invoice already bills the new plan.
CHANGE_LEAD = dt.timedelta(hours=1)
MAX_PAUSE_MONTHS = 12
MAX_QUANTITY = 10_000


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def reusable(*, expires_at: dt.datetime, revoked: bool, now: dt.datetime) -> bool:
    return not revoked and expires_at - now >= REUSE_MIN_LEFT


def form_token(secret: str, link_id: int, token_hash: str) -> str:
    """The hidden field every portal form carries: only a page served for this link
    can have it, and it needs no cookie."""
    message = f"portal-form\n{link_id}\n{token_hash}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def form_token_ok(secret: str, link_id: int, token_hash: str, sent: object) -> bool:
    return isinstance(sent, str) and hmac.compare_digest(
        form_token(secret, link_id, token_hash).encode(), sent.encode()
    )


# -- plan changes -----------------------------------------------------------------------------

_MONTHS = {"month": Fraction(1), "year": Fraction(12), "week": Fraction(12, 52)}


@dataclass(frozen=True)
class PriceShape:
    id: str
    amount_minor: int
    currency: str
    interval: str
    interval_count: int = 1

    @property
    def months(self) -> Fraction:
        """The billing period in months (a day is 12/365 of one)."""
        unit = _MONTHS.get(self.interval, Fraction(12, 365))
        return unit * max(self.interval_count, 1)

    @property
    def per_month(self) -> Fraction:
        """The exact price per month (a Fraction: no rounding decides an upgrade)."""
        return Fraction(self.amount_minor) / self.months


def is_upgrade(current: PriceShape, target: PriceShape) -> bool:
    """A dearer plan per month, or the same price per month over a longer period,
    is an upgrade (it starts now); anything else is a downgrade."""
    if target.per_month != current.per_month:
        return target.per_month > current.per_month
    return target.months > current.months


def switch_targets(
    current: PriceShape | None, allowed: list[PriceShape], *, allowed_ids: list[str]
) -> list[PriceShape]:
    """The prices a customer on ``current`` may switch to: allowed by the merchant, in
    the same currency, not the one they are on; in the merchant's order."""
    if current is None:
        return []
    order: dict[str, int] = {}
    for i, price_id in enumerate(allowed_ids):
        order.setdefault(price_id, i)
    return sorted(
        (
            p
            for p in allowed
            if p.id in order and p.id != current.id and p.currency == current.currency
        ),
        key=lambda p: order[p.id],
    )


def takes_effect_now(current: PriceShape, target: PriceShape, *, downgrade_timing: str) -> bool:
    return is_upgrade(current, target) or downgrade_timing == "now"


def change_due_at(period_end: dt.datetime) -> dt.datetime:
    return period_end - CHANGE_LEAD


def quantity_problem(quantity: int, *, current: int, max_quantity: int) -> str | None:
    """Why ``quantity`` seats can't be chosen, or None."""
    if max_quantity < 1:
        return N_("The number of seats can't be changed here.")
    if not 1 <= quantity <= max_quantity:
        return N_("Choose a number of seats from 1 up to the limit shown.")
    if quantity == current:
        return N_("That's the number you have.")
    return None


# -- pauses ------------------------------------------------------------------------------------


def pause_choices(allowed: list[int] | None) -> list[int]:
    """The pause lengths to offer, cleaned: whole months 1..12, each once, in order."""
    return sorted({m for m in allowed or [] if isinstance(m, int) and 1 <= m <= MAX_PAUSE_MONTHS})


def resumes_at(at: dt.datetime, months: int) -> dt.datetime:
    return add_months(at, months)


# -- billing details ---------------------------------------------------------------------------

ADDRESS_FIELDS = ("line1", "line2", "city", "state", "postal_code", "country")
_LIMITS = {"line1": 200, "line2": 200, "city": 100, "state": 100, "postal_code": 20}
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


def looks_like_email(text: str) -> bool:
    """An address worth sending to (Stripe and the mail provider judge the rest)."""
    return len(text) <= 254 and bool(_EMAIL.match(text))


#: The tax ids the form offers (Stripe knows many more; the sandbox checks the format).
TAX_ID_TYPES = {
    "eu_vat": "EU VAT number",
    "gb_vat": "UK VAT number",
    "us_ein": "US EIN",
    "au_abn": "Australian ABN",
    "ca_bn": "Canadian BN",
    "ch_vat": "Swiss VAT number",
    "no_vat": "Norwegian VAT number",
}


class DetailsProblem(ValueError):
    """A billing detail the customer typed that cannot be sent (shown beside the field)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _line(value: Any, field: str, limit: int) -> str:
    text = (value or "").strip() if isinstance(value, str) else ""
    if len(text) > limit:
        raise DetailsProblem(field, N_("That is longer than this field allows."))
    if any(not c.isprintable() for c in text):
        raise DetailsProblem(field, N_("Use letters, numbers and punctuation only."))
    return text


def clean_details(form: dict[str, Any], editable: list[str]) -> dict[str, Any]:
    """The Stripe customer update for what the customer typed, limited to the fields
    the merchant lets them change. Raises :class:`DetailsProblem`."""
    update: dict[str, Any] = {}
    if "email" in editable:
        email = _line(form.get("email"), "email", 254)
        if not looks_like_email(email):
            raise DetailsProblem("email", N_("Enter an email address like name@example.com."))
        update["email"] = email
    if "name" in editable:
        update["name"] = _line(form.get("name"), "name", 200)
    if "phone" in editable:
        phone = _line(form.get("phone"), "phone", 30)
        if phone and not re.fullmatch(r"\+?[0-9 ()./-]{5,30}", phone):
            raise DetailsProblem("phone", N_("Enter a phone number, e.g. +44 20 7946 0000."))
        update["phone"] = phone
    if "address" in editable:
        address = {
            f: _line(form.get(f"address_{f}"), f"address_{f}", _LIMITS.get(f, 2))
            for f in ADDRESS_FIELDS
        }
        country = address["country"].upper()
        if country and not re.fullmatch(r"[A-Z]{2}", country):
            raise DetailsProblem("address_country", N_("Choose a country."))
        address["country"] = country
        if any(address.values()) and not (address["line1"] and country):
            field = "address_line1" if not address["line1"] else "address_country"
            raise DetailsProblem(field, N_("An address needs at least a first line and a country."))
        update["address"] = address
    return update


def clean_tax_id(kind: Any, value: Any) -> tuple[str, str]:
    if kind not in TAX_ID_TYPES:
        raise DetailsProblem("tax_id_type", N_("Choose the kind of tax id."))
    text = _line(value, "tax_id_value", 40).replace(" ", "")
    if not text:
        raise DetailsProblem("tax_id_value", N_("Enter the number."))
    return kind, text
