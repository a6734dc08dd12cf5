"""Disputes (DESIGN §9): when a cardholder disputes a charge, assemble the evidence from
our own records, classify the likely cause from four signals, and let the merchant
submit it in one click (or have it submitted before it is due); and watch the dispute
rate per card network against the networks' monitoring thresholds."""

from __future__ import annotations


def register() -> None:
    """Called by ``create_app``: the Stripe events this package acts on."""
    from ..stripe import processing
    from . import handlers

    processing.subscribe(
        {
            "charge.dispute.created": [handlers.dispute_changed],
            "charge.dispute.updated": [handlers.dispute_changed],
            "charge.dispute.closed": [handlers.dispute_changed],
            "charge.dispute.funds_withdrawn": [handlers.dispute_changed],
            "charge.dispute.funds_reinstated": [handlers.dispute_changed],
            "charge.succeeded": [handlers.charge_succeeded],
        }
    )
