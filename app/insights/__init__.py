"""Insights: what Backstop earned each merchant (DESIGN §9).

Rollups per day, metric and currency are kept by a worker from the domain-event stream
(:mod:`.rollups`); the dashboard's figures read them (:mod:`.figures`), never the raw
rows, except for what is open now (at-risk MRR) and the latest events.
"""

from __future__ import annotations


def register() -> None:
    """Called by ``create_app``: count every domain event into the rollups, and record
    churn when a subscription ends, and the baseline once an import is done."""
    from ..events import services as events
    from ..stripe import processing
    from . import baseline, churn, rollups

    events.consume("*", "insights.rollup", rollups.apply)
    processing.subscribe({"customer.subscription.deleted": [churn.subscription_ended]})
    processing.subscribe({processing.IMPORTED: [baseline.imported]})
