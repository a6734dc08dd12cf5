"""The public events of outbound webhooks: their names, what they mean, and the one
builder of each payload (the docs and the tests read the same samples from here).

Every webhook body has the same envelope, like Stripe's::

    {"id": "evt_…", "object": "event", "type": "recovery.campaign.recovered",
     "created": 1767225600, "workspace": "acme", "livemode": false,
     "data": {"object": {…}}}

``data.object`` has a stable shape per type (below). Fields are only ever added.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    object_name: str
    is_coming: bool = False
    """Listed so merchants can plan for it; Backstop does not send it yet."""


_TYPES = [
    EventType(
        "recovery.campaign.started",
        "A renewal payment failed and Backstop started recovering it.",
        "recovery_campaign",
    ),
    EventType(
        "recovery.campaign.recovered",
        "A failed payment was recovered (by a retry, a card update, or otherwise).",
        "recovery_campaign",
    ),
    EventType(
        "recovery.campaign.lost",
        "The recovery window ended, or the subscription was cancelled for non-payment.",
        "recovery_campaign",
    ),
    EventType(
        "recovery.campaign.abandoned",
        "Recovery stopped because the invoice was voided or the subscription cancelled by hand.",
        "recovery_campaign",
    ),
    EventType(
        "recovery.attempt.failed",
        "A payment attempt on a failed invoice was declined again.",
        "recovery_attempt",
    ),
    EventType(
        "dunning.email.sent",
        "A payment reminder email left for the customer.",
        "dunning_email",
    ),
    EventType(
        "cancel.session.saved",
        "A customer who clicked cancel took an offer and stayed.",
        "cancel_session",
    ),
    EventType(
        "cancel.session.cancelled",
        "A customer went through the cancel flow and cancelled.",
        "cancel_session",
    ),
    EventType(
        "winback.reactivated",
        "A customer who had cancelled came back through a win-back email.",
        "winback_campaign",
    ),
    EventType(
        "dispute.created",
        "A customer disputed a payment; Backstop assembled the evidence draft.",
        "dispute",
    ),
    EventType(
        "dispute.closed",
        "A dispute was decided: won, lost, or accepted.",
        "dispute",
    ),
]
TYPES: dict[str, EventType] = {t.name: t for t in _TYPES}
#: The types an endpoint can subscribe to today.
SENT = [t.name for t in _TYPES if not t.is_coming]
ALL = "*"


def event_id(domain_event_id: int) -> str:
    """The public id of a domain event: stable (every endpoint and every resend of one
    event carries the same id, so receivers can drop duplicates), not a row count."""
    return "evt_" + hashlib.sha256(f"backstop-event:{domain_event_id}".encode()).hexdigest()[:24]


def _iso(value: Any) -> str | None:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    return value if isinstance(value, str) else None


def _campaign(data: Mapping[str, Any], state: str) -> dict[str, Any]:
    return {
        "object": "recovery_campaign",
        "id": data.get("campaign_id"),
        "state": state,
        "customer": data.get("customer"),
        "subscription": data.get("subscription"),
        "invoice": data.get("invoice"),
        "amount": data.get("amount_minor"),
        "currency": data.get("currency"),
        "decline_class": data.get("decline_class"),
        "decline_code": data.get("decline_code"),
        "is_holdout": bool(data.get("is_holdout")),
        "close_reason": data.get("reason") if state != "in_flight" else None,
        "attribution": data.get("attribution"),
        "recovered_amount": data.get("recovered_minor"),
    }


def _attempt(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "object": "recovery_attempt",
        "campaign": data.get("campaign_id"),
        "invoice": data.get("invoice"),
        "charge": data.get("charge"),
        "decline_code": data.get("decline_code"),
    }


def _dunning_email(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "object": "dunning_email",
        "campaign": data.get("campaign_id"),
        "touch": data.get("touch"),
        "customer": data.get("customer"),
        "to": data.get("to"),
    }


def _cancel_session(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "object": "cancel_session",
        "id": data.get("session_id"),
        "outcome": data.get("outcome"),
        "customer": data.get("customer"),
        "subscription": data.get("subscription"),
        "reason": data.get("reason"),
        "offer": data.get("offer"),
        "mrr": data.get("mrr_minor"),
        "currency": data.get("currency"),
        "ends_at": _iso(data.get("ends_at")),
    }


def _winback(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "object": "winback_campaign",
        "id": data.get("campaign_id"),
        "customer": data.get("customer"),
        "subscription": data.get("new_subscription") or data.get("subscription"),
        "previous_subscription": data.get("subscription"),
        "cancel_reason": data.get("reason"),
        "won_via": data.get("won_via"),
        "mrr": data.get("regained_mrr_minor"),
        "currency": data.get("regained_currency") or data.get("currency"),
    }


def _dispute(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "object": "dispute",
        "id": data.get("dispute"),
        "charge": data.get("charge"),
        "customer": data.get("customer"),
        "amount": data.get("amount"),
        "currency": data.get("currency"),
        "reason": data.get("reason"),
        "status": data.get("outcome") or data.get("status"),
        "network": data.get("network"),
        "likely_cause": data.get("likely_cause"),
        "recommended_action": data.get("recommended_action"),
        "due_by": _iso(data.get("due_by")),
    }


_BUILDERS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "recovery.campaign.started": lambda d: _campaign(d, "in_flight"),
    "recovery.campaign.recovered": lambda d: _campaign(d, "recovered"),
    "recovery.campaign.lost": lambda d: _campaign(d, "lost"),
    "recovery.campaign.abandoned": lambda d: _campaign(d, "abandoned"),
    "recovery.attempt.failed": _attempt,
    "dunning.email.sent": _dunning_email,
    "cancel.session.saved": _cancel_session,
    "cancel.session.cancelled": _cancel_session,
    "winback.reactivated": _winback,
    "dispute.created": _dispute,
    "dispute.closed": _dispute,
}


def envelope(
    *,
    event_id_: str,
    event_type: str,
    created: dt.datetime,
    workspace: str,
    livemode: bool,
    data: Mapping[str, Any],
    is_test: bool = False,
) -> dict[str, Any]:
    """The webhook body of one event of ``event_type`` with its domain ``data``."""
    body = {
        "id": event_id_,
        "object": "event",
        "type": event_type,
        "created": int(created.timestamp()),
        "workspace": workspace,
        "livemode": livemode,
        "data": {"object": _BUILDERS[event_type](data)},
    }
    if is_test:
        body["test"] = True
    return body


#: Domain data as the loops emit it, for test events and the docs.
SAMPLES: dict[str, dict[str, Any]] = {
    "recovery.campaign.started": {
        "campaign_id": 4711,
        "customer": "cus_QX2mV8yLk1",
        "subscription": "sub_1PqR2sT3",
        "invoice": "in_1PqR9zK2",
        "amount_minor": 4900,
        "currency": "usd",
        "decline_class": "scheduled",
        "decline_code": "insufficient_funds",
        "is_holdout": False,
    },
    "recovery.attempt.failed": {
        "campaign_id": 4711,
        "invoice": "in_1PqR9zK2",
        "charge": "ch_3PqS1aB4",
        "decline_code": "insufficient_funds",
    },
    "dunning.email.sent": {
        "campaign_id": 4711,
        "touch": "d3",
        "customer": "cus_QX2mV8yLk1",
        "to": "jordan@example.com",
    },
    "cancel.session.saved": {
        "session_id": 812,
        "outcome": "saved",
        "customer": "cus_QX2mV8yLk1",
        "subscription": "sub_1PqR2sT3",
        "reason": "too_expensive",
        "offer": "25% off for 3 months",
        "mrr_minor": 4900,
        "currency": "usd",
        "ends_at": None,
    },
    "winback.reactivated": {
        "campaign_id": 96,
        "customer": "cus_QX2mV8yLk1",
        "subscription": "sub_1OldSub9",
        "new_subscription": "sub_1NewSub2",
        "reason": "too_expensive",
        "won_via": "link",
        "regained_mrr_minor": 4900,
        "regained_currency": "usd",
    },
}
SAMPLES["dispute.created"] = {
    "dispute": "dp_1PqT7uV8",
    "charge": "ch_3PqS1aB4",
    "customer": "cus_QX2mV8yLk1",
    "amount": 4900,
    "currency": "usd",
    "reason": "subscription_canceled",
    "status": "needs_response",
    "network": "visa",
    "likely_cause": "forgotten_subscription",
    "recommended_action": "fight",
    "due_by": "2027-01-22T23:59:59+00:00",
}
SAMPLES["dispute.closed"] = {**SAMPLES["dispute.created"], "status": "won", "outcome": "won"}
SAMPLES["recovery.campaign.recovered"] = {
    **SAMPLES["recovery.campaign.started"],
    "reason": "the invoice was paid",
    "attribution": "retry",
    "recovered_minor": 4900,
}
SAMPLES["recovery.campaign.lost"] = {
    **SAMPLES["recovery.campaign.started"],
    "reason": "the recovery window ended",
}
SAMPLES["recovery.campaign.abandoned"] = {
    **SAMPLES["recovery.campaign.started"],
    "reason": "the invoice was voided",
}
SAMPLES["cancel.session.cancelled"] = {
    **SAMPLES["cancel.session.saved"],
    "outcome": "cancelled",
    "offer": None,
    "ends_at": "2027-01-31T00:00:00+00:00",
}


def sample(event_type: str, *, workspace: str, now: dt.datetime, test_id: str) -> dict[str, Any]:
    """A test event of ``event_type`` (marked ``"test": true``), as "send test event"
    posts it."""
    return envelope(
        event_id_=test_id,
        event_type=event_type,
        created=now,
        workspace=workspace,
        livemode=False,
        data=SAMPLES[event_type],
        is_test=True,
    )
