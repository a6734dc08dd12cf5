"""What the recovery loop does with Stripe's events: thin translations from an event to
a campaign service, re-reading the invoice from Stripe where order matters."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.models import Workspace
from ..models import utcnow
from ..queue import enqueue
from ..schedule import claims
from ..stripe import billing, clocks
from ..stripe.models import MirrorInvoice, StripeConnection
from ..stripe.processing import DISCONNECTED, IMPORTED, subscribe
from . import campaigns, closing, planning, refunds
from .models import Step

SWEEP_TASK = "schedule.sweep"
RUN_STEP_TASK = "recovery.run_step"


def _object(payload: dict[str, Any]) -> dict[str, Any]:
    return (payload.get("data") or {}).get("object") or {}


def _previous(payload: dict[str, Any]) -> dict[str, Any]:
    return (payload.get("data") or {}).get("previous_attributes") or {}


def _created(payload: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(payload.get("created") or 0), dt.UTC)


def _is_subscription_invoice(invoice: dict[str, Any]) -> bool:
    parent = (invoice.get("parent") or {}).get("subscription_details") or {}
    return bool(parent.get("subscription") or invoice.get("subscription"))


def payment_failed(session: Session, connection: StripeConnection, payload: dict[str, Any]) -> None:
    obj = _object(payload)
    if not obj.get("id") or not _is_subscription_invoice(obj):
        return
    invoice = billing.read_invoice(connection, obj["id"])
    clocks.ensure(session, connection, invoice.test_clock)
    existing = campaigns.find(session, connection.workspace_id, invoice.id)
    tz = None
    if existing is None and invoice.status == "open":
        tz = billing.customer_timezone(connection, invoice.customer_id)
    now = utcnow()
    campaign = campaigns.on_payment_failed(
        session,
        session.get(Workspace, connection.workspace_id),
        invoice,
        billing.list_charges(connection, invoice),
        now=now,
        customer_tz=tz,
    )
    if campaign is not None and campaign.is_open:
        # A step due already (the day-0 email at the moment of the failure) goes to a
        # worker with this commit instead of waiting for the sweeper's next pass.
        claims.hand_over(
            session,
            Step,
            RUN_STEP_TASK,
            planning.pending_ids(session, campaign),
            now=now,
            conditions=clocks.due_conditions(Step, now),
            lease=dt.timedelta(seconds=current_app.config["BACKSTOP"].step_lease_seconds),
        )


def invoice_paid(session: Session, connection: StripeConnection, payload: dict[str, Any]) -> None:
    campaign = campaigns.find(session, connection.workspace_id, _object(payload).get("id", ""))
    if campaign is None:
        return
    invoice = billing.read_invoice(connection, campaign.invoice_stripe_id)
    campaigns.sync_attempts(session, campaign, billing.list_charges(connection, invoice))
    closing.settle(session, campaign, invoice, now=utcnow())


def invoice_closed(session: Session, connection: StripeConnection, payload: dict[str, Any]) -> None:
    campaign = campaigns.find(session, connection.workspace_id, _object(payload).get("id", ""))
    if campaign is not None and campaign.is_open:
        closing.settle(session, campaign, billing.invoice_facts(_object(payload)), now=utcnow())


def charge_refunded(
    session: Session, connection: StripeConnection, payload: dict[str, Any]
) -> None:
    """A refund: of the charge that paid a recovered campaign, it comes off what was
    recovered. A charge not recorded yet is looked for on the customer's recovered
    invoices (recording their charges), newest first."""
    charge = _object(payload)
    if not charge.get("id") or not charge.get("amount_refunded"):
        return
    attempt = refunds.find_attempt(session, connection.workspace_id, charge["id"])
    customer = charge.get("customer")
    if attempt is None and isinstance(customer, str) and charge.get("payment_intent"):
        for campaign in refunds.recovered_for_customer(session, connection.workspace_id, customer):
            invoice = billing.read_invoice(connection, campaign.invoice_stripe_id)
            if charge["payment_intent"] in invoice.payment_intent_ids:
                campaigns.sync_attempts(
                    session, campaign, billing.list_charges(connection, invoice)
                )
                attempt = refunds.find_attempt(session, connection.workspace_id, charge["id"])
                break
    if attempt is not None:
        refunds.record(session, attempt, charge, now=utcnow())


def subscription_deleted(
    session: Session, connection: StripeConnection, payload: dict[str, Any]
) -> None:
    sub = _object(payload)
    if sub.get("id"):
        reason = (sub.get("cancellation_details") or {}).get("reason")
        closing.on_subscription_ended(
            session, connection.workspace_id, sub["id"], reason, now=utcnow()
        )


def card_changed(session: Session, connection: StripeConnection, payload: dict[str, Any]) -> None:
    """A new default card, or the card's details updated (Stripe's card updater)."""
    obj, previous = _object(payload), _previous(payload)
    kind = payload.get("type", "")
    if kind == "customer.updated":
        changed = "default_payment_method" in (previous.get("invoice_settings") or {})
        customer = obj.get("id")
    elif kind == "customer.subscription.updated":
        changed = "default_payment_method" in previous
        customer = obj.get("customer")
    else:
        changed = kind == "payment_method.automatically_updated" or "card" in previous
        customer = obj.get("customer")
    if changed and isinstance(customer, str):
        campaigns.on_card_changed(
            session, connection.workspace_id, customer, _created(payload), now=utcnow()
        )


def disconnected(session: Session, connection: StripeConnection, payload: dict[str, Any]) -> None:
    closing.abandon_all(session, connection.workspace_id, "Stripe was disconnected", now=utcnow())


def clock_moved(session: Session, connection: StripeConnection, payload: dict[str, Any]) -> None:
    """Steps on the clock may be due now: sweep at once rather than at the next beat."""
    enqueue(session, SWEEP_TASK)


def imported(session: Session, connection: StripeConnection, payload: dict[str, Any]) -> None:
    """A newly connected account's renewals that had already failed get their campaigns."""
    invoices = session.execute(
        select(MirrorInvoice.data).where(
            MirrorInvoice.workspace_id == connection.workspace_id,
            MirrorInvoice.status == "open",
            MirrorInvoice.subscription_stripe_id.is_not(None),
        )
    ).scalars()
    for invoice in invoices:
        if invoice.get("attempt_count"):
            payment_failed(session, connection, {"data": {"object": invoice}})


def register() -> None:
    """Subscribe the recovery loop to the Stripe events it acts on."""
    subscribe(
        {
            "invoice.payment_failed": [payment_failed],
            "invoice.paid": [invoice_paid],
            "invoice.payment_succeeded": [invoice_paid],
            "invoice.voided": [invoice_closed],
            "invoice.marked_uncollectible": [invoice_closed],
            "customer.subscription.deleted": [subscription_deleted],
            "charge.refunded": [charge_refunded],
            "customer.updated": [card_changed],
            "customer.subscription.updated": [card_changed],
            "payment_method.updated": [card_changed],
            "payment_method.automatically_updated": [card_changed],
            DISCONNECTED: [disconnected],
            "test_helpers.test_clock.ready": [clock_moved],
            IMPORTED: [imported],
        }
    )
