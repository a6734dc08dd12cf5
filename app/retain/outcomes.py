"""How a cancel session ends: an accepted offer applied on Stripe (saved), a cancel
(cancelled), or nothing before the link ran out (abandoned); and, 30 days after a save,
whether the customer is still paying. Services flush, never commit.

Each end is a domain event (``cancel.session.saved|cancelled|abandoned``) for outbound
webhooks and insights. Simulated sessions change nothing on Stripe and emit nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy.orm import Session

from ..errors import Refusal
from ..events import services as events
from ..i18n import N_
from ..stripe import clocks
from ..stripe import subscriptions as stripe_subs
from ..stripe.client import StripeError
from ..stripe.models import StripeConnection
from ..times import add_months
from . import definition as flow_definition
from . import policy, stats
from .flows import settings_of
from .models import CancelSession, RetainCheck
from .sessions import STILL_PAYING_AFTER, OfferFailed, _expect, _undecided

log = logging.getLogger("backstop.retain")

#: Statuses in which a saved customer counts as still paying.
PAYING = ("active", "trialing", "past_due")


def _key(cancel_session: CancelSession, what: str) -> str:
    return f"retain:{cancel_session.id}:{what}"


def coupon_params(offer: dict[str, Any]) -> dict[str, Any]:
    months = offer["months"]
    params: dict[str, Any] = {"duration": "repeating", "duration_in_months": months}
    if offer["type"] == "free_months":
        params["percent_off"] = 100
    elif offer.get("percent_off") is not None:
        params["percent_off"] = offer["percent_off"]
    else:
        params.update(amount_off=offer["amount_off"], currency=offer["currency"])
    params["name"] = policy.describe_offer(offer)[:40]
    return params


def accept(
    session: Session,
    connection: StripeConnection | None,
    cancel_session: CancelSession,
    step_id: str,
    *,
    now: dt.datetime,
) -> str | None:
    """Apply the offer of ``step_id``; returns the link to send the customer to for a
    link offer (a call, support), else None. A Stripe refusal raises
    :class:`OfferFailed` with nothing applied; the customer can still cancel."""
    _undecided(cancel_session, now)
    step = _expect(session, cancel_session, step_id, "offer")
    offer = step["offer"]
    if not cancel_session.is_simulation and offer["type"] in flow_definition.STRIPE_OFFERS:
        if connection is None or not connection.is_connected:
            raise OfferFailed(N_("This offer can't be applied right now."))
        try:
            offer = {
                **offer,
                **_apply(session, connection, cancel_session, step_id, offer, now=now),
            }
        except StripeError as exc:
            cancel_session.offer_error = (getattr(exc, "user_message", None) or str(exc))[:500]
            session.flush()
            log.warning(
                "retain.offer_failed workspace=%s session=%s step=%s error=%s",
                cancel_session.workspace_id,
                cancel_session.id,
                step_id,
                cancel_session.offer_error,
            )
            raise OfferFailed(
                N_("We couldn't apply this offer. Nothing has changed; you can still cancel.")
            ) from exc
    cancel_session.offer_step = step_id
    cancel_session.offer = offer
    cancel_session.offer_error = None
    _finish(session, cancel_session, "saved", now=now)
    return offer.get("url") if offer["type"] in flow_definition.LINK_OFFERS else None


def _apply(
    session: Session,
    connection: StripeConnection,
    cancel_session: CancelSession,
    step_id: str,
    offer: dict[str, Any],
    *,
    now: dt.datetime,
) -> dict[str, Any]:
    """Apply ``offer`` on Stripe; returns what the customer should be told of it (when a
    pause ends)."""
    key = _key(cancel_session, step_id)
    subscription_id = cancel_session.subscription_stripe_id
    if offer["type"] in ("discount", "free_months"):
        coupon = stripe_subs.ensure_coupon(
            connection, policy.coupon_id(offer), coupon_params(offer)
        )
        stripe_subs.apply_coupon(connection, subscription_id, coupon, idempotency_key=key)
    elif offer["type"] == "pause":
        at = clocks.now_for(session, cancel_session.workspace_id, cancel_session.test_clock, now)
        resumes_at = add_months(at, offer["months"])
        stripe_subs.pause(connection, subscription_id, resumes_at=resumes_at, idempotency_key=key)
        return {"resumes_at": resumes_at.isoformat()}
    elif offer["type"] == "plan_switch":
        sub = stripe_subs.read_subscription(connection, subscription_id)
        at = clocks.now_for(session, cancel_session.workspace_id, cancel_session.test_clock, now)
        stripe_subs.switch_price(connection, sub, offer["price"], at=at, idempotency_key=key)
    return {}


def cancel(
    session: Session,
    connection: StripeConnection | None,
    cancel_session: CancelSession,
    *,
    now: dt.datetime,
) -> None:
    """Cancel the subscription, from whatever step the customer is on: at the period's
    end or at once, as the workspace chose."""
    _undecided(cancel_session, now)
    at_period_end = settings_of(session, cancel_session.workspace_id).cancel_mode == "period_end"
    ends_at = cancel_session.period_end if at_period_end else now
    if not cancel_session.is_simulation:
        if connection is None or not connection.is_connected:
            raise Refusal(N_("Cancelling isn't available right now. Please contact support."))
        sub = stripe_subs.cancel(
            connection,
            cancel_session.subscription_stripe_id,
            at_period_end=at_period_end,
            reason_key=cancel_session.reason_key,
            comment=cancel_session.reason_text or cancel_session.feedback,
            marker=str(cancel_session.id),
            idempotency_key=_key(cancel_session, "cancel"),
        )
        ends_at = (
            sub.period_end
            if at_period_end
            else clocks.now_for(
                session, cancel_session.workspace_id, cancel_session.test_clock, now
            )
        )
    cancel_session.ends_at = ends_at
    cancel_session.cancelled_by = "flow"
    _finish(session, cancel_session, "cancelled", now=now)


def _finish(
    session: Session, cancel_session: CancelSession, outcome: str, *, now: dt.datetime
) -> None:
    cancel_session.outcome = outcome
    cancel_session.outcome_at = now
    session.flush()
    if cancel_session.is_simulation:
        return
    stats.count_outcome(session, cancel_session)
    if outcome == "saved":
        at = clocks.now_for(session, cancel_session.workspace_id, cancel_session.test_clock, now)
        session.add(
            RetainCheck(
                workspace_id=cancel_session.workspace_id,
                session_id=cancel_session.id,
                kind="still_paying",
                test_clock=cancel_session.test_clock,
                due_at=at + STILL_PAYING_AFTER,
            )
        )
    events.emit(
        session,
        cancel_session.workspace_id,
        f"cancel.session.{outcome}",
        subject=f"retain_session:{cancel_session.id}",
        data=session_facts(cancel_session),
        occurred_at=now,
    )
    log.info(
        "retain.session_%s workspace=%s session=%s",
        outcome,
        cancel_session.workspace_id,
        cancel_session.id,
    )


def session_facts(cancel_session: CancelSession) -> dict[str, Any]:
    """What a consumer (a webhook, Slack, insights) needs to know of an ended session."""
    return {
        "session_id": cancel_session.id,
        "customer": cancel_session.customer_stripe_id,
        "subscription": cancel_session.subscription_stripe_id,
        "flow_id": cancel_session.flow_id,
        "version_id": cancel_session.version_id,
        "outcome": cancel_session.outcome,
        "reason": cancel_session.reason_key,
        "offer": policy.describe_offer(cancel_session.offer) if cancel_session.offer else None,
        "mrr_minor": cancel_session.mrr_minor,
        "currency": cancel_session.currency,
        "cancelled_by": cancel_session.cancelled_by,
        "ends_at": cancel_session.ends_at.isoformat() if cancel_session.ends_at else None,
    }


def end_outside(
    session: Session,
    cancel_session: CancelSession,
    *,
    ends_at: dt.datetime | None,
    now: dt.datetime,
) -> None:
    """The subscription was cancelled in Stripe, not through the flow: an open session
    ends as cancelled, credited to whoever did it there."""
    cancel_session.cancelled_by = "outside"
    cancel_session.ends_at = ends_at
    _finish(session, cancel_session, "cancelled", now=now)


def abandon(session: Session, cancel_session: CancelSession, *, now: dt.datetime) -> bool:
    """An undecided session whose link ran out (never counted as saved)."""
    if cancel_session.outcome is not None:
        return False
    _finish(session, cancel_session, "abandoned", now=now)
    return True


def record_still_paying(
    session: Session,
    connection: StripeConnection | None,
    cancel_session: CancelSession,
    *,
    now: dt.datetime,
) -> bool | None:
    """Ask Stripe whether a saved customer still pays (None: we cannot tell, no
    connection); recorded on the session."""
    if connection is None or not connection.is_connected:
        return None
    sub = stripe_subs.read_subscription(connection, cancel_session.subscription_stripe_id)
    cancel_session.still_paying = sub.status in PAYING and not sub.cancel_at_period_end
    cancel_session.checked_at = now
    session.flush()
    stats.count_still_paying(session, cancel_session, cancel_session.still_paying)
    return cancel_session.still_paying
