"""Customers: the list with each customer's billing status, and one customer's page."""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable

from flask import render_template, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.access import current_workspace
from ..extensions import db
from ..recovery import queries as recovery_queries
from ..recovery.models import IN_FLIGHT, Campaign
from ..sms import queries as sms_queries
from ..stripe.models import MirrorCustomer, MirrorInvoice, MirrorSubscription
from ..tenancy import get_or_404, scoped
from ..winback import policy as winback_policy
from ..winback import queries as winback_queries
from .chrome import PAGE, feature_blueprint

bp = feature_blueprint("customers", __name__)


class Status(enum.StrEnum):
    IN_RECOVERY = "in_recovery"
    PAST_DUE = "past_due"
    PAYING = "paying"
    TRIAL = "trial"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    NONE = "none"


STATUS_LABELS = {
    Status.IN_RECOVERY: "In recovery",
    Status.PAST_DUE: "Past due",
    Status.PAYING: "Paying",
    Status.TRIAL: "Trial",
    Status.PAUSED: "Paused",
    Status.CANCELLED: "Cancelled",
    Status.NONE: "No subscription",
}
#: Win-back campaigns and steps in the merchant's words.
WINBACK_WORDS = {
    "state": {
        "active": "Under way",
        "won": "Won back",
        "returned": "Came back on their own (not credited)",
        "stopped": "Stopped",
        "ended": "Ended without a return",
    },
    "won_via": {
        "link": "through the win-back email's link",
        "email": "within the window after a win-back email",
        "other": "another way",
    },
    "outcome": {
        None: "Planned",
        "sent": "Sent",
        "skipped": "Skipped",
        "stopped": "Stopped",
        "blocked": "Not sent",
        "dropped": "Not sent",
        "closed": "Closed",
        "cancelled": "Cancelled",
        "error": "Failed",
    },
}
_PAST_DUE = {"past_due", "unpaid", "incomplete"}
_ENDED = {"canceled", "incomplete_expired"}


def customer_status(subscription_statuses: Iterable[str], *, in_recovery: bool) -> Status:
    """One word for where a customer stands, the most pressing first: an open recovery
    campaign, then a subscription past due, then one that pays, is on trial or is paused,
    then only ended ones; a customer who never subscribed (or whose subscriptions we do not
    know) has none."""
    statuses = set(subscription_statuses)
    if in_recovery:
        return Status.IN_RECOVERY
    if statuses & _PAST_DUE:
        return Status.PAST_DUE
    if "active" in statuses:
        return Status.PAYING
    if "trialing" in statuses:
        return Status.TRIAL
    if "paused" in statuses:
        return Status.PAUSED
    if statuses & _ENDED:
        return Status.CANCELLED
    return Status.NONE


def statuses_of(session: Session, workspace_id: int, customer_ids: list[str]) -> dict[str, Status]:
    """The status of each of ``customer_ids``, in two queries whatever their number."""
    if not customer_ids:
        return {}
    subscriptions: dict[str, list[str]] = defaultdict(list)
    for customer_id, status in session.execute(
        select(MirrorSubscription.customer_stripe_id, MirrorSubscription.status).where(
            MirrorSubscription.workspace_id == workspace_id,
            MirrorSubscription.customer_stripe_id.in_(customer_ids),
            ~MirrorSubscription.is_deleted,
        )
    ):
        subscriptions[customer_id].append(status)
    recovering = set(
        session.execute(
            select(Campaign.customer_stripe_id).where(
                Campaign.workspace_id == workspace_id,
                Campaign.customer_stripe_id.in_(customer_ids),
                Campaign.state == IN_FLIGHT,
            )
        ).scalars()
    )
    return {
        c: customer_status(subscriptions.get(c, ()), in_recovery=c in recovering)
        for c in customer_ids
    }


@bp.get("/customers")
def index():
    workspace = current_workspace()
    page = max(1, request.args.get("page", 1, type=int))
    query = scoped(MirrorCustomer, workspace.id).where(~MirrorCustomer.is_deleted)
    q = (request.args.get("q") or "").strip()
    if q:
        query = query.where(
            MirrorCustomer.email.ilike(f"%{q}%")
            | MirrorCustomer.name.ilike(f"%{q}%")
            | (MirrorCustomer.stripe_id == q)
        )
    rows = (
        db.session.execute(
            query.order_by(MirrorCustomer.stripe_created.desc(), MirrorCustomer.id.desc())
            .limit(PAGE + 1)
            .offset((page - 1) * PAGE)
        )
        .scalars()
        .all()
    )
    shown = rows[:PAGE]
    return render_template(
        "dashboard/customers.html",
        customers=shown,
        statuses=statuses_of(db.session, workspace.id, [c.stripe_id for c in shown]),
        status_labels=STATUS_LABELS,
        page=page,
        has_more=len(rows) > PAGE,
        q=q,
    )


@bp.get("/customers/<stripe_id>")
def show(stripe_id: str):
    workspace = current_workspace()
    row = get_or_404(MirrorCustomer, workspace.id, stripe_id=stripe_id)
    subscriptions = (
        db.session.execute(
            scoped(MirrorSubscription, workspace.id).where(
                MirrorSubscription.customer_stripe_id == stripe_id
            )
        )
        .scalars()
        .all()
    )
    invoices = (
        db.session.execute(
            scoped(MirrorInvoice, workspace.id)
            .where(MirrorInvoice.customer_stripe_id == stripe_id)
            .order_by(MirrorInvoice.stripe_created.desc())
            .limit(50)
        )
        .scalars()
        .all()
    )
    campaigns = recovery_queries.customer_campaigns(db.session, workspace.id, stripe_id)
    winbacks = winback_queries.customer_campaigns(db.session, workspace.id, stripe_id)
    return render_template(
        "dashboard/customer.html",
        customer=row,
        subscriptions=subscriptions,
        invoices=invoices,
        campaigns=campaigns,
        winbacks=winbacks,
        texts=sms_queries.for_customer(db.session, workspace.id, stripe_id, row.data),
        winback_words=WINBACK_WORDS,
        reason_labels=winback_policy.REASON_LABELS,
        copy_key=winback_policy.copy_key,
        touch_label=winback_policy.touch_label,
        status=customer_status(
            [s.status for s in subscriptions if not s.is_deleted],
            in_recovery=any(c.is_open for c in campaigns),
        ),
        status_labels=STATUS_LABELS,
    )
