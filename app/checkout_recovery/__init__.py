"""Checkout recovery: write to customers who left a subscription checkout unfinished
(issue 18).

A campaign opens when Stripe expires a subscription Checkout Session that has an email,
the customer's consent to marketing and a recovery URL; its reminders (1 h, 24 h and
72 h after the expiry by default) carry the plan, its price and a button to Stripe's
recovery URL, which starts a new session with the same line items. A completed
checkout for the same prices by the same person closes the campaign; it is credited to
us through the recovery link, or within the window after a reminder.
"""

from __future__ import annotations


def register() -> None:
    """Called by ``create_app``: the Stripe events, domain events and message re-checks
    this loop acts on."""
    from ..events import services as events
    from ..stripe import processing
    from . import handlers, touches

    processing.subscribe(
        {
            "checkout.session.expired": [handlers.session_expired],
            "checkout.session.completed": [handlers.session_completed],
            "customer.deleted": [handlers.customer_deleted],
            processing.DISCONNECTED: [handlers.disconnected],
        }
    )
    events.consume(
        "email.suppressed", "checkout_recovery.address_suppressed", handlers.address_suppressed
    )
    touches.GUARD.register(touches.TEMPLATE)
