"""The insights' rollups: what each loop did, counted per workspace, day (in the
workspace's timezone), metric, key and currency, kept by a worker from the domain-event
stream (:mod:`.rollups`), so that no dashboard figure scans the raw rows."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..models import Base, BigId, UTCDateTime, intpk, utcnow, workspace_fk


class InsightDaily(Base):
    """One day's count and amount of one metric (``recovered``, ``lost``, ``saved``...)
    for one key (the decline class, the attribution, the reason) and currency."""

    __tablename__ = "insight_daily"
    __table_args__ = (
        UniqueConstraint("workspace_id", "metric", "day", "key", "currency"),
        Index("ix_insight_daily_ws_metric_day", "workspace_id", "metric", "day"),
    )

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    day: Mapped[dt.date] = mapped_column(Date, comment="in the workspace's timezone")
    metric: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(64), default="", comment="'': none")
    currency: Mapped[str] = mapped_column(String(3), default="", comment="'': no amount")
    count: Mapped[int] = mapped_column(default=0)
    amount_minor: Mapped[int] = mapped_column(BigInteger, default=0)


class InsightApplied(Base):
    """A domain event the rollups have counted: a second hand-over of the same event
    (a retry after another consumer failed) counts nothing."""

    __tablename__ = "insight_applied"

    event_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    applied_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class InsightBaseline(Base):
    """The merchant's recovery before Backstop, per currency, from the invoices imported
    when Stripe was connected (:mod:`.baseline`): renewals whose first payment failed,
    and those paid within the window without Backstop. A row with currency ``''`` and
    zero counts records a history with no failed renewal."""

    __tablename__ = "insight_baseline"
    __table_args__ = (UniqueConstraint("workspace_id", "currency"),)

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    currency: Mapped[str] = mapped_column(String(3), comment="'': nothing failed")
    failed_count: Mapped[int] = mapped_column(default=0)
    failed_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    recovered_count: Mapped[int] = mapped_column(
        default=0, comment="paid within the window by Stripe's retries or the customer"
    )
    recovered_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    window_start_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), comment="failures counted from (the import's first day)"
    )
    window_end_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), comment="failures counted up to (their window closed before connecting)"
    )
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class InsightSettings(Base):
    """What a workspace tells the insights: what Backstop costs it each month."""

    __tablename__ = "insight_settings"

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk(unique=True)
    monthly_cost_minor: Mapped[int | None] = mapped_column(BigInteger)
    cost_currency: Mapped[str | None] = mapped_column(String(3))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
