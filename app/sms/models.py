"""Text messages (SMS dunning): a workspace's SMS settings, every text sent or received
(stored whatever its fate: it is dispute evidence later), and the numbers that replied
STOP."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from ..models import Base, BigId, created_at, intpk, utcnow, workspace_fk

OUTBOUND, INBOUND = "outbound", "inbound"
# Outbound statuses: queued (stored, a task will hand it over) -> sending (handed to the
# transport, its answer not recorded yet) -> sent (the provider took it) -> delivered |
# undelivered | failed (the provider's status callback); blocked (never handed over: no
# sender set up); dropped (its reason went before it left: the invoice was paid).
# Inbound: received.
QUEUED, SENDING, SENT, DELIVERED = "queued", "sending", "sent", "delivered"
UNDELIVERED, FAILED, BLOCKED, DROPPED = "undelivered", "failed", "blocked", "dropped"
RECEIVED = "received"
#: Statuses that count toward the monthly cap: the text left, or is about to.
COUNTED = (QUEUED, SENDING, SENT, DELIVERED, UNDELIVERED)


class SmsSettings(Base):
    """Whether a workspace texts its customers, through which Twilio account, when not
    (quiet hours), how many a month, and on which days of a campaign."""

    __tablename__ = "sms_settings"

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk(unique=True)
    is_enabled: Mapped[bool] = mapped_column(default=False, server_default=false())
    account_sid: Mapped[str | None] = mapped_column(String(64), comment="Twilio AC...")
    auth_token_encrypted: Mapped[str | None] = mapped_column(
        Text, comment="Twilio auth token, MultiFernet-encrypted; never shown back"
    )
    from_number: Mapped[str | None] = mapped_column(String(20), comment="E.164 sender")
    messaging_service_sid: Mapped[str | None] = mapped_column(
        String(64), comment="Twilio MG...; used instead of from_number when set"
    )
    monthly_cap: Mapped[int] = mapped_column(default=500, server_default="500")
    quiet_start_minute: Mapped[int | None] = mapped_column(
        comment="quiet hours start, minutes after local midnight (null: no quiet hours)"
    )
    quiet_end_minute: Mapped[int | None] = mapped_column(comment="quiet hours end, minutes")
    touch_days: Mapped[list[int]] = mapped_column(
        JSON, default=list, comment="days after the failure a text goes (e.g. [1, 5])"
    )
    support_contact: Mapped[str | None] = mapped_column(
        String(120), comment="what a HELP reply points to (an email, a phone, a URL)"
    )
    webhook_token: Mapped[str] = mapped_column(
        String(64), unique=True, comment="names the workspace in /webhooks/twilio/<token>"
    )
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SmsMessage(Base):
    """A text sent to a customer (or received from one), with what became of it."""

    __tablename__ = "sms_message"
    __table_args__ = (
        Index("ix_sms_message_ws_month", "workspace_id", "month", "direction"),
        Index("ix_sms_message_ws_customer", "workspace_id", "customer_stripe_id"),
        Index("ix_sms_message_provider", "workspace_id", "provider_id"),
        Index("ix_sms_message_status", "status", "created_at"),  # stuck texts, nightly
    )

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    direction: Mapped[str] = mapped_column(String(8), default=OUTBOUND)
    purpose: Mapped[str] = mapped_column(
        String(16), comment="dunning | test | help (a HELP reply) | inbound"
    )
    to_number: Mapped[str] = mapped_column(String(20))
    from_number: Mapped[str | None] = mapped_column(String(64), comment="or the service SID")
    body: Mapped[str] = mapped_column(Text)
    segments: Mapped[int] = mapped_column(default=1, comment="SMS parts the body takes")
    encoding: Mapped[str] = mapped_column(String(8), default="gsm7", comment="gsm7 | ucs2")
    locale: Mapped[str | None] = mapped_column(String(8))
    transport: Mapped[str] = mapped_column(String(16), default="outbox")
    status: Mapped[str] = mapped_column(
        String(16),
        default=QUEUED,
        comment="queued | sending | sent | delivered | undelivered | failed | blocked | "
        "dropped | received",
    )
    provider_id: Mapped[str | None] = mapped_column(String(64), comment="Twilio SM...")
    error: Mapped[str | None] = mapped_column(String(1000))
    attempts: Mapped[int] = mapped_column(default=0, comment="hand-overs tried")
    month: Mapped[str] = mapped_column(
        String(7), comment="YYYY-MM in the workspace's timezone: the monthly cap counts it"
    )
    customer_stripe_id: Mapped[str | None] = mapped_column(String(255))
    campaign_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("recovery_campaign.id", ondelete="SET NULL"), index=True
    )
    step_id: Mapped[int | None] = mapped_column(
        BigId, unique=True, comment="the touch that wrote it: one text per step"
    )
    created_at: Mapped[created_at]
    sent_at: Mapped[dt.datetime | None]
    status_at: Mapped[dt.datetime | None] = mapped_column(
        comment="when the provider last reported a status"
    )
    sending_since: Mapped[dt.datetime | None] = mapped_column(
        comment="when a worker began handing it over (status sending)"
    )


class SmsOptOut(Base):
    """A number that replied STOP (or that Twilio says is unsubscribed): never texted
    again by this workspace until it replies START."""

    __tablename__ = "sms_opt_out"
    __table_args__ = (UniqueConstraint("workspace_id", "phone"),)

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    phone: Mapped[str] = mapped_column(String(20), comment="E.164")
    keyword: Mapped[str | None] = mapped_column(String(32), comment="what they replied")
    source: Mapped[str] = mapped_column(String(16), comment="reply | twilio | staff")
    message_id: Mapped[int | None] = mapped_column(BigId, comment="the inbound text")
    created_at: Mapped[created_at]
