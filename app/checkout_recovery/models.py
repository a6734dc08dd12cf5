"""Checkout recovery's rows: each workspace's settings, one campaign per expired
Checkout Session whose customer agreed to hear from the merchant, and its touches (and
its close) in the database's schedule."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..models import Base, BigId, UTCDateTime, created_at, intpk, utcnow, workspace_fk

# Campaign states: waiting for its touches -> recovered (subscribed, credited to us) |
# returned (subscribed another way, not credited) | stopped (unsubscribed, bounced, the
# merchant paused, the customer is gone) | ended (every touch sent, no checkout in time).
ACTIVE, RECOVERED, RETURNED, STOPPED, ENDED = "active", "recovered", "returned", "stopped", "ended"
STATES = (ACTIVE, RECOVERED, RETURNED, STOPPED, ENDED)
# Step kinds: an email touch, and the close after the last touch's attribution window.
EMAIL, CLOSE = "email", "close"


class CheckoutRecoverySettings(Base):
    """A workspace's checkout-recovery sequence, its copy per touch, where consent comes
    from, and its pause switch."""

    __tablename__ = "checkout_recovery_settings"

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk(unique=True)
    is_enabled: Mapped[bool] = mapped_column(
        default=True, comment="expired checkouts start campaigns"
    )
    is_paused: Mapped[bool] = mapped_column(default=False, comment="every campaign stopped")
    delays_hours: Mapped[list[int]] = mapped_column(
        JSON, default=list, comment="hours after the expiry: one per touch"
    )
    consent_source: Mapped[str] = mapped_column(
        String(16),
        default="stripe",
        comment="stripe: Checkout's promotions box | metadata: the merchant's own, per session",
    )
    copy: Mapped[dict[str, Any]] = mapped_column(
        JSON, default=dict, comment="per touch (1, 2, 3): subject and message"
    )
    attribution_days: Mapped[int] = mapped_column(default=7)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class CheckoutRecoveryCampaign(Base):
    """Bringing one abandoned subscription checkout to its end."""

    __tablename__ = "checkout_recovery_campaign"
    __table_args__ = (
        UniqueConstraint("workspace_id", "session_stripe_id"),
        Index("ix_checkout_recovery_campaign_ws_state", "workspace_id", "state", "expired_at"),
        Index("ix_checkout_recovery_campaign_ws_email", "workspace_id", "email"),
    )

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    session_stripe_id: Mapped[str] = mapped_column(String(255), comment="the expired session")
    customer_stripe_id: Mapped[str | None] = mapped_column(
        String(255), comment="null: the session had an email only"
    )
    email: Mapped[str] = mapped_column(String(254))
    customer_name: Mapped[str | None] = mapped_column(String(255))
    consent: Mapped[str] = mapped_column(
        String(16), comment="stripe: opted in on Checkout | metadata: the merchant's record"
    )
    price_ids: Mapped[list[str]] = mapped_column(JSON, default=list, comment="sorted, distinct")
    plan_name: Mapped[str | None] = mapped_column(String(255), comment="the products, in words")
    amount_minor: Mapped[int] = mapped_column(BigInteger, default=0, comment="per period")
    currency: Mapped[str] = mapped_column(String(3), default="usd")
    interval: Mapped[str] = mapped_column(String(8), default="month")
    interval_count: Mapped[int] = mapped_column(default=1)
    recovery_url: Mapped[str] = mapped_column(String(2000))
    recovery_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    locale: Mapped[str | None] = mapped_column(String(16), comment="the session's locale")
    test_clock: Mapped[str | None] = mapped_column(String(255))
    expired_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), comment="its clock's time")
    state: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    close_reason: Mapped[str | None] = mapped_column(String(255))
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    touches_sent: Mapped[int] = mapped_column(default=0)
    last_touch_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    won_via: Mapped[str | None] = mapped_column(
        String(16), comment="link: the recovery link | email: within the window | other"
    )
    won_step_id: Mapped[int | None] = mapped_column(BigId, comment="the touch credited")
    completed_session_stripe_id: Mapped[str | None] = mapped_column(String(255))
    subscription_stripe_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[created_at]

    steps: Mapped[list[CheckoutRecoveryStep]] = relationship(
        back_populates="campaign",
        order_by="CheckoutRecoveryStep.due_at",
        cascade="all, delete-orphan",
    )

    @property
    def is_open(self) -> bool:
        return self.state == ACTIVE


class CheckoutRecoveryStep(Base):
    """A touch (or the campaign's close) due later, swept when due (DESIGN §4)."""

    __tablename__ = "checkout_recovery_step"
    __table_args__ = (
        UniqueConstraint("campaign_id", "kind", "number"),
        Index("ix_checkout_recovery_step_due", "status", "test_clock", "due_at"),
        Index("ix_checkout_recovery_step_lease", "status", "lease_until"),
    )

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    campaign_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("checkout_recovery_campaign.id", ondelete="CASCADE"), index=True
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
    opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[created_at]

    campaign: Mapped[CheckoutRecoveryCampaign] = relationship(back_populates="steps")
