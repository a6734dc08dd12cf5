"""Stripe's side of disputes: the disputed charge and its invoice, the evidence file
upload, submitting evidence and accepting. Only this package talks to Stripe."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

from .billing import _get, _id, invoice_facts
from .client import client_for
from .models import StripeConnection


@dataclass(frozen=True)
class DisputedCharge:
    id: str
    customer_id: str | None
    payment_intent_id: str | None
    created: dt.datetime
    brand: str | None


@dataclass(frozen=True)
class DisputedInvoice:
    id: str
    billing_reason: str | None
    period_start: dt.datetime | None
    period_end: dt.datetime | None


def _epoch(value: Any) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(int(value), dt.UTC) if value else None


def read_charge(connection: StripeConnection, charge_id: str) -> DisputedCharge:
    charge = client_for(connection).v1.charges.retrieve(charge_id)
    return DisputedCharge(
        id=charge.id,
        customer_id=_id(_get(charge, "customer")),
        payment_intent_id=_id(_get(charge, "payment_intent")),
        created=_epoch(_get(charge, "created")) or dt.datetime.now(dt.UTC),
        brand=_get(charge, "payment_method_details", "card", "brand"),
    )


def customer_clock(connection: StripeConnection, customer_id: str) -> str | None:
    """The test clock the customer lives on, if any."""
    return _id(_get(client_for(connection).v1.customers.retrieve(customer_id), "test_clock"))


def invoice_of_payment(
    connection: StripeConnection, customer_id: str, payment_intent_id: str
) -> DisputedInvoice | None:
    """The customer's invoice that ``payment_intent_id`` paid, if any (newest 100)."""
    invoices = client_for(connection).v1.invoices.list(
        {"customer": customer_id, "limit": 100, "expand": ["data.payments"]}
    )
    for invoice in invoices.data:
        if payment_intent_id in invoice_facts(invoice).payment_intent_ids:
            lines = _get(invoice, "lines", "data") or []
            period = _get(lines[0], "period") if lines else None
            return DisputedInvoice(
                id=invoice.id,
                billing_reason=_get(invoice, "billing_reason"),
                period_start=_epoch(_get(period, "start")),
                period_end=_epoch(_get(period, "end")),
            )
    return None


def read_dispute(connection: StripeConnection, dispute_id: str) -> dict[str, Any]:
    return client_for(connection).v1.disputes.retrieve(dispute_id).to_dict()


def upload_evidence_file(
    connection: StripeConnection, content: bytes, filename: str, *, idempotency_key: str
) -> str:
    """Upload a PDF as ``dispute_evidence``; returns its file id."""
    upload = io.BytesIO(content)
    upload.name = filename
    created = client_for(connection).v1.files.create(
        {"purpose": "dispute_evidence", "file": upload},
        {"idempotency_key": idempotency_key},
    )
    return created.id


def submit_evidence(
    connection: StripeConnection,
    dispute_id: str,
    evidence: dict[str, str],
    *,
    idempotency_key: str,
) -> dict[str, Any]:
    """Send the evidence and submit it (Stripe then reviews it; it can't change after)."""
    updated = client_for(connection).v1.disputes.update(
        dispute_id, {"evidence": evidence, "submit": True}, {"idempotency_key": idempotency_key}
    )
    return updated.to_dict()


def accept(
    connection: StripeConnection, dispute_id: str, *, idempotency_key: str
) -> dict[str, Any]:
    """Accept (close) the dispute: it is lost, and the funds stay with the cardholder."""
    closed = client_for(connection).v1.disputes.close(
        dispute_id, {}, {"idempotency_key": idempotency_key}
    )
    return closed.to_dict()
