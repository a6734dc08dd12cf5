"""Charges: the object a payment attempt leaves behind, and ``/v1/charges``."""

from __future__ import annotations

from typing import Any

from .. import cards
from ..api import LIST_PARAMS, Ctx, route
from ..render import paginate
from ..store import new_id


def build_charge(
    ctx: Ctx,
    pi: dict[str, Any],
    pm: dict[str, Any],
    at: int,
    failure: cards.Decline | None,
    description: str | None,
) -> dict[str, Any]:
    card = pm["card"]
    ok = failure is None
    charge = {
        "id": new_id("ch"),
        "object": "charge",
        "amount": pi["amount"],
        "amount_captured": pi["amount"] if ok else 0,
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": new_id("txn") if ok else None,
        "billing_details": pm["billing_details"],
        "calculated_statement_descriptor": "SANDBOX",
        "captured": ok,
        "created": at,
        "currency": pi["currency"],
        "customer": pi["customer"],
        "description": description,
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": None if ok else failure.code,
        "failure_message": None if ok else failure.message,
        "fraud_details": {},
        "livemode": False,
        "metadata": {},
        "on_behalf_of": None,
        "outcome": outcome(failure),
        "paid": ok,
        "payment_intent": pi["id"],
        "payment_method": pm["id"],
        "payment_method_details": {
            "type": "card",
            "card": {
                "amount_authorized": pi["amount"] if ok else None,
                "authorization_code": "123456" if ok else None,
                "brand": card["brand"],
                "checks": card["checks"],
                "country": card["country"],
                "exp_month": card["exp_month"],
                "exp_year": card["exp_year"],
                "extended_authorization": {"status": "disabled"},
                "fingerprint": card["fingerprint"],
                "funding": card["funding"],
                "incremental_authorization": {"status": "unavailable"},
                "installments": None,
                "last4": card["last4"],
                "mandate": None,
                "multicapture": {"status": "unavailable"},
                "network": card["brand"],
                "network_token": {"used": False},
                "network_transaction_id": None,
                "overcapture": {"maximum_amount_capturable": pi["amount"], "status": "unavailable"},
                "regulated_status": "unregulated",
                "three_d_secure": None,
                "wallet": None,
            },
        },
        "receipt_email": None,
        "receipt_number": None,
        "receipt_url": f"{ctx.base_url}/receipts/{pi['id']}" if ok else None,
        "refunded": False,
        "refunds": {"object": "list", "data": [], "has_more": False, "url": ""},
        "review": None,
        "shipping": None,
        "source": None,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "succeeded" if ok else "failed",
        "transfer_data": None,
        "transfer_group": None,
    }
    charge["refunds"]["url"] = f"/v1/charges/{charge['id']}/refunds"
    ctx.acct.put(charge)
    return charge


def outcome(failure: cards.Decline | None) -> dict[str, Any]:
    if failure is None:
        return {
            "advice_code": None,
            "network_advice_code": None,
            "network_decline_code": None,
            "network_status": "approved_by_network",
            "reason": None,
            "risk_level": "normal",
            "risk_score": 12,
            "seller_message": "Payment complete.",
            "type": "authorized",
        }
    blocked = failure.decline_code == "fraudulent"
    return {
        "advice_code": failure.advice_code,
        "network_advice_code": failure.network_advice_code,
        "network_decline_code": failure.network_decline_code,
        "network_status": "not_sent_to_network" if blocked else "declined_by_network",
        "reason": "highest_risk_level" if blocked else failure.decline_code,
        "risk_level": "highest" if blocked else "normal",
        "risk_score": 95 if blocked else 30,
        "seller_message": (
            "Stripe blocked this payment as too risky."
            if blocked
            else "The bank did not return any further details with this decline."
        ),
        "type": "blocked" if blocked else "issuer_declined",
    }


@route("GET", "/v1/charges/<oid>")
def retrieve_charge(ctx: Ctx, oid: str) -> dict[str, Any]:
    return ctx.load("charge", oid)


@route("GET", "/v1/charges", params=("customer", "payment_intent", "payment_method", *LIST_PARAMS))
def list_charges(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    return paginate(
        ctx.acct,
        ctx.acct.all("charge"),
        p,
        "/v1/charges",
        filters={
            "customer": p.str("customer"),
            "payment_intent": p.str("payment_intent"),
            "payment_method": p.str("payment_method"),
        },
    )
