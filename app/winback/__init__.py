"""Win back: bring customers whose subscription ended back in one tap (DESIGN §9).

A campaign opens when a cancellation takes effect; its touches (copy that follows the
reason the customer gave) carry a signed link to the come-back page, which restarts
the old plan with the card on file. A return by any path closes the campaign; only
returns through our link, or within the window after a touch, are credited to us.
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
            "customer.subscription.deleted": [handlers.subscription_deleted],
            "customer.subscription.created": [handlers.subscription_billing],
            "customer.subscription.updated": [handlers.subscription_billing],
            "customer.deleted": [handlers.customer_deleted],
            processing.DISCONNECTED: [handlers.disconnected],
            processing.IMPORTED: [handlers.imported],
        }
    )
    events.consume("recovery.campaign.lost", "winback.recovery_lost", handlers.recovery_lost)
    events.consume("email.suppressed", "winback.address_suppressed", handlers.address_suppressed)
    touches.GUARD.register(touches.TEMPLATE)
