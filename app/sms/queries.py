"""Read-side queries for the merchant's pages: a customer's texts (and their replies)
and whether their number is on the STOP list. Scoped to a workspace; plain values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from . import policy
from .models import INBOUND, OUTBOUND, SmsMessage, SmsOptOut


@dataclass(frozen=True)
class CustomerTexts:
    messages: list[SmsMessage]
    """Newest first: what we texted them and what they replied."""
    phone: str | None
    stopped: SmsOptOut | None


def for_customer(
    session: Session, workspace_id: int, customer_id: str, data: dict[str, Any] | None
) -> CustomerTexts:
    """``data``: the mirrored Stripe customer, for their number."""
    data = data or {}
    country = (data.get("address") or {}).get("country")
    phone = policy.normalise_phone(data.get("phone"), country)
    numbers = {phone} if phone else set()
    numbers |= set(
        session.execute(
            select(SmsMessage.to_number).where(
                SmsMessage.workspace_id == workspace_id,
                SmsMessage.customer_stripe_id == customer_id,
                SmsMessage.direction == OUTBOUND,
            )
        ).scalars()
    )
    messages = list(
        session.execute(
            select(SmsMessage)
            .where(
                SmsMessage.workspace_id == workspace_id,
                or_(
                    (SmsMessage.direction == OUTBOUND)
                    & (SmsMessage.customer_stripe_id == customer_id),
                    (SmsMessage.direction == INBOUND) & SmsMessage.from_number.in_(numbers),
                ),
            )
            .order_by(SmsMessage.created_at.desc(), SmsMessage.id.desc())
            .limit(50)
        ).scalars()
    )
    stopped = None
    if numbers:
        stopped = (
            session.execute(
                select(SmsOptOut).where(
                    SmsOptOut.workspace_id == workspace_id, SmsOptOut.phone.in_(numbers)
                )
            )
            .scalars()
            .first()
        )
    return CustomerTexts(messages, phone, stopped)
