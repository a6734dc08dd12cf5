"""Reading our own records of one customer into plain :class:`~.evidence.Facts`, and the
four signals from them. One query per kind of record, each scoped to the workspace."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.models import Workspace
from ..dunning.models import CardUpdateLink
from ..outbox.models import OutboxMessage
from ..portal.models import PortalLink, PortalSettings
from ..recovery.models import Campaign, ChargeAttempt
from ..retain.models import CancelSession
from ..stripe.models import MirrorCustomer, MirrorInvoice
from . import evidence, policy
from .models import Dispute, DisputeSettings

#: With no invoice period known, the disputed period is this long before the charge.
DEFAULT_PERIOD = dt.timedelta(days=31)
CARD_UPDATED = {"updated", "paid", "declined"}


def _epoch(value: Any) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(int(value), dt.UTC) if value else None


def settings_for(session: Session, workspace_id: int) -> DisputeSettings:
    from ..models import one_per

    return one_per(session, DisputeSettings, workspace_id=workspace_id)


def policy_urls(session: Session, workspace_id: int) -> tuple[str | None, str | None]:
    """(terms, cancellation policy): the dispute settings', else the portal's terms."""
    settings = settings_for(session, workspace_id)
    portal_terms = session.execute(
        select(PortalSettings.terms_url).where(PortalSettings.workspace_id == workspace_id)
    ).scalar_one_or_none()
    return settings.terms_url or portal_terms, settings.cancellation_policy_url


def gather(
    session: Session, dispute: Dispute, *, period: tuple[Any, Any] = (None, None)
) -> evidence.Facts:
    """Everything we hold on the dispute's customer, as plain records."""
    ws, customer = dispute.workspace_id, dispute.customer_stripe_id or ""
    workspace = session.get(Workspace, ws)
    mirror = session.execute(
        select(MirrorCustomer).where(
            MirrorCustomer.workspace_id == ws, MirrorCustomer.stripe_id == customer
        )
    ).scalar_one_or_none()
    emails = tuple(
        evidence.Email(m.sent_at or m.created_at, m.subject, m.to_email, m.opened_at)
        for m in session.execute(
            select(OutboxMessage)
            .where(
                OutboxMessage.workspace_id == ws,
                OutboxMessage.customer_stripe_id == customer,
                OutboxMessage.status == "sent",
            )
            .order_by(OutboxMessage.created_at, OutboxMessage.id)
        ).scalars()
    )
    visits: list[evidence.Visit] = []
    updates: list[evidence.CardUpdate] = []
    for link in session.execute(
        select(CardUpdateLink)
        .where(CardUpdateLink.workspace_id == ws, CardUpdateLink.customer_stripe_id == customer)
        .order_by(CardUpdateLink.created_at, CardUpdateLink.id)
    ).scalars():
        if link.opened_at:
            visits.append(evidence.Visit(link.opened_at, "opened the card-update page"))
        if link.used_at and link.outcome in CARD_UPDATED:
            updates.append(
                evidence.CardUpdate(link.used_at, "saved a new card on the card-update page")
            )
    for opened in session.execute(
        select(PortalLink.last_opened_at).where(
            PortalLink.workspace_id == ws,
            PortalLink.customer_stripe_id == customer,
            PortalLink.last_opened_at.is_not(None),
        )
    ).scalars():
        visits.append(evidence.Visit(opened, "opened the customer portal"))
    attempts = tuple(
        evidence.Attempt(
            a.at,
            a.succeeded,
            "Backstop" if a.source == "backstop" else "Stripe",
            a.decline_code or a.failure_code,
        )
        for a in session.execute(
            select(ChargeAttempt)
            .join(Campaign, Campaign.id == ChargeAttempt.campaign_id)
            .where(ChargeAttempt.workspace_id == ws, Campaign.customer_stripe_id == customer)
            .order_by(ChargeAttempt.at, ChargeAttempt.id)
        ).scalars()
    )
    cancels = tuple(
        evidence.CancelVisit(
            s.opened_at or s.created_at, s.outcome, s.reason_label, tuple(s.offers_shown or ())
        )
        for s in session.execute(
            select(CancelSession)
            .where(
                CancelSession.workspace_id == ws,
                CancelSession.customer_stripe_id == customer,
                CancelSession.is_simulation.is_(False),
                CancelSession.opened_at.is_not(None),
            )
            .order_by(CancelSession.opened_at, CancelSession.id)
        ).scalars()
    )
    bills = tuple(
        _bill(row)
        for row in session.execute(
            select(MirrorInvoice)
            .where(MirrorInvoice.workspace_id == ws, MirrorInvoice.customer_stripe_id == customer)
            .order_by(MirrorInvoice.stripe_created, MirrorInvoice.id)
        ).scalars()
        if row.status != "draft"
    )
    terms, cancellation = policy_urls(session, ws)
    product = next((b.description for b in reversed(bills) if b.description), None)
    return evidence.Facts(
        merchant=workspace.name if workspace else "",
        customer_name=mirror.name if mirror else None,
        customer_email=mirror.email if mirror else None,
        reason=dispute.reason,
        amount_minor=dispute.amount_minor,
        currency=dispute.currency,
        charged_at=dispute.charged_at,
        period_start=period[0],
        period_end=period[1],
        product=product,
        terms_url=terms,
        cancellation_policy_url=cancellation,
        emails=emails,
        visits=tuple(sorted(visits, key=lambda v: v.at)),
        card_updates=tuple(updates),
        attempts=attempts,
        cancel_visits=cancels,
        bills=bills,
        sources=_sources(emails, visits, cancels),
    )


def _bill(row: MirrorInvoice) -> evidence.Bill:
    data = row.data or {}
    lines = (data.get("lines") or {}).get("data") or []
    first = lines[0] if lines else {}
    period = first.get("period") or {}
    return evidence.Bill(
        at=_epoch(data.get("created")) or _epoch(row.stripe_created) or dt.datetime.now(dt.UTC),
        amount_minor=row.amount_due_minor,
        currency=row.currency,
        status=row.status,
        number=data.get("number"),
        description=first.get("description"),
        period_start=_epoch(period.get("start")),
        period_end=_epoch(period.get("end")),
    )


def _sources(emails: Any, visits: list[Any], cancels: Any) -> tuple[str, ...]:
    """Which activity signals exist for this customer at all (the page says so)."""
    found = []
    if visits:
        found.append("hosted-page visits (card-update page, customer portal)")
    if any(e.opened_at for e in emails):
        found.append("email opens")
    elif emails:
        found.append("emails sent (no open recorded)")
    if cancels:
        found.append("cancel-page visits")
    return tuple(found)


# -- the four signals ----------------------------------------------------------------------------


def usage(facts: evidence.Facts, start: dt.datetime, end: dt.datetime) -> policy.Usage:
    """Activity we can observe between ``start`` and ``end``: hosted-page visits and
    email opens. Backstop does not see the merchant's own product."""
    seen = [v.at for v in facts.visits] + [e.opened_at for e in facts.emails if e.opened_at]
    if any(start <= at <= end for at in seen):
        return policy.Usage.USED
    return policy.Usage.UNUSED if (facts.visits or facts.emails) else policy.Usage.UNKNOWN


def cancel_attempt(facts: evidence.Facts, before: dt.datetime) -> policy.CancelAttempt:
    earlier = [c for c in facts.cancel_visits if c.opened_at <= before]
    if any(c.outcome == "cancelled" for c in earlier):
        return policy.CancelAttempt.CANCELLED
    return policy.CancelAttempt.STAYED if earlier else policy.CancelAttempt.NONE


def timing(billing_reason: str | None) -> policy.Timing:
    return {
        "subscription_create": policy.Timing.FIRST_CHARGE,
        "subscription_cycle": policy.Timing.RENEWAL,
    }.get(billing_reason or "", policy.Timing.OTHER)


def contact(value: str | None) -> policy.Contact:
    return {"yes": policy.Contact.YES, "no": policy.Contact.NO}.get(
        value or "", policy.Contact.UNKNOWN
    )
