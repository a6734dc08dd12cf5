"""The merchant's words for the recovery loop's states, decline classes and attributions,
shared by the dashboard's pages and the exports."""

from __future__ import annotations

LABELS = {
    "state": {
        "in_flight": "In flight",
        "recovered": "Recovered",
        "lost": "Lost",
        "abandoned": "Abandoned",
    },
    "class": {
        "immediate": "Temporary error",
        "scheduled": "Retried on a cadence",
        "customer_action": "Needs the customer",
        "no_recovery": "Never retried",
    },
    "attribution": {
        "retry": "Backstop retry",
        "card_update": "Card update",
        "customer_paid": "Customer paid",
        "stripe_retry": "Stripe's retry",
    },
}
