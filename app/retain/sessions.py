"""A customer's cancel session: opened by a signed request, walked step by step, ended
by an accepted offer (saved), a cancel (cancelled), or nothing before the link runs out
(abandoned). Services flush, never commit; Stripe effects carry idempotency keys made
from the session, so a double-submitted accept applies its offer once.

The session keeps the version it started on: editing or republishing the flow never
moves a customer who is mid-way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import Conflict, Refusal
from ..i18n import N_
from ..stripe import clocks
from ..stripe import subscriptions as stripe_subs
from ..stripe.models import StripeConnection
from . import definition as flow_definition
from . import policy, stats
from .flows import route
from .models import CancelSession, RetainCheck, RetainFlowVersion

log = logging.getLogger("backstop.retain")

LINK_TTL = dt.timedelta(hours=24)
STILL_PAYING_AFTER = dt.timedelta(days=30)


class NotFound(Exception):
    """An unknown customer or subscription, or no published flow (the API's 404)."""


class AlreadyDecided(Conflict):
    """The session has its outcome; nothing more can change it (410 on the page)."""

    status = 410


class OfferFailed(Exception):
    """Stripe refused the offer: nothing was applied and cancelling still works."""


@dataclass(frozen=True)
class Opened:
    cancel_session: CancelSession
    token: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _signature_key(signature: str | None) -> str | None:
    return hashlib.sha256(signature.encode()).hexdigest() if signature else None


def find(session: Session, token: str, *, for_update: bool = False) -> CancelSession | None:
    if not token or len(token) > 100:
        return None
    query = select(CancelSession).where(CancelSession.token_hash == _hash(token))
    if for_update:
        query = query.with_for_update()
    return session.execute(query).scalar_one_or_none()


def open_session(
    session: Session,
    connection: StripeConnection,
    *,
    customer_id: str,
    subscription_id: str,
    signature: str | None,
    return_url: str | None,
    now: dt.datetime,
) -> Opened:
    """A one-shot, 24-hour link to the flow this customer's subscription routes to. A
    replayed signed request gets a fresh link to the same session while it is open."""
    workspace_id = connection.workspace_id
    key = _signature_key(signature)
    if key is not None:
        earlier = session.execute(
            select(CancelSession).where(
                CancelSession.workspace_id == workspace_id, CancelSession.request_signature == key
            )
        ).scalar_one_or_none()
        if earlier is not None:
            if earlier.outcome is not None or now >= earlier.expires_at:
                raise AlreadyDecided("This cancel request was already used; sign a new one.")
            token = secrets.token_urlsafe(32)
            earlier.token_hash = _hash(token)
            session.flush()
            return Opened(earlier, token)
    try:
        sub = stripe_subs.read_subscription(connection, subscription_id)
    except stripe_subs.InvalidRequestError as exc:
        if getattr(exc, "http_status", None) == 404:
            raise NotFound("unknown subscription") from exc
        raise
    if sub.customer_id != customer_id:
        raise NotFound("unknown subscription for this customer")
    if sub.is_cancelled:
        raise NotFound("the subscription has already ended")
    clocks.ensure(session, connection, sub.test_clock)  # its follow-ups run on its time
    version = route(
        session,
        workspace_id,
        price_ids={sub.price_id} if sub.price_id else set(),
        customer_id=customer_id,
    )
    if version is None:
        raise NotFound("no published cancel flow")
    cancel_session, token = _new(session, workspace_id, version, sub, now=now)
    cancel_session.request_signature = key
    cancel_session.return_url = return_url
    cancel_session.customer_name = stripe_subs.customer_name(connection, customer_id)
    session.add(
        RetainCheck(
            workspace_id=workspace_id,
            session_id=cancel_session.id,
            kind="abandon",
            due_at=cancel_session.expires_at,
        )
    )
    session.flush()
    log.info(
        "retain.session_opened workspace=%s session=%s flow=%s version=%s",
        workspace_id,
        cancel_session.id,
        version.flow_id,
        version.number,
    )
    return Opened(cancel_session, token)


def _new(
    session: Session,
    workspace_id: int,
    version: RetainFlowVersion,
    sub: stripe_subs.SubscriptionFacts,
    *,
    now: dt.datetime,
    is_simulation: bool = False,
) -> tuple[CancelSession, str]:
    token = secrets.token_urlsafe(32)
    plan = policy.Plan(
        sub.plan_name or "", sub.amount_minor, sub.currency, sub.interval, sub.interval_count
    )
    cancel_session = CancelSession(
        workspace_id=workspace_id,
        token_hash=_hash(token),
        customer_stripe_id=sub.customer_id,
        subscription_stripe_id=sub.id,
        flow_id=version.flow_id,
        version_id=version.id,
        is_simulation=is_simulation,
        price_stripe_id=sub.price_id,
        plan_name=sub.plan_name,
        amount_minor=sub.amount_minor,
        currency=sub.currency,
        interval=sub.interval,
        interval_count=sub.interval_count,
        mrr_minor=plan.monthly_minor,
        period_end=sub.period_end,
        test_clock=sub.test_clock,
        created_at=now,
        expires_at=now + LINK_TTL,
        current_step=flow_definition.first_step(version.definition)["id"],
        steps_seen=[],
        offers_shown=[],
    )
    session.add(cancel_session)
    session.flush()
    return cancel_session, token


def simulate(
    session: Session,
    workspace_id: int,
    flow_id: int,
    walked: dict[str, Any],
    plan: stripe_subs.PriceFacts,
    *,
    now: dt.datetime,
    version: RetainFlowVersion | None = None,
) -> Opened:
    """A walk through ``walked`` (a draft, or ``version``'s definition) as a customer of
    ``plan`` would see it: no Stripe effect, not counted anywhere."""
    token = secrets.token_urlsafe(32)
    monthly = policy.Plan(
        plan.name or "", plan.amount_minor, plan.currency, plan.interval, plan.interval_count
    )
    cancel_session = CancelSession(
        workspace_id=workspace_id,
        token_hash=_hash(token),
        customer_stripe_id="cus_simulated",
        subscription_stripe_id="sub_simulated",
        customer_name="Sam Sample",
        flow_id=flow_id,
        version_id=version.id if version is not None else None,
        is_simulation=True,
        simulated_definition=None if version is not None else walked,
        price_stripe_id=plan.id,
        plan_name=plan.name,
        amount_minor=plan.amount_minor,
        currency=plan.currency,
        interval=plan.interval,
        interval_count=plan.interval_count,
        mrr_minor=monthly.monthly_minor,
        period_end=now + dt.timedelta(days=30),
        created_at=now,
        expires_at=now + LINK_TTL,
        current_step=flow_definition.first_step(walked)["id"],
        steps_seen=[],
        offers_shown=[],
    )
    session.add(cancel_session)
    session.flush()
    return Opened(cancel_session, token)


# -- walking the flow -----------------------------------------------------------------------------


def definition_of(session: Session, cancel_session: CancelSession) -> dict[str, Any]:
    if cancel_session.simulated_definition is not None:
        return cancel_session.simulated_definition
    version = (
        session.get(RetainFlowVersion, cancel_session.version_id)
        if cancel_session.version_id
        else None
    )
    if version is None or version.workspace_id != cancel_session.workspace_id:
        raise NotFound("this flow is gone")
    return version.definition


def confirm_of(definition: dict[str, Any]) -> dict[str, Any]:
    return flow_definition.confirm_step(definition)


def plan_of(cancel_session: CancelSession) -> policy.Plan:
    return policy.Plan(
        cancel_session.plan_name or "your plan",
        cancel_session.amount_minor,
        cancel_session.currency,
        cancel_session.interval,
        cancel_session.interval_count,
    )


def current(session: Session, cancel_session: CancelSession, *, now: dt.datetime) -> dict[str, Any]:
    """The step the customer is on, recorded as seen (the first view opens the session)."""
    definition = definition_of(session, cancel_session)
    steps = flow_definition.steps_by_id(definition)
    step = steps.get(cancel_session.current_step or "") or flow_definition.first_step(definition)
    if cancel_session.opened_at is None:
        cancel_session.opened_at = now
    if cancel_session.outcome is None and step["id"] not in (cancel_session.steps_seen or []):
        cancel_session.steps_seen = [*(cancel_session.steps_seen or []), step["id"]]
        if step["kind"] == "offer":
            cancel_session.offers_shown = [*(cancel_session.offers_shown or []), step["id"]]
            if not cancel_session.is_simulation:
                stats.count_offer_shown(session, cancel_session, step["id"])
    session.flush()
    return step


def _undecided(cancel_session: CancelSession, now: dt.datetime) -> None:
    if cancel_session.outcome is not None:
        raise AlreadyDecided(N_("You've already made your choice."))
    if now >= cancel_session.expires_at:
        raise AlreadyDecided(N_("This link has run out."))


def _expect(
    session: Session, cancel_session: CancelSession, step_id: str, kind: str | tuple[str, ...]
) -> dict[str, Any]:
    definition = definition_of(session, cancel_session)
    step = flow_definition.steps_by_id(definition).get(step_id)
    kinds = (kind,) if isinstance(kind, str) else kind
    if step is None or step["kind"] not in kinds or step_id != cancel_session.current_step:
        raise Refusal(N_("That page is out of date; here is where you are."))
    return step


def _advance(
    session: Session, cancel_session: CancelSession, step_id: str, reason_key: str | None = None
) -> None:
    definition = definition_of(session, cancel_session)
    cancel_session.current_step = flow_definition.next_step(
        definition, step_id, reason_key=reason_key
    )["id"]
    session.flush()


def answer(
    session: Session,
    cancel_session: CancelSession,
    step_id: str,
    reason_key: str,
    text: str | None,
    *,
    now: dt.datetime,
) -> None:
    """The customer's reason (and, for a free-text reason, their own words)."""
    _undecided(cancel_session, now)
    step = _expect(session, cancel_session, step_id, "survey")
    chosen = flow_definition.reason(step, reason_key)
    if chosen is None:
        raise Refusal(N_("Choose one of the reasons."))
    cancel_session.reason_key = chosen["key"]
    cancel_session.reason_label = chosen["label"][:120]
    cancel_session.reason_text = (
        (text or "").strip()[:1000] or None if chosen.get("free_text") else None
    )
    _advance(session, cancel_session, step_id, chosen["key"])


def skip(
    session: Session, cancel_session: CancelSession, step_id: str, *, now: dt.datetime
) -> None:
    """ "No thanks" on an offer or stories page, or going on past the survey unanswered."""
    _undecided(cancel_session, now)
    _expect(session, cancel_session, step_id, ("offer", "stories", "survey", "feedback"))
    _advance(session, cancel_session, step_id)


def give_feedback(
    session: Session, cancel_session: CancelSession, step_id: str, text: str, *, now: dt.datetime
) -> None:
    _undecided(cancel_session, now)
    _expect(session, cancel_session, step_id, "feedback")
    cancel_session.feedback = text.strip()[:2000] or None
    _advance(session, cancel_session, step_id)
