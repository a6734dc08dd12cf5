"""Disputes: ``/v1/disputes`` and the sandbox's ``/v1/test_helpers/charges/<id>/dispute``.

A dispute starts as ``needs_response`` with evidence due seven days later, and the
disputed amount is withdrawn (``charge.dispute.funds_withdrawn``). Submitting evidence
puts it ``under_review``, and Stripe's documented test strings decide it at once:
``uncategorized_text`` ``winning_evidence`` wins it, ``losing_evidence`` loses it.
Accepting (``POST /v1/disputes/<id>/close``) loses it. Charges on Stripe's dispute test
cards are disputed by the payment engine through :func:`create_dispute`.

The sandbox's own rules on the customer's test clock (or the wall clock), where Stripe
would wait for the cardholder's bank:

- a dispute submitted with other evidence is decided :data:`DECISION_DAYS` after the
  submission: ``won`` when it has evidence (and the funds come back,
  ``charge.dispute.funds_reinstated``), else ``lost``;
- at ``evidence_details.due_by`` a dispute still waiting for a response gets
  ``past_due: true`` and closes ``lost``.
"""

from __future__ import annotations

from typing import Any

from ..api import Ctx, route
from ..errors import InvalidRequest, StateConflict
from ..events import changed, emit
from ..render import paginate
from ..store import Account, State, new_id, snapshot

EVIDENCE_DAYS = 7
DECISION_DAYS = 10
DAY = 86400
REASONS = (
    "bank_cannot_process",
    "check_returned",
    "credit_not_processed",
    "customer_initiated",
    "debit_not_authorized",
    "duplicate",
    "fraudulent",
    "general",
    "incorrect_account_details",
    "insufficient_funds",
    "noncompliant",
    "product_not_received",
    "product_unacceptable",
    "subscription_canceled",
    "unrecognized",
)
#: Evidence fields; those taking a file (``file_...``) id are stored as given.
EVIDENCE_FIELDS = (
    "access_activity_log",
    "billing_address",
    "cancellation_policy",
    "cancellation_policy_disclosure",
    "cancellation_rebuttal",
    "customer_communication",
    "customer_email_address",
    "customer_name",
    "customer_purchase_ip",
    "customer_signature",
    "duplicate_charge_documentation",
    "duplicate_charge_explanation",
    "duplicate_charge_id",
    "product_description",
    "receipt",
    "refund_policy",
    "refund_policy_disclosure",
    "refund_refusal_explanation",
    "service_date",
    "service_documentation",
    "shipping_address",
    "shipping_carrier",
    "shipping_date",
    "shipping_documentation",
    "shipping_tracking_number",
    "uncategorized_file",
    "uncategorized_text",
)
OPEN = ("needs_response", "warning_needs_response")
CLOSED = ("won", "lost", "warning_closed", "prevented")
#: Card network reason codes by dispute reason (Visa, Mastercard).
_NETWORK_CODES = {
    "fraudulent": ("10.4", "4837"),
    "product_not_received": ("13.1", "4855"),
    "product_unacceptable": ("13.3", "4853"),
    "duplicate": ("12.6.1", "4834"),
    "subscription_canceled": ("13.2", "4841"),
    "credit_not_processed": ("13.6", "4860"),
    "general": ("13.7", "4853"),
    "unrecognized": ("10.4", "4863"),
}


def _network_reason(brand: str | None, reason: str) -> str | None:
    codes = _NETWORK_CODES.get(reason, _NETWORK_CODES["general"])
    return {"visa": codes[0], "mastercard": codes[1]}.get(brand or "")


def _transition(
    state: State, acct: Account, dispute: dict[str, Any], at: int, **changes: Any
) -> dict[str, Any]:
    """Apply ``changes``; emit ``charge.dispute.closed`` when it closes, else ``updated``."""
    before = snapshot(dispute)
    dispute.update(changes)
    previous = changed(before, dispute)
    if previous:
        kind = "closed" if dispute["status"] in CLOSED else "updated"
        emit(state, acct, f"charge.dispute.{kind}", dispute, previous=previous, created=at)
    return dispute


def create_dispute(
    state: State,
    acct: Account,
    charge: dict[str, Any],
    reason: str,
    created: int,
    amount: int | None = None,
) -> dict[str, Any]:
    """Dispute a succeeded ``charge`` (the cardholder's bank opened a chargeback)."""
    card = (charge.get("payment_method_details") or {}).get("card") or {}
    brand = card.get("brand")
    dispute: dict[str, Any] = {
        "id": new_id("dp"),
        "object": "dispute",
        "amount": charge["amount"] if amount is None else amount,
        "balance_transactions": [],
        "charge": charge["id"],
        "created": created,
        "currency": charge["currency"],
        "enhanced_eligibility_types": [],
        "evidence": {**dict.fromkeys(EVIDENCE_FIELDS), "enhanced_evidence": {}},
        "evidence_details": {
            "due_by": created + EVIDENCE_DAYS * 86400,
            "enhanced_eligibility": {},
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        },
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": {},
        "payment_intent": charge.get("payment_intent"),
        "payment_method_details": {
            "card": {
                "brand": brand,
                "case_type": "chargeback",
                "network": brand,
                "network_reason_code": _network_reason(brand, reason),
            },
            "type": "card",
        },
        "reason": reason,
        "status": "needs_response",
    }
    acct.put(dispute)
    charge["disputed"] = True
    emit(state, acct, "charge.dispute.created", dispute, created=created)
    emit(state, acct, "charge.dispute.funds_withdrawn", dispute, created=created)
    _schedule(state, acct, dispute, dispute["evidence_details"]["due_by"], "dispute_due")
    return dispute


def _schedule(state: State, acct: Account, dispute: dict[str, Any], due: int, kind: str) -> None:
    charge = acct.get(dispute["charge"], "charge") or {}
    acct.schedule(
        state.clock_of_customer(acct, charge.get("customer")), due, kind, dispute["id"], state.seq
    )


def _closed(state: State, acct: Account, dispute: dict[str, Any], at: int, status: str) -> None:
    _transition(state, acct, dispute, at, status=status)
    if status == "won":
        emit(state, acct, "charge.dispute.funds_reinstated", dispute, created=at)


def decide(ctx: Ctx, dispute: dict[str, Any], due: int) -> None:
    """The bank decides a dispute under review (a job on the clock)."""
    if dispute["status"] != "under_review" or ctx.acct.priv(dispute["id"]).get("decide_at") != due:
        return
    won = dispute["evidence_details"]["has_evidence"]
    _closed(ctx.state, ctx.acct, dispute, due, "won" if won else "lost")


def past_due(ctx: Ctx, dispute: dict[str, Any], due: int) -> None:
    """Evidence was due and none was submitted: the dispute is lost (a job on the clock)."""
    if dispute["status"] not in OPEN or dispute["evidence_details"]["due_by"] != due:
        return
    details = {**dispute["evidence_details"], "past_due": True}
    _transition(ctx.state, ctx.acct, dispute, due, evidence_details=details, status="lost")


def _now(ctx: Ctx, dispute: dict[str, Any]) -> int:
    charge = ctx.acct.get(dispute["charge"], "charge")
    return ctx.now_for_customer(charge.get("customer") if charge else None)


@route("GET", "/v1/disputes")
def list_(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    filters = {"charge": p.str("charge"), "payment_intent": p.str("payment_intent")}
    return paginate(ctx.acct, ctx.acct.all("dispute"), p, "/v1/disputes", filters=filters)


@route("GET", "/v1/disputes/<oid>")
def retrieve(ctx: Ctx, oid: str) -> dict[str, Any]:
    return ctx.load("dispute", oid)


def _evidence(ctx: Ctx, dispute: dict[str, Any]) -> dict[str, Any] | None:
    given = ctx.params.dict("evidence")
    if given is None:
        return None
    unknown = set(given.keys()) - set(EVIDENCE_FIELDS) - {"enhanced_evidence"}
    if unknown:
        name = f"evidence[{sorted(unknown)[0]}]"
        raise InvalidRequest(f"Received unknown parameter: {name}", param=name)
    evidence = dict(dispute["evidence"])
    for field in EVIDENCE_FIELDS:
        if field in given:
            value = given.nullable_str(field)
            if value is not None and len(value) > 150_000:
                raise InvalidRequest(
                    f"Invalid evidence[{field}]: too long", param=f"evidence[{field}]"
                )
            evidence[field] = value
    enhanced = given.dict("enhanced_evidence")
    if enhanced is not None:
        evidence["enhanced_evidence"] = enhanced.data
    return evidence


@route("POST", "/v1/disputes/<oid>")
def update(ctx: Ctx, oid: str) -> dict[str, Any]:
    dispute = ctx.load("dispute", oid)
    evidence = _evidence(ctx, dispute)
    submit = ctx.params.bool("submit")
    if submit is None:
        submit = evidence is not None  # Stripe submits by default when evidence is sent
    if (evidence is not None or submit) and dispute["status"] not in OPEN:
        if dispute["status"] in CLOSED:
            raise StateConflict("This dispute is already closed.")
        raise StateConflict(
            "This dispute's evidence has already been submitted and is "
            "under review; it can no longer be changed."
        )
    at = _now(ctx, dispute)
    before = snapshot(dispute)
    metadata = ctx.params.metadata(dispute["metadata"])
    if metadata is not None:
        dispute["metadata"] = metadata
    details = dict(dispute["evidence_details"])
    if evidence is not None:
        dispute["evidence"] = evidence
        details["has_evidence"] = any(evidence[f] for f in EVIDENCE_FIELDS)
    if submit:
        details["submission_count"] += 1
        dispute["status"] = "under_review"
    dispute["evidence_details"] = details
    previous = changed(before, dispute)
    if previous:
        ctx.emit("charge.dispute.updated", dispute, previous=previous, created=at)
    if submit:
        text = dispute["evidence"].get("uncategorized_text") or ""
        outcome = {"winning_evidence": "won", "losing_evidence": "lost"}.get(text.strip())
        if outcome:
            _closed(ctx.state, ctx.acct, dispute, at, outcome)
        else:
            decide_at = at + DECISION_DAYS * DAY
            ctx.acct.priv(dispute["id"])["decide_at"] = decide_at
            _schedule(ctx.state, ctx.acct, dispute, decide_at, "dispute_decide")
    return dispute


@route("POST", "/v1/disputes/<oid>/close")
def close(ctx: Ctx, oid: str) -> dict[str, Any]:
    dispute = ctx.load("dispute", oid)
    if dispute["status"] == "lost":
        return dispute
    if dispute["status"] not in OPEN:
        raise StateConflict(f"This dispute cannot be closed: its status is {dispute['status']}.")
    closed = "lost" if dispute["status"] == "needs_response" else "warning_closed"
    return _transition(ctx.state, ctx.acct, dispute, _now(ctx, dispute), status=closed)


@route("POST", "/v1/test_helpers/charges/<charge_id>/dispute")
def dispute_charge(ctx: Ctx, charge_id: str) -> dict[str, Any]:
    """Sandbox only: the cardholder disputes ``charge_id`` (``reason``, ``amount``)."""
    charge = ctx.load("charge", charge_id, param="charge")
    reason = ctx.params.str("reason", "fraudulent", choices=REASONS) or "fraudulent"
    amount = ctx.params.int("amount", charge["amount"], minimum=1)
    if charge.get("status") != "succeeded":
        raise StateConflict(
            f"Charge {charge_id} did not succeed and cannot be disputed.", param="charge"
        )
    if charge.get("disputed"):
        raise StateConflict(
            f"Charge {charge_id} has already been disputed.", code="charge_disputed", param="charge"
        )
    if amount is not None and amount > charge["amount"] - charge.get("amount_refunded", 0):
        raise InvalidRequest(
            "The dispute amount cannot exceed the charge's unrefunded amount.", param="amount"
        )
    return create_dispute(
        ctx.state, ctx.acct, charge, reason, ctx.now_for_customer(charge.get("customer")), amount
    )
