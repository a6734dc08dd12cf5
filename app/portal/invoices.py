"""The customer's invoices as the portal lists them: from the mirror, newest first,
with Stripe's hosted invoice page and PDF."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ..stripe.billing import _epoch
from ..stripe.models import MirrorInvoice
from ..tenancy import scoped

INVOICES_SHOWN = 24


@dataclass(frozen=True)
class InvoiceView:
    id: str
    number: str | None
    created: dt.datetime | None
    amount_minor: int
    currency: str
    status: str
    hosted_url: str | None
    pdf_url: str | None


def invoice_history(
    session: Session, workspace_id: int, customer_id: str, *, all_invoices: bool = False
) -> tuple[list[InvoiceView], bool]:
    limit = 100 if all_invoices else INVOICES_SHOWN
    rows = list(
        session.execute(
            scoped(MirrorInvoice, workspace_id)
            .where(
                MirrorInvoice.customer_stripe_id == customer_id,
                MirrorInvoice.status.in_(("open", "paid", "uncollectible", "void")),
            )
            .order_by(MirrorInvoice.stripe_created.desc(), MirrorInvoice.id.desc())
            .limit(limit + 1)
        ).scalars()
    )
    views = [
        InvoiceView(
            id=row.stripe_id,
            number=row.data.get("number"),
            created=_epoch(row.stripe_created),
            amount_minor=int(row.data.get("total") or row.amount_due_minor or 0),
            currency=row.currency,
            status=row.status,
            hosted_url=row.data.get("hosted_invoice_url"),
            pdf_url=row.data.get("invoice_pdf"),
        )
        for row in rows[:limit]
    ]
    return views, len(rows) > limit
