"""The hosted customer portal's rows: what the merchant allows, the customers' links,
downgrades waiting for the period's end, Stripe answers kept for the page, and the
merchant's own domain for hosted pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..models import Base, UTCDateTime, created_at, intpk, utcnow, workspace_fk

#: The billing details a merchant may let customers change.
DETAIL_FIELDS = ("email", "name", "address", "phone", "tax_id")
BUTTON_STYLES = ("rounded", "square", "pill")


class PortalSettings(Base):
    """What a workspace's customers may do in the portal, and how it looks."""

    __tablename__ = "portal_settings"

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk(unique=True)
    switch_price_ids: Mapped[list[str]] = mapped_column(
        JSON, default=list, comment="prices a customer may switch to (none: no switching)"
    )
    downgrade_timing: Mapped[str] = mapped_column(
        String(16), default="period_end", comment="period_end | now (upgrades are always now)"
    )
    pause_months: Mapped[list[int]] = mapped_column(
        JSON, default=lambda: [1, 2, 3], comment="pause lengths offered (none: no pausing)"
    )
    max_quantity: Mapped[int] = mapped_column(
        default=0, server_default="0", comment="seats a customer may set (0: no quantity changes)"
    )
    can_cancel: Mapped[bool] = mapped_column(default=True)
    shows_invoices: Mapped[bool] = mapped_column(default=True)
    has_login_page: Mapped[bool] = mapped_column(
        default=False,
        server_default="0",
        comment="customers may ask for their link by email at /portal/login/<workspace>",
    )
    detail_fields: Mapped[list[str]] = mapped_column(
        JSON, default=lambda: ["email", "name", "address"], comment="editable billing details"
    )
    button_style: Mapped[str] = mapped_column(String(16), default="rounded")
    custom_css: Mapped[str] = mapped_column(Text, default="", comment="stored sanitised")
    shows_powered_by: Mapped[bool] = mapped_column(default=True)
    support_email: Mapped[str | None] = mapped_column(String(254))
    support_url: Mapped[str | None] = mapped_column(String(500))
    terms_url: Mapped[str | None] = mapped_column(String(500))
    privacy_url: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class PortalLink(Base):
    """A customer's 90-day link to ``/portal/<token>``. The token is stored hashed (to
    find the link) and encrypted (to hand the same link out again while it is valid)."""

    __tablename__ = "portal_link"
    __table_args__ = (Index("ix_portal_link_customer", "workspace_id", "customer_stripe_id"),)

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    customer_stripe_id: Mapped[str] = mapped_column(String(255))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_enc: Mapped[str] = mapped_column(String(512), comment="MultiFernet")
    created_at: Mapped[created_at]
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class PortalChange(Base):
    """A plan change the customer chose that takes effect at the period's end (a
    downgrade): in the database's schedule, run by the sweeper when it is due."""

    __tablename__ = "portal_change"
    __table_args__ = (
        Index("ix_portal_change_due", "status", "test_clock", "due_at"),
        Index("ix_portal_change_lease", "status", "lease_until"),
        Index("ix_portal_change_subscription", "workspace_id", "subscription_stripe_id"),
    )

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    customer_stripe_id: Mapped[str] = mapped_column(String(255))
    subscription_stripe_id: Mapped[str] = mapped_column(String(255))
    from_price_id: Mapped[str] = mapped_column(String(255))
    to_price_id: Mapped[str] = mapped_column(String(255))
    to_plan_name: Mapped[str | None] = mapped_column(String(255))
    test_clock: Mapped[str | None] = mapped_column(String(255), comment="due in this clock's time")
    due_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), comment="shortly before the period ends, so the renewal bills the new plan"
    )
    status: Mapped[str] = mapped_column(
        String(16), default="pending", comment="pending | running | queued | done | cancelled"
    )
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    outcome: Mapped[str | None] = mapped_column(String(16))
    outcome_detail: Mapped[str | None] = mapped_column(String(500))
    executed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[created_at]


class PortalCache(Base):
    """A Stripe answer the portal shows (a subscription's upcoming invoice, the card on
    file), valid while ``basis`` (the mirror's version of what it was computed from)
    stays the same."""

    __tablename__ = "portal_cache"
    __table_args__ = (UniqueConstraint("workspace_id", "key"),)

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    key: Mapped[str] = mapped_column(String(300), comment="upcoming:<sub_…> | card:<cus_…>")
    basis: Mapped[str] = mapped_column(String(200))
    value: Mapped[dict[str, Any]] = mapped_column(JSON)
    fetched_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
