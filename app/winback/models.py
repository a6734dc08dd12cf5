"""The Win-back loop's rows: each workspace's settings, one campaign per ended
subscription, its touches (and its close) in the database's schedule, and the signed
links the touches carry to the come-back page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..models import Base, BigId, UTCDateTime, created_at, intpk, utcnow, workspace_fk

# Campaign states: waiting for its touches -> won (came back, credited to us) |
# returned (came back another way, not credited) | stopped (unsubscribed, bounced, the
# merchant paused, the customer is gone) | ended (every touch sent, no return in time).
ACTIVE, WON, RETURNED, STOPPED, ENDED = "active", "won", "returned", "stopped", "ended"
STATES = (ACTIVE, WON, RETURNED, STOPPED, ENDED)
VOLUNTARY, INVOLUNTARY = "voluntary", "involuntary"
# Step kinds: an email touch, and the close after the last touch's attribution window.
EMAIL, CLOSE = "email", "close"


class WinbackSettings(Base):
    """A workspace's win-back sequence, its copy per touch and reason, the offer, and
    its pause switch."""

    __tablename__ = "winback_settings"

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk(unique=True)
    is_enabled: Mapped[bool] = mapped_column(default=True, comment="new cancels start campaigns")
    is_paused: Mapped[bool] = mapped_column(default=False, comment="every campaign stopped")
    paused_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    paused_by: Mapped[str | None] = mapped_column(String(254))
    delays: Mapped[list[int]] = mapped_column(
        JSON, default=list, comment="days: first touch after the end, then after each touch"
    )
    includes_involuntary: Mapped[bool] = mapped_column(
        default=True, comment="also write to customers lost to failed payments"
    )
    copy: Mapped[dict[str, Any]] = mapped_column(
        JSON, default=dict, comment="per touch (1, 2, 3) and reason: subject and message"
    )
    offer_percent: Mapped[int | None] = mapped_column(comment="percent off on resubscribe")
    offer_months: Mapped[int | None] = mapped_column(comment="for this many months")
    offer_to: Mapped[str] = mapped_column(
        String(16), default="too_expensive", comment="too_expensive | everyone"
    )
    price_stripe_id: Mapped[str | None] = mapped_column(
        String(255), comment="resubscribe to this price; null: the customer's old one"
    )
    attribution_days: Mapped[int] = mapped_column(default=30)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class WinbackCampaign(Base):
    """Bringing back one customer whose subscription ended."""

    __tablename__ = "winback_campaign"
    __table_args__ = (
        UniqueConstraint("workspace_id", "subscription_stripe_id"),
        Index("ix_winback_campaign_ws_state", "workspace_id", "state", "ended_at"),
        Index("ix_winback_campaign_ws_customer", "workspace_id", "customer_stripe_id"),
        # The REST API's list: newest first, a page after a cursor.
        Index("ix_winback_campaign_ws_created", "workspace_id", "created_at", "id"),
    )

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    customer_stripe_id: Mapped[str] = mapped_column(String(255))
    subscription_stripe_id: Mapped[str] = mapped_column(String(255), comment="the one that ended")
    email: Mapped[str | None] = mapped_column(String(254), comment="as Stripe had it at the end")
    customer_name: Mapped[str | None] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16), comment="voluntary | involuntary")
    reason: Mapped[str] = mapped_column(
        String(24), comment="too_expensive | missing_feature | not_using | switched | other"
    )
    reason_detail: Mapped[str | None] = mapped_column(
        String(255), comment="where the reason came from, in words"
    )
    price_stripe_id: Mapped[str | None] = mapped_column(String(255))
    plan_name: Mapped[str | None] = mapped_column(String(255))
    quantity: Mapped[int] = mapped_column(default=1)
    amount_minor: Mapped[int] = mapped_column(BigInteger, default=0, comment="per period")
    currency: Mapped[str] = mapped_column(String(3), default="usd")
    interval: Mapped[str] = mapped_column(String(8), default="month")
    interval_count: Mapped[int] = mapped_column(default=1)
    mrr_minor: Mapped[int] = mapped_column(BigInteger, default=0, comment="what was lost a month")
    customer_tz: Mapped[str] = mapped_column(String(64), default="UTC")
    test_clock: Mapped[str | None] = mapped_column(String(255))
    ended_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), comment="its clock's time")
    state: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    close_reason: Mapped[str | None] = mapped_column(String(255))
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    touches_sent: Mapped[int] = mapped_column(default=0)
    last_touch_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    clicked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    won_via: Mapped[str | None] = mapped_column(
        String(16), comment="link: our page | email: within the window after a touch | other"
    )
    won_step_id: Mapped[int | None] = mapped_column(BigId, comment="the touch credited")
    new_subscription_stripe_id: Mapped[str | None] = mapped_column(String(255))
    regained_mrr_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    regained_currency: Mapped[str | None] = mapped_column(String(3))
    offer_applied: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[created_at]

    steps: Mapped[list[WinbackStep]] = relationship(
        back_populates="campaign", order_by="WinbackStep.due_at", cascade="all, delete-orphan"
    )

    @property
    def is_open(self) -> bool:
        return self.state == ACTIVE


class WinbackStep(Base):
    """A touch (or the campaign's close) due later, swept when due (DESIGN §4)."""

    __tablename__ = "winback_step"
    __table_args__ = (
        UniqueConstraint("campaign_id", "kind", "number"),
        Index("ix_winback_step_due", "status", "test_clock", "due_at"),
        Index("ix_winback_step_lease", "status", "lease_until"),
    )

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    campaign_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("winback_campaign.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16), comment="email | close")
    number: Mapped[int] = mapped_column(comment="the touch: 1, 2, 3 (0 for the close)")
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    test_clock: Mapped[str | None] = mapped_column(String(255), comment="due in this clock's time")
    reason: Mapped[str] = mapped_column(String(500), comment="why now")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    outcome: Mapped[str | None] = mapped_column(
        String(16), comment="sent | skipped | stopped | blocked | dropped | closed | error"
    )
    outcome_detail: Mapped[str | None] = mapped_column(String(500))
    executed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), comment="clock time")
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    opened_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime(), comment="the transport reported an open"
    )
    clicked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[created_at]

    campaign: Mapped[WinbackCampaign] = relationship(back_populates="steps")


class WinbackLink(Base):
    """``/come-back/<token>``: 30 days, one customer, single use. Only the token's hash
    is stored."""

    __tablename__ = "winback_link"
    __table_args__ = (Index("ix_winback_link_ws_campaign", "workspace_id", "campaign_id"),)

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    campaign_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("winback_campaign.id", ondelete="CASCADE")
    )
    step_id: Mapped[int | None] = mapped_column(BigId, comment="the touch that carried it")
    purpose: Mapped[str] = mapped_column(String(16), default="touch", comment="touch | fresh")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    subscription_stripe_id: Mapped[str | None] = mapped_column(
        String(255), comment="the subscription this link's tap created"
    )
    outcome: Mapped[str | None] = mapped_column(
        String(16), comment="subscribed | renewed | paid | already_active"
    )
