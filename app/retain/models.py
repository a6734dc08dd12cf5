"""The Retain loop's rows: flows (a draft and immutable published versions), the
workspace's cancel settings, the customers' cancel sessions, and the follow-up checks
in the database's schedule."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..models import Base, BigId, UTCDateTime, created_at, intpk, utcnow, workspace_fk

CANCEL_MODES = ("period_end", "immediately")
OUTCOMES = ("saved", "cancelled", "abandoned")


class RetainSettings(Base):
    """How a workspace's cancels happen, and which offers need an owner's approval."""

    __tablename__ = "retain_settings"

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk(unique=True)
    cancel_mode: Mapped[str] = mapped_column(
        String(16), default="period_end", comment="period_end | immediately"
    )
    max_percent_off: Mapped[int] = mapped_column(
        default=50, comment="above: needs an owner's approval"
    )
    max_free_months: Mapped[int] = mapped_column(default=3)
    max_pause_months: Mapped[int] = mapped_column(default=3)
    return_origins: Mapped[list[str]] = mapped_column(
        JSON, default=list, comment="origins a hosted redirect may send customers back to"
    )
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class RetainFlow(Base):
    """A cancel flow: the draft the merchant edits and who sees it."""

    __tablename__ = "retain_flow"

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    name: Mapped[str] = mapped_column(String(120))
    template_key: Mapped[str | None] = mapped_column(String(40))
    draft: Mapped[dict[str, Any]] = mapped_column(JSON)
    draft_revision: Mapped[int] = mapped_column(default=1, comment="+1 on every draft save")
    is_default: Mapped[bool] = mapped_column(
        default=False, comment="for customers no other flow targets"
    )
    price_ids: Mapped[list[str]] = mapped_column(
        JSON, default=list, comment="targeted plans; empty: all"
    )
    share_percent: Mapped[int] = mapped_column(default=100, comment="share of customers it targets")
    status: Mapped[str] = mapped_column(String(16), default="active", comment="active | archived")
    approved_revision: Mapped[int | None] = mapped_column(
        comment="the draft revision an owner approved"
    )
    approved_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("user_account.id", ondelete="SET NULL")
    )
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[created_at]
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    archived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class RetainFlowVersion(Base):
    """A published snapshot of a flow's draft: never edited; ``weight`` is its share of
    the flow's traffic (its A/B arm)."""

    __tablename__ = "retain_flow_version"
    __table_args__ = (UniqueConstraint("flow_id", "number"),)

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    flow_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("retain_flow.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    weight: Mapped[int] = mapped_column(default=0, comment="percent of the flow's traffic")
    published_at: Mapped[created_at]
    published_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("user_account.id", ondelete="SET NULL")
    )


class CancelSession(Base):
    """One customer's visit to a cancel flow, from the signed request to its outcome.

    The link's token is stored only as a hash. ``outcome`` is null while the customer
    has not decided; ``abandoned`` once the link ran out with no decision."""

    __tablename__ = "retain_session"
    __table_args__ = (
        Index("ix_retain_session_ws_created", "workspace_id", "created_at"),
        Index("ix_retain_session_ws_flow", "workspace_id", "flow_id", "version_id", "outcome"),
        Index("ix_retain_session_ws_subscription", "workspace_id", "subscription_stripe_id"),
        UniqueConstraint("workspace_id", "request_signature"),
    )

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    request_signature: Mapped[str | None] = mapped_column(
        String(64), comment="the signed request that opened it: a replay finds it"
    )
    customer_stripe_id: Mapped[str] = mapped_column(String(255))
    subscription_stripe_id: Mapped[str] = mapped_column(String(255))
    customer_name: Mapped[str | None] = mapped_column(String(255))
    flow_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("retain_flow.id", ondelete="SET NULL")
    )
    version_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("retain_flow_version.id", ondelete="SET NULL")
    )
    is_simulation: Mapped[bool] = mapped_column(
        default=False, comment="a merchant's walk-through: no Stripe effect"
    )
    simulated_definition: Mapped[dict[str, Any] | None] = mapped_column(
        JSON, comment="the draft a simulation walks (a published version's is its own)"
    )
    price_stripe_id: Mapped[str | None] = mapped_column(String(255))
    plan_name: Mapped[str | None] = mapped_column(String(255))
    amount_minor: Mapped[int] = mapped_column(BigInteger, default=0, comment="per billing period")
    currency: Mapped[str] = mapped_column(String(3), default="usd")
    interval: Mapped[str] = mapped_column(String(8), default="month")
    interval_count: Mapped[int] = mapped_column(default=1)
    mrr_minor: Mapped[int] = mapped_column(
        BigInteger, default=0, comment="the plan's monthly value"
    )
    period_end: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    test_clock: Mapped[str | None] = mapped_column(String(255))
    return_url: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[created_at]
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    current_step: Mapped[str | None] = mapped_column(String(40))
    steps_seen: Mapped[list[str]] = mapped_column(JSON, default=list)
    reason_key: Mapped[str | None] = mapped_column(String(40))
    reason_label: Mapped[str | None] = mapped_column(String(120))
    reason_text: Mapped[str | None] = mapped_column(
        String(1000), comment="the customer's own words"
    )
    feedback: Mapped[str | None] = mapped_column(String(2000))
    offers_shown: Mapped[list[str]] = mapped_column(JSON, default=list, comment="offer step ids")
    offer_step: Mapped[str | None] = mapped_column(String(40), comment="the offer accepted")
    offer: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    offer_error: Mapped[str | None] = mapped_column(String(500), comment="why Stripe refused it")
    outcome: Mapped[str | None] = mapped_column(String(16), comment="saved | cancelled | abandoned")
    outcome_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    cancelled_by: Mapped[str | None] = mapped_column(
        String(16), comment="flow: through Backstop | outside: in Stripe, not through us"
    )
    ends_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime(), comment="when the subscription ends"
    )
    still_paying: Mapped[bool | None] = mapped_column(comment="a save, 30 days on, from Stripe")
    checked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class RetainCheck(Base):
    """A follow-up due later: close an undecided session as abandoned when its link runs
    out, or ask Stripe whether a saved customer still pays 30 days on."""

    __tablename__ = "retain_check"
    __table_args__ = (
        UniqueConstraint("session_id", "kind"),
        Index("ix_retain_check_due", "status", "test_clock", "due_at"),
        Index("ix_retain_check_lease", "status", "lease_until"),
    )

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    session_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("retain_session.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(16), comment="abandon | still_paying")
    test_clock: Mapped[str | None] = mapped_column(String(255), comment="due in this clock's time")
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="pending")
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    outcome: Mapped[str | None] = mapped_column(String(16))
    outcome_detail: Mapped[str | None] = mapped_column(String(500))
    executed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[created_at]


class RetainStat(Base):
    """Ended sessions counted by day (of the session's start), flow, version, reason,
    accepted offer and outcome: the cancel analytics read these, never the sessions."""

    __tablename__ = "retain_stat"
    __table_args__ = (
        UniqueConstraint(
            "workspace_id",
            "day",
            "flow_id",
            "version_id",
            "reason_key",
            "offer_step",
            "outcome",
            "currency",
        ),
        Index("ix_retain_stat_ws_day", "workspace_id", "day"),
    )

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    day: Mapped[dt.date] = mapped_column(Date)
    flow_id: Mapped[int] = mapped_column(BigId, default=0, comment="0: the flow is gone")
    version_id: Mapped[int] = mapped_column(BigId, default=0)
    reason_key: Mapped[str] = mapped_column(String(40), default="", comment="'': no reason given")
    offer_step: Mapped[str] = mapped_column(String(40), default="", comment="'': no offer taken")
    outcome: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    sessions: Mapped[int] = mapped_column(default=0)
    mrr_minor: Mapped[int] = mapped_column(
        BigInteger, default=0, comment="the plans' monthly value"
    )
    still_paying: Mapped[int] = mapped_column(default=0, comment="saves paying 30 days on")
    checked: Mapped[int] = mapped_column(default=0, comment="saves checked 30 days on")


class RetainOfferStat(Base):
    """How many sessions were shown each offer step, by day of the session's start."""

    __tablename__ = "retain_offer_stat"
    __table_args__ = (
        UniqueConstraint("workspace_id", "day", "flow_id", "version_id", "step_id"),
        Index("ix_retain_offer_stat_ws_day", "workspace_id", "day"),
    )

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    day: Mapped[dt.date] = mapped_column(Date)
    flow_id: Mapped[int] = mapped_column(BigId, default=0)
    version_id: Mapped[int] = mapped_column(BigId, default=0)
    step_id: Mapped[str] = mapped_column(String(40))
    shown: Mapped[int] = mapped_column(default=0)


class OutsideCancel(Base):
    """A subscription set to end, or ended, in Stripe rather than through a cancel flow
    (the bypass the dashboard flags: Stripe's own portal, the merchant's dashboard)."""

    __tablename__ = "retain_outside_cancel"
    __table_args__ = (
        UniqueConstraint("workspace_id", "subscription_stripe_id"),
        Index("ix_retain_outside_cancel_ws_at", "workspace_id", "recorded_at"),
    )

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    customer_stripe_id: Mapped[str] = mapped_column(String(255))
    subscription_stripe_id: Mapped[str] = mapped_column(String(255))
    plan_name: Mapped[str | None] = mapped_column(String(255))
    mrr_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="usd")
    cancelled_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), comment="when Stripe recorded it (a test clock's time on a clock)"
    )
    recorded_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), default=utcnow, comment="when Backstop heard of it"
    )
    reason: Mapped[str | None] = mapped_column(
        String(64), comment="Stripe's cancellation_details.reason"
    )
