"""Every email Backstop sends, stored with its rendered body, headers and fate (the
outbox); who may no longer be written to (suppressions); and a workspace's own send
domain (SES EasyDKIM)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..models import Base, BigId, created_at, intpk, utcnow, workspace_fk

# Message statuses: queued (stored, a task will deliver it) -> sent | failed | dropped
# (its reason went before it left: the invoice was paid); blocked (never handed to a
# transport: suppressed address, unverified send domain).
QUEUED, SENT, FAILED, BLOCKED, DROPPED = "queued", "sent", "failed", "blocked", "dropped"


class OutboxMessage(Base):
    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_message_ws_created", "workspace_id", "created_at"),
        Index("ix_outbox_message_provider", "transport", "provider_id"),
    )

    id: Mapped[intpk]
    workspace_id: Mapped[int | None] = mapped_column(
        BigId,
        ForeignKey("workspace.id", ondelete="CASCADE"),
        index=True,
        comment="null for Backstop's own account emails",
    )
    template: Mapped[str] = mapped_column(String(64))
    to_email: Mapped[str] = mapped_column(String(254), index=True)
    from_email: Mapped[str] = mapped_column(String(254))
    reply_to: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    transport: Mapped[str] = mapped_column(String(16), default="outbox")
    status: Mapped[str] = mapped_column(
        String(16), default=QUEUED, comment="queued | sent | failed | blocked | dropped"
    )
    provider_id: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(String(1000))
    attempts: Mapped[int] = mapped_column(default=0, comment="deliveries tried")
    customer_stripe_id: Mapped[str | None] = mapped_column(
        String(255), comment="the merchant's customer it was written to (dispute evidence)"
    )
    campaign_id: Mapped[int | None] = mapped_column(BigId, comment="recovery campaign, if any")
    step_id: Mapped[int | None] = mapped_column(
        BigId, comment="the schedule step that wrote it (its re-check runs as it leaves)"
    )
    resent_from_id: Mapped[int | None] = mapped_column(BigId, comment="staff resent that one")
    created_at: Mapped[created_at]
    sent_at: Mapped[dt.datetime | None]
    opened_at: Mapped[dt.datetime | None] = mapped_column(
        comment="first open, where the transport reports opens (SES, Resend)"
    )


class Suppression(Base):
    """An address a workspace must not write to again: unsubscribed, hard-bounced or
    complained. Checked before every send."""

    __tablename__ = "email_suppression"
    __table_args__ = (UniqueConstraint("workspace_id", "email"),)

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    email: Mapped[str] = mapped_column(String(254), comment="lower-cased")
    reason: Mapped[str] = mapped_column(String(16), comment="unsubscribed | bounced | complained")
    source: Mapped[str | None] = mapped_column(
        String(64), comment="one-click, link, ses, resend, staff"
    )
    detail: Mapped[str | None] = mapped_column(String(500))
    message_id: Mapped[int | None] = mapped_column(BigId, comment="the message that caused it")
    created_at: Mapped[created_at]


class SendDomain(Base):
    """The workspace's own sending subdomain. Added but unverified blocks every send:
    no silent fall back to the shared sender (DESIGN §7)."""

    __tablename__ = "send_domain"

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk(unique=True)
    domain: Mapped[str] = mapped_column(String(253), comment="e.g. mail.example.com")
    from_local: Mapped[str] = mapped_column(String(64), default="billing")
    status: Mapped[str] = mapped_column(
        String(16), default="pending", comment="pending | verified | failed"
    )
    dkim_status: Mapped[str | None] = mapped_column(String(32), comment="as SES reports it")
    records: Mapped[list[dict[str, str]]] = mapped_column(
        JSON, default=list, comment="the DKIM CNAME records the merchant adds to DNS"
    )
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[created_at]
    checked_at: Mapped[dt.datetime | None]
    verified_at: Mapped[dt.datetime | None]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def is_verified(self) -> bool:
        return self.status == "verified"

    @property
    def from_address(self) -> str:
        return f"{self.from_local}@{self.domain}"
