"""Disputes: Stripe's dispute test cards, the sandbox's dispute helper, evidence,
Stripe's winning/losing test evidence, accepting, and the events."""

from __future__ import annotations

import json
from typing import Any

import pytest
import stripe

from .conftest import Receiver

DAY = 86400
#: The top-level keys of Stripe's dispute object (fixtures3.json ``resources.dispute``).
DISPUTE_KEYS = {
    "amount",
    "balance_transactions",
    "charge",
    "created",
    "currency",
    "evidence",
    "evidence_details",
    "id",
    "is_charge_refundable",
    "livemode",
    "metadata",
    "object",
    "payment_intent",
    "payment_method_details",
    "reason",
    "status",
    "enhanced_eligibility_types",
}


def _pay(
    client: stripe.StripeClient,
    card: str = "pm_card_visa",
    amount: int = 1000,
    customer: str | None = None,
) -> stripe.PaymentIntent:
    customer = customer or client.v1.customers.create().id
    return client.v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": "usd",
            "customer": customer,
            "payment_method": card,
            "confirm": True,
            "off_session": True,
        }
    )


def _dispute(client: stripe.StripeClient, charge_id: str, **params: Any) -> dict[str, Any]:
    response = client.raw_request("post", f"/v1/test_helpers/charges/{charge_id}/dispute", **params)
    return json.loads(response.body)


def _types(client: stripe.StripeClient) -> list[str]:
    listed = client.v1.events.list(params={"limit": 100}).data
    return [e.type for e in reversed(listed) if e.type.startswith("charge.dispute.")]


@pytest.mark.parametrize(
    ("card", "reason"),
    [
        ("pm_card_createDispute", "fraudulent"),
        ("pm_card_createDisputeProductNotReceived", "product_not_received"),
    ],
)
def test_dispute_cards_are_disputed_when_charged(
    client: stripe.StripeClient, card: str, reason: str
) -> None:
    pi = _pay(client, card, amount=4200)
    assert pi.status == "succeeded"
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert charge.disputed is True
    disputes = client.v1.disputes.list(params={"charge": charge.id}).data
    assert len(disputes) == 1
    dispute = disputes[0]
    assert set(dispute.to_dict()) == DISPUTE_KEYS
    assert dispute.id.startswith("dp_") and dispute.object == "dispute"
    assert dispute.status == "needs_response" and dispute.reason == reason
    assert (dispute.amount, dispute.currency) == (4200, "usd")
    assert dispute.payment_intent == pi.id
    assert dispute.created == charge.created
    assert dispute.evidence_details.due_by == dispute.created + 7 * DAY
    assert dispute.evidence_details.submission_count == 0
    assert dispute.evidence_details.has_evidence is False
    assert dispute.evidence.uncategorized_text is None
    assert dispute.payment_method_details.card.brand == "visa"
    assert client.v1.disputes.retrieve(dispute.id).to_dict() == dispute.to_dict()
    assert _types(client) == ["charge.dispute.created", "charge.dispute.funds_withdrawn"]
    assert client.v1.disputes.list(params={"payment_intent": pi.id}).data[0].id == dispute.id


def test_helper_disputes_a_charge(client: stripe.StripeClient) -> None:
    charge_id = _pay(client, amount=3000).latest_charge
    dispute = _dispute(client, charge_id, reason="duplicate", amount=1200)
    assert set(dispute) == DISPUTE_KEYS
    assert (dispute["reason"], dispute["amount"], dispute["status"]) == (
        "duplicate",
        1200,
        "needs_response",
    )
    assert client.v1.charges.retrieve(charge_id).disputed is True
    with pytest.raises(stripe.InvalidRequestError) as again:
        _dispute(client, charge_id)
    assert again.value.http_status == 400

    default = _dispute(client, _pay(client, amount=700).latest_charge)
    assert (default["reason"], default["amount"]) == ("fraudulent", 700)
    with pytest.raises(stripe.InvalidRequestError):
        _dispute(client, "ch_missing")
    with pytest.raises(stripe.InvalidRequestError):
        _dispute(client, _pay(client).latest_charge, reason="bored")
    with pytest.raises(stripe.CardError) as declined:
        _pay(client, "pm_card_visa_chargeDeclined")
    failed = declined.value.error.charge
    with pytest.raises(stripe.InvalidRequestError):
        _dispute(client, failed)
    assert [d.id for d in client.v1.disputes.list().data] == [default["id"], dispute["id"]]
    page = client.v1.disputes.list(params={"limit": 1})
    assert page.has_more and page.data[0].id == default["id"]


def test_staged_evidence_then_winning_evidence(
    client: stripe.StripeClient, receiver: Receiver
) -> None:
    client.v1.webhook_endpoints.create(
        params={
            "url": receiver.url,
            "enabled_events": ["charge.dispute.updated", "charge.dispute.closed"],
        }
    )
    dispute = _dispute(client, _pay(client).latest_charge)
    staged = client.v1.disputes.update(
        dispute["id"],
        params={
            "evidence": {"customer_name": "Jenny Rosen", "product_description": "A plan"},
            "metadata": {"case": "7"},
            "submit": False,
        },
    )
    assert staged.status == "needs_response"
    assert staged.evidence.customer_name == "Jenny Rosen"
    assert staged.evidence_details.has_evidence is True
    assert staged.evidence_details.submission_count == 0
    assert staged.metadata.to_dict() == {"case": "7"}

    won = client.v1.disputes.update(
        dispute["id"],
        params={"evidence": {"uncategorized_text": "winning_evidence"}, "submit": True},
    )
    assert won.status == "won"
    assert won.evidence_details.submission_count == 1
    assert won.evidence.customer_name == "Jenny Rosen"  # earlier evidence is kept
    assert _types(client) == [
        "charge.dispute.created",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.updated",
        "charge.dispute.updated",
        "charge.dispute.closed",
        "charge.dispute.funds_reinstated",
    ]
    events = receiver.wait_for(lambda got: any(e["type"] == "charge.dispute.closed" for e in got))
    closed = next(e for e in events if e["type"] == "charge.dispute.closed")
    assert closed["data"]["object"]["status"] == "won"
    assert closed["data"]["previous_attributes"] == {"status": "under_review"}
    submitted = [e for e in events if e["type"] == "charge.dispute.updated"][-1]
    assert submitted["data"]["object"]["status"] == "under_review"
    assert submitted["data"]["previous_attributes"]["status"] == "needs_response"

    with pytest.raises(stripe.InvalidRequestError):
        client.v1.disputes.update(dispute["id"], params={"evidence": {"receipt": "file_1"}})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.disputes.close(dispute["id"])
    kept = client.v1.disputes.update(dispute["id"], params={"metadata": {"note": "done"}})
    assert kept.metadata.to_dict() == {"case": "7", "note": "done"}


def test_losing_evidence_loses(client: stripe.StripeClient) -> None:
    dispute = _dispute(client, _pay(client).latest_charge)
    lost = client.v1.disputes.update(
        dispute["id"], params={"evidence": {"uncategorized_text": "losing_evidence"}}
    )  # submit defaults to true
    assert lost.status == "lost"
    assert lost.evidence_details.submission_count == 1
    assert _types(client)[-1] == "charge.dispute.closed"


def test_other_evidence_stays_under_review(client: stripe.StripeClient) -> None:
    dispute = _dispute(client, _pay(client).latest_charge)
    review = client.v1.disputes.update(
        dispute["id"],
        params={
            "evidence": {"uncategorized_text": "The customer used the service."},
            "submit": True,
        },
    )
    assert review.status == "under_review"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.disputes.update(dispute["id"], params={"submit": True})
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.disputes.update(dispute["id"], params={"evidence": {"mood": "sad"}})
    assert unknown.value.param == "evidence[mood]"
    assert _types(client) == [
        "charge.dispute.created",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.updated",
    ]


def test_accepting_a_dispute_closes_it_as_lost(client: stripe.StripeClient) -> None:
    dispute = _dispute(client, _pay(client).latest_charge)
    closed = client.v1.disputes.close(dispute["id"])
    assert closed.status == "lost"
    assert closed.evidence_details.submission_count == 0
    assert client.v1.disputes.close(dispute["id"]).status == "lost"  # idempotent
    assert _types(client) == [
        "charge.dispute.created",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.closed",
    ]
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.disputes.close("dp_missing")
    assert missing.value.http_status == 404


def test_disputes_follow_the_customers_test_clock(client: stripe.StripeClient) -> None:
    frozen = 1_800_000_000
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": frozen})
    customer = client.v1.customers.create(params={"test_clock": clock.id})
    pi = _pay(client, "pm_card_createDispute", customer=customer.id)
    dispute = client.v1.disputes.list(params={"charge": pi.latest_charge}).data[0]
    assert dispute.created == frozen
    assert dispute.evidence_details.due_by == frozen + 7 * DAY
    event = client.v1.events.list(params={"type": "charge.dispute.created"}).data[0]
    assert event.created == frozen
    helper = _dispute(client, _pay(client, customer=customer.id).latest_charge)
    assert helper["created"] == frozen


def _clocked(client: stripe.StripeClient, frozen: int) -> tuple[Any, Any]:
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": frozen})
    customer = client.v1.customers.create(params={"test_clock": clock.id})
    return clock, customer


def test_submitted_evidence_is_decided_on_the_clock(client: stripe.StripeClient) -> None:
    frozen = 1_800_000_000
    clock, customer = _clocked(client, frozen)
    with_evidence = _dispute(client, _pay(client, customer=customer.id).latest_charge)
    without = _dispute(client, _pay(client, customer=customer.id).latest_charge)
    client.v1.disputes.update(
        with_evidence["id"], params={"evidence": {"product_description": "Studio plan"}}
    )
    client.v1.disputes.update(without["id"], params={"submit": True})
    advance = client.v1.test_helpers.test_clocks.advance
    advance(clock.id, params={"frozen_time": frozen + 9 * DAY})
    assert client.v1.disputes.retrieve(with_evidence["id"]).status == "under_review"
    assert client.v1.disputes.retrieve(without["id"]).status == "under_review"
    advance(clock.id, params={"frozen_time": frozen + 10 * DAY})
    won = client.v1.disputes.retrieve(with_evidence["id"])
    assert won.status == "won" and won.evidence_details.past_due is False
    assert client.v1.disputes.retrieve(without["id"]).status == "lost"
    closed = client.v1.events.list(params={"type": "charge.dispute.closed"}).data
    assert {e.created for e in closed} == {frozen + 10 * DAY}
    reinstated = client.v1.events.list(params={"type": "charge.dispute.funds_reinstated"}).data
    assert [e.data.object.id for e in reinstated] == [with_evidence["id"]]


def test_no_response_by_the_due_date_is_past_due_and_lost(client: stripe.StripeClient) -> None:
    frozen = 1_800_000_000
    clock, customer = _clocked(client, frozen)
    dispute = _dispute(client, _pay(client, customer=customer.id).latest_charge)
    answered = _dispute(client, _pay(client, customer=customer.id).latest_charge)
    client.v1.disputes.update(answered["id"], params={"evidence": {"customer_name": "J"}})
    advance = client.v1.test_helpers.test_clocks.advance
    advance(clock.id, params={"frozen_time": frozen + 7 * DAY - 1})
    assert client.v1.disputes.retrieve(dispute["id"]).status == "needs_response"
    advance(clock.id, params={"frozen_time": frozen + 7 * DAY})
    late = client.v1.disputes.retrieve(dispute["id"])
    assert (late.status, late.evidence_details.past_due) == ("lost", True)
    assert client.v1.disputes.retrieve(answered["id"]).status == "under_review"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.disputes.update(dispute["id"], params={"evidence": {"customer_name": "J"}})


PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def test_file_upload_for_dispute_evidence(client: stripe.StripeClient, api_key: str) -> None:
    import io
    import urllib.request

    uploaded = client.v1.files.create(
        params={"purpose": "dispute_evidence", "file": io.BytesIO(PDF)}
    )
    assert uploaded.id.startswith("file_") and uploaded.object == "file"
    assert (uploaded.type, uploaded.size, uploaded.purpose) == ("pdf", len(PDF), "dispute_evidence")
    assert client.v1.files.retrieve(uploaded.id).to_dict() == uploaded.to_dict()
    assert [f.id for f in client.v1.files.list().data] == [uploaded.id]
    request = urllib.request.Request(uploaded.url, headers={"Authorization": f"Bearer {api_key}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["Content-Type"] == "application/pdf"
        assert response.read() == PDF

    dispute = _dispute(client, _pay(client).latest_charge)
    staged = client.v1.disputes.update(
        dispute["id"], params={"evidence": {"uncategorized_file": uploaded.id}, "submit": False}
    )
    assert staged.evidence.uncategorized_file == uploaded.id

    with pytest.raises(stripe.InvalidRequestError) as not_a_pdf:
        client.v1.files.create(
            params={"purpose": "dispute_evidence", "file": io.BytesIO(b"plain text")}
        )
    assert not_a_pdf.value.param == "file"
    with pytest.raises(stripe.InvalidRequestError) as purpose:
        client.v1.files.create(params={"purpose": "selfie", "file": io.BytesIO(PDF)})
    assert purpose.value.param == "purpose"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.files.create(params={"purpose": "dispute_evidence"})
    assert missing.value.http_status == 400
    with pytest.raises(stripe.InvalidRequestError) as big:
        client.v1.files.create(
            params={"purpose": "dispute_evidence", "file": io.BytesIO(PDF + b" " * 5_300_000)}
        )
    assert big.value.http_status == 400
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.files.retrieve("file_missing")
    assert unknown.value.http_status == 404
