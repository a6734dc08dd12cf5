"""Held-out campaigns count apart: their events go to ``holdout_*`` metrics, so that
``failed``/``recovered``/``lost`` keep meaning the campaigns Backstop worked on; treated
campaigns drawn while a holdout was on count again as ``treated_*``."""

from __future__ import annotations

from app.insights.rollups import Contribution, contributions

FACTS = {"currency": "USD", "amount_minor": 2900, "decline_class": "scheduled"}


def test_a_held_out_campaign_counts_only_under_the_holdout_metrics() -> None:
    held = {**FACTS, "is_holdout": True, "holdout_percent": 5}
    assert contributions("recovery.campaign.started", held) == [
        Contribution("holdout_failed", "scheduled", "usd", 1, 2900)
    ]
    recovered = {**held, "attribution": "stripe_retry", "recovered_minor": 2900}
    assert contributions("recovery.campaign.recovered", recovered) == [
        Contribution("holdout_recovered", "stripe_retry", "usd", 1, 2900)
    ]
    assert contributions("recovery.campaign.lost", held) == [
        Contribution("holdout_lost", "scheduled", "usd", 1, 2900)
    ]
    assert contributions("recovery.campaign.abandoned", held) == [
        Contribution("holdout_abandoned", "scheduled", "usd", 1, 2900)
    ]


def test_a_treated_campaign_drawn_while_a_holdout_was_on_counts_twice() -> None:
    treated = {**FACTS, "is_holdout": False, "holdout_percent": 5}
    recovered = {**treated, "attribution": "retry", "recovered_minor": 2900}
    assert contributions("recovery.campaign.recovered", recovered) == [
        Contribution("recovered", "retry", "usd", 1, 2900),
        Contribution("treated_recovered", "", "usd", 1, 0),
    ]
    assert contributions("recovery.campaign.lost", treated) == [
        Contribution("lost", "scheduled", "usd", 1, 2900),
        Contribution("treated_lost", "", "usd", 1, 0),
    ]
    started = contributions("recovery.campaign.started", treated)
    assert [c.metric for c in started] == ["failed", "failed_code"]


def test_without_a_holdout_nothing_changes() -> None:
    for facts in (FACTS, {**FACTS, "is_holdout": False, "holdout_percent": None}):
        assert [c.metric for c in contributions("recovery.campaign.lost", facts)] == ["lost"]
