"""The Stripe connection of a workspace, the raw events it sent us, and the local
mirror of its customers, subscriptions and invoices."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..models import Base, BigId, created_at, intpk, json_doc, workspace_fk


class StripeConnection(Base):
    __tablename__ = "stripe_connection"

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk(unique=True)
    mode: Mapped[str] = mapped_column(String(16), comment="oauth | restricted_key")
    stripe_account_id: Mapped[str] = mapped_column(String(64), index=True)
    livemode: Mapped[bool] = mapped_column(default=False)
    secret_enc: Mapped[str] = mapped_column(
        String(1024), comment="MultiFernet: OAuth access token or the restricted key"
    )
    publishable_key: Mapped[str | None] = mapped_column(
        String(255), comment="pk_ for Stripe.js on hosted pages (not a secret)"
    )
    webhook_secret_enc: Mapped[str | None] = mapped_column(
        String(1024), comment="MultiFernet: whsec_ of the per-workspace endpoint (rk mode)"
    )
    scope: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(
        String(16), default="connected", comment="connected | disconnected"
    )
    connected_at: Mapped[created_at]
    disconnected_at: Mapped[dt.datetime | None]
    disconnect_reason: Mapped[str | None] = mapped_column(String(64))
    import_status: Mapped[str] = mapped_column(
        String(16), default="pending", comment="pending | running | done | failed"
    )
    import_progress: Mapped[json_doc] = mapped_column(
        default=dict, comment="per object type: imported count, cursor, done"
    )
    import_error: Mapped[str | None] = mapped_column(String(500))

    @property
    def is_connected(self) -> bool:
        return self.status == "connected"


class StripeEvent(Base):
    """Every event Stripe sent us, stored raw under its unique id before we answer."""

    __tablename__ = "stripe_event"
    __table_args__ = (
        Index("ix_stripe_event_ws_created", "workspace_id", "stripe_created"),
        Index("ix_stripe_event_ws_received", "workspace_id", "received_at"),
        Index("ix_stripe_event_pending", "status", "id"),
    )

    id: Mapped[intpk]
    stripe_event_id: Mapped[str] = mapped_column(String(255), unique=True)
    workspace_id: Mapped[int | None] = workspace_fk(nullable=True)
    type: Mapped[str] = mapped_column(String(100), index=True)
    account: Mapped[str | None] = mapped_column(String(64))
    livemode: Mapped[bool] = mapped_column(default=False)
    stripe_created: Mapped[int] = mapped_column(BigInteger, comment="event.created (epoch)")
    payload: Mapped[dict[str, Any]]
    received_at: Mapped[created_at]
    status: Mapped[str] = mapped_column(
        String(16),
        default="received",
        comment="received | running (claimed by a worker) | processed | ignored | failed",
    )
    lease_until: Mapped[dt.datetime | None] = mapped_column(
        comment="a running claim expires then (its worker died): claimable again"
    )
    processed_at: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(1000))


class _Mirrored:
    """A Stripe object copied locally; ``source_created`` is the time of the event (or
    import) it came from, so an older event never overwrites a newer state."""

    id: Mapped[intpk]
    stripe_id: Mapped[str] = mapped_column(String(255))
    data: Mapped[dict[str, Any]]
    source_created: Mapped[int] = mapped_column(BigInteger, default=0)
    is_deleted: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[created_at]


class MirrorCustomer(_Mirrored, Base):
    __tablename__ = "mirror_customer"
    __table_args__ = (
        UniqueConstraint("workspace_id", "stripe_id"),
        Index("ix_mirror_customer_ws_created", "workspace_id", "stripe_created"),
    )

    workspace_id: Mapped[int] = workspace_fk()
    email: Mapped[str | None] = mapped_column(String(254))
    name: Mapped[str | None] = mapped_column(String(255))
    stripe_created: Mapped[int] = mapped_column(
        BigInteger, default=0, server_default="0", comment="customer.created (epoch)"
    )


class MirrorSubscription(_Mirrored, Base):
    __tablename__ = "mirror_subscription"
    __table_args__ = (UniqueConstraint("workspace_id", "stripe_id"),)

    workspace_id: Mapped[int] = workspace_fk()
    customer_stripe_id: Mapped[str] = mapped_column(String(255), index=True)
    status: Mapped[str] = mapped_column(String(32))


class MirrorInvoice(_Mirrored, Base):
    __tablename__ = "mirror_invoice"
    __table_args__ = (
        UniqueConstraint("workspace_id", "stripe_id"),
        # A subscription's invoices: the LTV of recovered customers reads them.
        Index("ix_mirror_invoice_ws_subscription", "workspace_id", "subscription_stripe_id"),
    )

    workspace_id: Mapped[int] = workspace_fk()
    customer_stripe_id: Mapped[str] = mapped_column(String(255), index=True)
    subscription_stripe_id: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(32))
    amount_due_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    stripe_created: Mapped[int] = mapped_column(BigInteger)


BigIdType = BigId  # re-exported for migrations that need the variant type


class StripeTestClock(Base):
    """A Stripe test clock of a workspace (test mode): objects on it live in its
    simulated time, so schedules tied to them follow ``frozen_time``, not ours."""

    __tablename__ = "stripe_test_clock"
    __table_args__ = (UniqueConstraint("workspace_id", "stripe_id"),)

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    stripe_id: Mapped[str] = mapped_column(String(255))
    frozen_time: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(String(16), default="ready")
    source_created: Mapped[int] = mapped_column(BigInteger, default=0)
