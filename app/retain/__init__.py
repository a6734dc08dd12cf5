"""Retain: cancel flows that save customers (DESIGN §8).

A flow is a draft plus immutable published versions split as A/B arms; a customer who
asks to cancel gets a one-shot link to a session on one version, walks its steps, and
either accepts an offer (applied on Stripe) or cancels (one tap from every step).
"""

from __future__ import annotations


def register() -> None:
    """Called by ``create_app``: the Stripe events this loop listens to."""
    from ..stripe import processing
    from . import outside

    processing.subscribe(
        {
            "customer.subscription.updated": [outside.on_subscription_changed],
            "customer.subscription.deleted": [outside.on_subscription_changed],
        }
    )
