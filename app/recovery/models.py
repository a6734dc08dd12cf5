"""Recovery campaigns (one per failed invoice), their steps in the database's schedule,
every charge attempt we saw (the caps count them), and each workspace's retry policy."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..models import Base, BigId, created_at, intpk, utcnow, workspace_fk

IN_FLIGHT, RECOVERED, LOST, ABANDONED = "in_flight", "recovered", "lost", "abandoned"
CAMPAIGN_STATES = (IN_FLIGHT, RECOVERED, LOST, ABANDONED)
ATTRIBUTIONS = ("retry", "card_update", "customer_paid", "stripe_retry")

# Step kinds: a charge attempt, a dunning email, and the end of the 30-day window (features
# above register more, such as dunning's pause offer).
RETRY, EMAIL, WINDOW_END = "retry", "email", "window_end"
# Step statuses: pending -> running (claimed under a lease) -> done | cancelled.
PENDING, RUNNING, DONE, CANCELLED = "pending", "running", "done", "cancelled"


class RecoverySettings(Base):
    """A workspace's retry policy (a JSON document, see ``policy.policy_from_doc``)
    and its pause switch."""

    __tablename__ = "recovery_settings"

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk(unique=True)
    policy: Mapped[dict[str, Any]] = mapped_column(
        default=dict, comment="cadences, immediate offsets, class overrides, lowered caps"
    )
    is_paused: Mapped[bool] = mapped_column(default=False)
    paused_at: Mapped[dt.datetime | None]
    paused_by: Mapped[str | None] = mapped_column(String(254))
    holdout_percent: Mapped[int] = mapped_column(
        default=0, server_default="0", comment="failed invoices held out (no action), 0: off"
    )
    holdout_salt: Mapped[str | None] = mapped_column(
        String(64), comment="hex; made once, never changed: the holdout draws are reproducible"
    )
    high_value_minor: Mapped[int | None] = mapped_column(
        BigInteger, comment="invoices of at least this much are high-value; null: off"
    )
    high_value_currency: Mapped[str | None] = mapped_column(
        String(3), comment="only invoices in this currency compare"
    )
    updated_at: Mapped[created_at]


class RecoverySwitch(Base):
    """The service-wide pause (one row): on-call stops every workspace's recovery."""

    __tablename__ = "recovery_switch"

    id: Mapped[intpk]
    is_paused: Mapped[bool] = mapped_column(default=False)
    paused_at: Mapped[dt.datetime | None]
    paused_by: Mapped[str | None] = mapped_column(String(254))


class Campaign(Base):
    __tablename__ = "recovery_campaign"
    __table_args__ = (
        UniqueConstraint("workspace_id", "invoice_stripe_id"),
        Index("ix_recovery_campaign_ws_state", "workspace_id", "state", "opened_at"),
        Index("ix_recovery_campaign_ws_customer", "workspace_id", "customer_stripe_id"),
        # The REST API's lists: newest first, a page after a cursor.
        Index("ix_recovery_campaign_ws_opened", "workspace_id", "opened_at", "id"),
    )

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    invoice_stripe_id: Mapped[str] = mapped_column(String(255))
    customer_stripe_id: Mapped[str] = mapped_column(String(255))
    subscription_stripe_id: Mapped[str | None] = mapped_column(String(255))
    test_clock: Mapped[str | None] = mapped_column(
        String(255), comment="the invoice's Stripe test clock: the campaign lives in its time"
    )
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    decline_code: Mapped[str | None] = mapped_column(String(64), comment="of the latest decline")
    failure_code: Mapped[str | None] = mapped_column(String(64))
    advice_code: Mapped[str | None] = mapped_column(String(64))
    network_advice_code: Mapped[str | None] = mapped_column(String(8))
    decline_class: Mapped[str] = mapped_column(
        String(16), comment="immediate | scheduled | customer_action | no_recovery"
    )
    class_reason: Mapped[str | None] = mapped_column(String(255))
    card_brand: Mapped[str | None] = mapped_column(String(32))
    card_fingerprint: Mapped[str | None] = mapped_column(String(64))
    payment_method_id: Mapped[str | None] = mapped_column(String(255))
    customer_tz: Mapped[str] = mapped_column(String(64), default="UTC")
    is_stripe_managed: Mapped[bool] = mapped_column(
        default=False, comment="Stripe's own retries are on: we plan none and count theirs"
    )
    is_holdout: Mapped[bool] = mapped_column(
        default=False,
        server_default=false(),
        comment="in the control group: Stripe's retries only, no step of ours",
    )
    holdout_percent: Mapped[int | None] = mapped_column(
        comment="the workspace's holdout share when the campaign opened (null: off)"
    )
    state: Mapped[str] = mapped_column(String(16), default=IN_FLIGHT)
    attribution: Mapped[str | None] = mapped_column(
        String(16), comment="retry | card_update | customer_paid | stripe_retry"
    )
    close_reason: Mapped[str | None] = mapped_column(String(255))
    auto_retries: Mapped[int] = mapped_column(default=0, comment="our automatic retries made")
    opened_at: Mapped[dt.datetime] = mapped_column(comment="the first failure (its clock's time)")
    last_failure_at: Mapped[dt.datetime]
    window_ends_at: Mapped[dt.datetime]
    closed_at: Mapped[dt.datetime | None]
    recovered_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_minor: Mapped[int] = mapped_column(
        BigInteger, default=0, server_default="0", comment="refunded since, of recovered_minor"
    )
    offer_taken: Mapped[str | None] = mapped_column(
        String(120), comment="an offer the customer took, in words (a last-chance discount)"
    )
    offer_taken_at: Mapped[dt.datetime | None]
    is_paused: Mapped[bool] = mapped_column(
        default=False,
        server_default=false(),
        comment="the merchant paused this campaign alone: no retry, no email until resumed",
    )
    paused_at: Mapped[dt.datetime | None]
    paused_by: Mapped[str | None] = mapped_column(String(254), comment="who paused it, in words")
    is_high_value: Mapped[bool] = mapped_column(
        default=False, server_default=false(), comment="at or above the workspace's threshold"
    )
    called_at: Mapped[dt.datetime | None] = mapped_column(comment="high-value: the merchant called")
    called_by: Mapped[str | None] = mapped_column(String(254))
    call_note: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    steps: Mapped[list[Step]] = relationship(
        back_populates="campaign", order_by="Step.due_at", cascade="all, delete-orphan"
    )

    @property
    def is_open(self) -> bool:
        return self.state == IN_FLIGHT


class Step(Base):
    """One scheduled thing a campaign will do, swept when due (DESIGN §4)."""

    __tablename__ = "recovery_step"
    __table_args__ = (
        # The sweeper's two claims: (pending, no clock, due) and (pending, on a clock).
        Index("ix_recovery_step_due", "status", "test_clock", "due_at"),
        Index("ix_recovery_step_lease", "status", "lease_until"),
    )

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    campaign_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("recovery_campaign.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(
        String(16), comment="retry | email | window_end | pause_offer"
    )
    touch: Mapped[str | None] = mapped_column(
        String(8), comment="email steps: the touch of the sequence (d0, d3, ...)"
    )
    due_at: Mapped[dt.datetime]
    test_clock: Mapped[str | None] = mapped_column(String(255), comment="due in this clock's time")
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    is_automatic: Mapped[bool] = mapped_column(
        default=True, comment="false for the retry a card change triggers"
    )
    reason: Mapped[str] = mapped_column(String(500), comment="why now, why not earlier")
    lease_until: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(default=0, comment="claims so far")
    attempt_number: Mapped[int | None] = mapped_column(
        comment="the invoice's attempt_count our charge became (set before charging)"
    )
    outcome: Mapped[str | None] = mapped_column(
        String(16), comment="paid | declined | refused | closed | error"
    )
    outcome_detail: Mapped[str | None] = mapped_column(String(500))
    executed_at: Mapped[dt.datetime | None]
    created_at: Mapped[created_at]
    subject_test_id: Mapped[int | None] = mapped_column(
        BigId, comment="email steps: the subject test the touch was part of when sent"
    )
    subject_arm: Mapped[str | None] = mapped_column(String(1), comment="a | b: which subject went")

    campaign: Mapped[Campaign] = relationship(back_populates="steps")

    def finish(self, outcome: str, detail: str, *, at: dt.datetime, status: str = DONE) -> None:
        """End the step with its outcome in words (the timeline shows both)."""
        self.status = status
        self.outcome = outcome
        self.outcome_detail = detail[:500]
        self.executed_at = at
        self.lease_until = None


class ChargeAttempt(Base):
    """A payment attempt on a campaign's invoice, ours or anyone's: the caps count these
    (per invoice in 30 days, per card fingerprint in the workspace)."""

    __tablename__ = "recovery_attempt"
    __table_args__ = (
        UniqueConstraint("workspace_id", "charge_stripe_id"),
        Index("ix_recovery_attempt_invoice", "workspace_id", "invoice_stripe_id"),
        Index("ix_recovery_attempt_card", "workspace_id", "card_fingerprint", "at"),
    )

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    campaign_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("recovery_campaign.id", ondelete="CASCADE"), index=True
    )
    invoice_stripe_id: Mapped[str] = mapped_column(String(255))
    charge_stripe_id: Mapped[str] = mapped_column(String(255), comment="one row per charge")
    at: Mapped[dt.datetime] = mapped_column(comment="the charge's time (its clock's)")
    source: Mapped[str] = mapped_column(String(16), comment="backstop | stripe")
    step_id: Mapped[int | None] = mapped_column(BigId)
    succeeded: Mapped[bool] = mapped_column(default=False)
    refunded_minor: Mapped[int] = mapped_column(
        BigInteger, default=0, server_default="0", comment="the charge's amount_refunded"
    )
    card_brand: Mapped[str | None] = mapped_column(String(32))
    card_fingerprint: Mapped[str | None] = mapped_column(String(64))
    decline_code: Mapped[str | None] = mapped_column(String(64))
    failure_code: Mapped[str | None] = mapped_column(String(64))
    advice_code: Mapped[str | None] = mapped_column(String(64))
    network_advice_code: Mapped[str | None] = mapped_column(String(8))
