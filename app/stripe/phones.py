"""A customer's phone for texts: the number, the consent metadata and the country the
number is read in, re-read from Stripe at the moment a text is decided (consent may
have been withdrawn since the mirror last heard)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .billing import _get
from .client import client_for
from .models import StripeConnection


@dataclass(frozen=True)
class PhoneContact:
    phone: str | None
    name: str | None
    country: str | None
    """The customer's address country (ISO), for a number stored without ``+``."""
    metadata: dict[str, Any] = field(default_factory=dict)


def customer_phone(connection: StripeConnection, customer_id: str) -> PhoneContact:
    customer = client_for(connection).v1.customers.retrieve(customer_id)
    metadata = _get(customer, "metadata") or {}
    country = _get(customer, "address", "country") or _get(
        customer, "shipping", "address", "country"
    )
    return PhoneContact(
        phone=_get(customer, "phone") or None,
        name=_get(customer, "name") or None,
        country=country if isinstance(country, str) else None,
        metadata=_plain(metadata),
    )


def _plain(metadata: Any) -> dict[str, Any]:
    if hasattr(metadata, "to_dict"):
        metadata = metadata.to_dict()
    return {str(k): v for k, v in dict(metadata or {}).items()}
