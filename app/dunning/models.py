"""A workspace's dunning settings, the card-update links we hand out, and the card-expiry
notices in the database's schedule."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..models import Base, BigId, created_at, intpk, utcnow, workspace_fk

SEQUENCE_NAMES = ("standard", "short", "extended")


class DunningSettings(Base):
    """Which sequence a workspace runs, who the emails come from, and its own copy."""

    __tablename__ = "dunning_settings"

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk(unique=True)
    sequence: Mapped[str] = mapped_column(String(16), default="standard")
    from_name: Mapped[str | None] = mapped_column(String(120), comment="else the workspace name")
    reply_to: Mapped[str | None] = mapped_column(String(254))
    copy: Mapped[dict[str, Any]] = mapped_column(
        default=dict, comment="per touch (d0, d3, ...): the merchant's subject and message"
    )
    pause_days: Mapped[int | None] = mapped_column(
        comment="extended sequence: pause instead of cancel for 14, 30 or 60 days; null = off"
    )
    gap_hours: Mapped[int] = mapped_column(
        default=24,
        server_default="24",
        comment="no two emails of one campaign closer together than this many hours",
    )
    pause_offer_days: Mapped[int | None] = mapped_column(
        comment="after the last touch, email an offer to pause for 14, 30 or 60 days; null = off"
    )
    discount_percent: Mapped[int | None] = mapped_column(
        comment="last-chance discount in the final touch: percent off (5-90); null = off"
    )
    discount_months: Mapped[int | None] = mapped_column(
        comment="last-chance discount: for this many months (1-12)"
    )
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    subject_test_salt: Mapped[str | None] = mapped_column(
        String(64),
        comment="hex; made with the first subject test, never changed: stable arms",
    )


class SubjectTest(Base):
    """An A/B test of one touch's subject line: running while ``ended_at`` is null; when
    it ends (a subject promoted, or the subjects edited) its counts and verdict are
    frozen on the row, so past results stay readable."""

    __tablename__ = "dunning_subject_test"
    __table_args__ = (Index("ix_dunning_subject_test_ws_touch", "workspace_id", "touch"),)

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    touch: Mapped[str] = mapped_column(String(8), comment="d0, d3, ...")
    subject_a: Mapped[str] = mapped_column(
        String(150), comment="the merchant's subject A; empty: Backstop's default"
    )
    subject_b: Mapped[str] = mapped_column(String(150))
    started_at: Mapped[created_at]
    ended_at: Mapped[dt.datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(16), comment="promoted | edited")
    promoted_arm: Mapped[str | None] = mapped_column(String(1), comment="a | b")
    ended_by: Mapped[str | None] = mapped_column(String(254))
    a_ended: Mapped[int | None] = mapped_column(comment="frozen at the end: ended campaigns")
    a_recovered: Mapped[int | None]
    b_ended: Mapped[int | None]
    b_recovered: Mapped[int | None]
    verdict: Mapped[str | None] = mapped_column(String(255), comment="frozen at the end")

    @property
    def is_running(self) -> bool:
        return self.ended_at is None


class CardUpdateLink(Base):
    """``/update-card/<token>``: 21 days, single use, one per email touch (and one per
    payment-wall visit). Only the token's hash is stored."""

    __tablename__ = "card_update_link"
    __table_args__ = (
        Index("ix_card_update_link_ws_customer", "workspace_id", "customer_stripe_id"),
    )

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(
        String(16),
        comment="dunning | expiry | wall | fresh (asked for on an expired page) | pause_offer",
    )
    customer_stripe_id: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(254))
    campaign_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("recovery_campaign.id", ondelete="CASCADE"), index=True
    )
    invoice_stripe_id: Mapped[str | None] = mapped_column(String(255))
    subscription_stripe_id: Mapped[str | None] = mapped_column(String(255))
    step_id: Mapped[int | None] = mapped_column(BigId, comment="the touch that carried it")
    is_dismissible: Mapped[bool] = mapped_column(default=False, comment="payment wall option")
    created_at: Mapped[created_at]
    expires_at: Mapped[dt.datetime]
    opened_at: Mapped[dt.datetime | None]
    used_at: Mapped[dt.datetime | None]
    outcome: Mapped[str | None] = mapped_column(
        String(32), comment="updated | paid | declined | already_paid | paused"
    )
    pause_days: Mapped[int | None] = mapped_column(
        comment="pause_offer links: the pause the email offered, in days"
    )
    discount_percent: Mapped[int | None] = mapped_column(
        comment="the final touch's last-chance offer this link carries: percent off"
    )
    discount_months: Mapped[int | None] = mapped_column(comment="... for this many months")
    discount_applied_at: Mapped[dt.datetime | None] = mapped_column(
        comment="the customer paid through this link and the discount was set on Stripe"
    )


class ExpiryNotice(Base):
    """A warning that a subscription's default card expires soon (30, 15 or 7 days
    before the end of its expiry month), swept when due."""

    __tablename__ = "dunning_expiry_notice"
    __table_args__ = (
        UniqueConstraint(
            "workspace_id", "payment_method_id", "exp_year", "exp_month", "days_before"
        ),
        Index("ix_dunning_expiry_notice_due", "status", "test_clock", "due_at"),
        Index("ix_dunning_expiry_notice_lease", "status", "lease_until"),
    )

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    customer_stripe_id: Mapped[str] = mapped_column(String(255))
    subscription_stripe_id: Mapped[str] = mapped_column(String(255))
    payment_method_id: Mapped[str] = mapped_column(String(255))
    card_brand: Mapped[str | None] = mapped_column(String(32))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    exp_month: Mapped[int]
    exp_year: Mapped[int]
    days_before: Mapped[int] = mapped_column(comment="30 | 15 | 7")
    customer_tz: Mapped[str] = mapped_column(String(64), default="UTC")
    test_clock: Mapped[str | None] = mapped_column(String(255), comment="due in this clock's time")
    due_at: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    lease_until: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    outcome: Mapped[str | None] = mapped_column(String(16), comment="sent | skipped | error")
    outcome_detail: Mapped[str | None] = mapped_column(String(500))
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    executed_at: Mapped[dt.datetime | None]
    created_at: Mapped[created_at]
