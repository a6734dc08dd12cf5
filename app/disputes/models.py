"""The disputes' rows: a mirror of each Stripe dispute with our classification and the
evidence draft, the automatic submission in the database's schedule, each workspace's
settings, and what the dispute-rate monitor counts (settled charges, alerts sent)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..models import Base, BigId, UTCDateTime, created_at, intpk, utcnow, workspace_fk

#: Stripe's dispute statuses that still take a response, and those that are final.
OPEN_STATUSES = ("needs_response", "warning_needs_response")
CLOSED_STATUSES = ("won", "lost", "warning_closed", "prevented")
#: Submission schedule statuses (a sweepable row, see ``app.schedule.claims``).
PENDING, QUEUED, RUNNING, DONE = "pending", "queued", "running", "done"


class Dispute(Base):
    """One Stripe dispute, as of its latest event, with what Backstop made of it."""

    __tablename__ = "dispute"
    __table_args__ = (
        UniqueConstraint("workspace_id", "stripe_id"),
        Index("ix_dispute_ws_opened", "workspace_id", "opened_at"),
    )

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    stripe_id: Mapped[str] = mapped_column(String(255))
    charge_stripe_id: Mapped[str] = mapped_column(String(255))
    payment_intent_stripe_id: Mapped[str | None] = mapped_column(String(255))
    customer_stripe_id: Mapped[str | None] = mapped_column(String(255))
    invoice_stripe_id: Mapped[str | None] = mapped_column(String(255))
    test_clock: Mapped[str | None] = mapped_column(String(255), comment="the customer's clock")
    status: Mapped[str] = mapped_column(String(32), comment="Stripe's dispute status")
    reason: Mapped[str] = mapped_column(String(64))
    network: Mapped[str | None] = mapped_column(String(32), comment="card brand: visa, ...")
    network_reason_code: Mapped[str | None] = mapped_column(String(16))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    charged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), comment="Stripe's created")
    due_by: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    is_past_due: Mapped[bool] = mapped_column(default=False)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    likely_cause: Mapped[str | None] = mapped_column(String(32))
    recommended_action: Mapped[str | None] = mapped_column(String(16), comment="fight | accept")
    signals: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    evidence: Mapped[dict[str, Any]] = mapped_column(
        JSON, default=dict, comment="draft of Stripe's evidence text fields"
    )
    edited_fields: Mapped[list[str]] = mapped_column(
        JSON, default=list, comment="fields a member changed (kept on re-assembly)"
    )
    support_contact: Mapped[str | None] = mapped_column(
        String(8), comment="yes | no, as the merchant says; null: not said"
    )
    support_note: Mapped[str | None] = mapped_column(String(2000))
    evidence_file_stripe_id: Mapped[str | None] = mapped_column(String(255))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    submitted_by: Mapped[str | None] = mapped_column(String(254), comment="a member, or auto")
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    source_created: Mapped[int] = mapped_column(
        BigInteger, default=0, comment="the latest applied event's created"
    )
    created_at: Mapped[created_at]
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES and self.submitted_at is None

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES


class DisputeSubmission(Base):
    """The automatic submission of one dispute's evidence, due some hours before
    ``due_by`` (swept like every schedule row; on the customer's test clock if any)."""

    __tablename__ = "dispute_submission"
    __table_args__ = (
        Index("ix_dispute_submission_due", "status", "test_clock", "due_at"),
        Index("ix_dispute_submission_lease", "status", "lease_until"),
    )

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    dispute_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("dispute.id", ondelete="CASCADE"), unique=True
    )
    test_clock: Mapped[str | None] = mapped_column(String(255), comment="due in this clock's time")
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    outcome: Mapped[str | None] = mapped_column(String(16), comment="submitted | skipped | error")
    outcome_detail: Mapped[str | None] = mapped_column(String(500))
    executed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[created_at]


class DisputeSettings(Base):
    """A workspace's dispute settings: automatic submission and its policy links."""

    __tablename__ = "dispute_settings"

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk(unique=True)
    is_auto_submit: Mapped[bool] = mapped_column(default=False)
    auto_submit_hours: Mapped[int] = mapped_column(
        default=24, comment="submit this many hours before due_by"
    )
    terms_url: Mapped[str | None] = mapped_column(String(500))
    cancellation_policy_url: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class SettledCharge(Base):
    """A succeeded charge (from ``charge.succeeded``): what the rate's denominator counts."""

    __tablename__ = "dispute_settled_charge"
    __table_args__ = (
        UniqueConstraint("workspace_id", "charge_stripe_id"),
        Index("ix_dispute_settled_ws_month", "workspace_id", "month", "network"),
    )

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    charge_stripe_id: Mapped[str] = mapped_column(String(255))
    network: Mapped[str] = mapped_column(String(32), comment="card brand; 'other' if none")
    month: Mapped[str] = mapped_column(String(7), comment="YYYY-MM of the charge (UTC)")
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    settled_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class DisputeRateAlert(Base):
    """A threshold a network's monthly rate crossed; one per month, network and level."""

    __tablename__ = "dispute_rate_alert"
    __table_args__ = (UniqueConstraint("workspace_id", "month", "network", "level"),)

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    month: Mapped[str] = mapped_column(String(7))
    network: Mapped[str] = mapped_column(String(32))
    level: Mapped[str] = mapped_column(String(32), comment="warn | visa_vdmp | mastercard_ecp")
    disputes: Mapped[int]
    settled: Mapped[int]
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[created_at]
