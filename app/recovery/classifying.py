"""A campaign's decline class from its latest decline and the customer's history: the
codes, the card, the issuer's advice, the workspace's overrides, and adaptive escalation
(``declines.effective_class``) over the customer's past campaigns."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..stripe.billing import Failure
from . import config
from .declines import classify, effective_class, escalation_reason, normalize
from .models import LOST, RECOVERED, Campaign


def apply_failure(
    session: Session, campaign: Campaign, failure: Failure, failed_at: dt.datetime
) -> bool:
    """Take the latest decline: its codes, its card and its class (a new code may move
    the campaign to another class). Returns True when the class changed."""
    policy = config.policy_for(session, campaign.workspace_id)
    campaign.decline_code = failure.decline_code
    campaign.failure_code = failure.failure_code
    campaign.advice_code = failure.advice_code
    campaign.network_advice_code = failure.network_advice_code
    campaign.last_failure_at = failed_at
    if failure.card.fingerprint:
        campaign.card_brand = failure.card.brand
        campaign.card_fingerprint = failure.card.fingerprint
        campaign.payment_method_id = failure.card.payment_method_id
    base = classify(
        failure.decline_code,
        failure.failure_code,
        failure.advice_code,
        failure.network_advice_code,
        overrides=policy.overrides,
    )
    code = normalize(failure.decline_code or failure.failure_code)
    by_code, cycles = _past_outcomes(session, campaign)
    reason = escalation_reason(base, code, by_code, cycles)
    cls = effective_class(base, code, by_code, cycles)
    changed = campaign.decline_class != str(cls)
    campaign.decline_class = str(cls)
    campaign.class_reason = reason
    return changed


#: Who recovered a payment without the customer having to act.
RETRY_ATTRIBUTIONS = frozenset({"retry", "stripe_retry"})


def _past_outcomes(session: Session, campaign: Campaign) -> tuple[Counter[str], int]:
    """The customer's past campaigns (held-out ones aside): lost ones per decline code,
    and how many ended without a retry recovering them (lost, or paid only once the
    customer acted)."""
    rows = session.execute(
        select(Campaign.state, Campaign.attribution, Campaign.decline_code).where(
            Campaign.workspace_id == campaign.workspace_id,
            Campaign.customer_stripe_id == campaign.customer_stripe_id,
            Campaign.state.in_((LOST, RECOVERED)),
            Campaign.is_holdout.is_(False),
            Campaign.id != campaign.id,
        )
    ).all()
    lost = Counter(c for state, _a, code in rows if state == LOST and (c := normalize(code)))
    cycles = sum(1 for state, attribution, _c in rows if attribution not in RETRY_ATTRIBUTIONS)
    return lost, cycles
