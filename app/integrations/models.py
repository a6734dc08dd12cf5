"""Where Backstop posts what happened: the merchant's webhook endpoints, their Slack and
Discord channels, and the deliveries to both (a schedule swept by the worker), each
attempt logged with its request and response."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..models import Base, BigId, created_at, intpk, workspace_fk

# Delivery statuses: pending (due at ``due_at``) -> queued (claimed, a task will take it)
# -> running -> delivered | failed (gave up after the window) | cancelled (the endpoint
# went away, was disabled, or the channel was revoked before it left).
PENDING, QUEUED, RUNNING = "pending", "queued", "running"
DELIVERED, FAILED, CANCELLED = "delivered", "failed", "cancelled"
OPEN_STATES = (PENDING, QUEUED, RUNNING)

SLACK, DISCORD = "slack", "discord"
CHANNEL_KINDS = {SLACK: "Slack", DISCORD: "Discord"}
# Channel states: active, or revoked (the service said the URL no longer exists).
ACTIVE, REVOKED = "active", "revoked"


class WebhookEndpoint(Base):
    """A URL of the merchant's that gets the events it asked for, signed."""

    __tablename__ = "webhook_endpoint"

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str] = mapped_column(String(200), default="")
    event_types: Mapped[list[str]] = mapped_column(
        JSON, default=list, comment="public event types it gets; ['*'] for all"
    )
    is_enabled: Mapped[bool] = mapped_column(default=True, server_default=true())
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    disabled_at: Mapped[dt.datetime | None]
    secret_enc: Mapped[str] = mapped_column(Text, comment="whsec_..., encrypted")
    previous_secret_enc: Mapped[str | None] = mapped_column(
        Text, comment="the secret before a rotation, still signing until it expires"
    )
    previous_secret_expires_at: Mapped[dt.datetime | None]
    failing_since: Mapped[dt.datetime | None] = mapped_column(
        comment="first failed attempt since the last success; None while healthy"
    )
    created_at: Mapped[created_at]


class NotificationChannel(Base):
    """A Slack or Discord incoming webhook and what to post to it."""

    __tablename__ = "notification_channel"

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    kind: Mapped[str] = mapped_column(String(16), comment="slack | discord")
    url_enc: Mapped[str] = mapped_column(Text, comment="the incoming-webhook URL, encrypted")
    url_hint: Mapped[str] = mapped_column(String(120), comment="the URL with its token elided")
    posts: Mapped[list[str]] = mapped_column(JSON, default=list, comment="what to post")
    threshold_minor: Mapped[int | None] = mapped_column(
        BigInteger, comment="high-value failures: at least this much"
    )
    threshold_currency: Mapped[str | None] = mapped_column(String(3))
    state: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    revoked_at: Mapped[dt.datetime | None]
    revoked_detail: Mapped[str | None] = mapped_column(String(500))
    failing_since: Mapped[dt.datetime | None]
    digest_sent_on: Mapped[dt.date | None] = mapped_column(
        Date, comment="the day (workspace time) whose digest went out last"
    )
    created_at: Mapped[created_at]


class Delivery(Base):
    """One event (or a test, or a digest) to post to one endpoint or channel: a row of
    the schedule, leased by the sweeper, retried with backoff until its window ends."""

    __tablename__ = "outbound_delivery"
    __table_args__ = (
        # Event first: the fan-out looks up an event's deliveries by it.
        UniqueConstraint("event_id", "endpoint_id", name="uq_outbound_delivery_event_endpoint"),
        UniqueConstraint("event_id", "channel_id", name="uq_outbound_delivery_event_channel"),
        CheckConstraint("(endpoint_id IS NULL) <> (channel_id IS NULL)", name="one_target"),
        Index("ix_outbound_delivery_due", "status", "due_at"),
        Index("ix_outbound_delivery_lease", "status", "lease_until"),
        Index("ix_outbound_delivery_endpoint_created", "endpoint_id", "created_at"),
        Index("ix_outbound_delivery_channel_created", "channel_id", "created_at"),
    )

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    endpoint_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("webhook_endpoint.id", ondelete="CASCADE")
    )
    channel_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("notification_channel.id", ondelete="CASCADE")
    )
    event_id: Mapped[int | None] = mapped_column(
        BigId,
        ForeignKey("domain_event.id", ondelete="SET NULL"),
        comment="the domain event it carries; None for tests and digests",
    )
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(
        comment="the webhook event, or the Slack/Discord message, exactly as posted"
    )
    is_test: Mapped[bool] = mapped_column(default=False, server_default=false())
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    due_at: Mapped[dt.datetime]
    lease_until: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(default=0, comment="claims (one try each)")
    first_attempt_at: Mapped[dt.datetime | None] = mapped_column(
        comment="the backoff's window runs from here"
    )
    last_status: Mapped[int | None] = mapped_column(comment="HTTP status of the last try")
    last_error: Mapped[str | None] = mapped_column(String(500))
    finished_at: Mapped[dt.datetime | None]
    created_at: Mapped[created_at]


class DeliveryAttempt(Base):
    """One try of a delivery, as sent and as answered (both truncated)."""

    __tablename__ = "outbound_attempt"

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    delivery_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("outbound_delivery.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[dt.datetime]
    url: Mapped[str] = mapped_column(String(2048), comment="secret parts elided")
    request_headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    request_body: Mapped[str] = mapped_column(Text, default="")
    response_status: Mapped[int | None]
    response_body: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(500), comment="no answer: why")
    is_success: Mapped[bool] = mapped_column(default=False, server_default=false())
