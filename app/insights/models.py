"""The insights' rollups: what each loop did, counted per workspace, day (in the
workspace's timezone), metric, key and currency, kept by a worker from the domain-event
stream (:mod:`.rollups`), so that no dashboard figure scans the raw rows."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..models import Base, BigId, UTCDateTime, created_at, intpk, utcnow, workspace_fk


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
    is_monthly_summary_on: Mapped[bool] = mapped_column(
        default=True, server_default=true(), comment="the owners get last month's figures by email"
    )
    summary_sent_month: Mapped[str | None] = mapped_column(
        String(7), comment="YYYY-MM of the last monthly summary sent: a second run sends nothing"
    )
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class InsightExport(Base):
    """A CSV export a member asked for, built by a worker (:mod:`.exports`).

    The file is kept in this row, gzip-compressed, rather than on disk: the web process
    that serves the download and the worker that wrote it may run on different machines,
    and both see the database. ``lease_until`` is renewed every batch: a ``running``
    export whose lease ran out lost its worker, and may be started again."""

    __tablename__ = "insight_export"
    __table_args__ = (Index("ix_insight_export_ws_created", "workspace_id", "created_at"),)

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    kind: Mapped[str] = mapped_column(String(16), comment="recovery | cancel | winback")
    first_day: Mapped[dt.date] = mapped_column(Date, comment="in the workspace's timezone")
    last_day: Mapped[dt.date] = mapped_column(Date, comment="included")
    requested_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("user_account.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(
        String(16), default="queued", comment="queued | running | done | failed"
    )
    rows_written: Mapped[int] = mapped_column(default=0)
    total_rows: Mapped[int | None] = mapped_column(comment="counted when the build starts")
    note: Mapped[str | None] = mapped_column(String(500), comment="e.g. cut at the row cap")
    error: Mapped[str | None] = mapped_column(String(1000))
    content_gz: Mapped[bytes | None] = mapped_column(LargeBinary, comment="the CSV, gzipped")
    attempts: Mapped[int] = mapped_column(default=0)
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[created_at]
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class InsightLtv(Base):
    """The lifetime value gained from recovered customers, per currency (:mod:`.ltv`),
    computed by a worker once a day: it reads every recovered subscription and its later
    invoices, which no page view should. A row with currency ``''`` records when it was
    last computed (and asked for), even with nothing recovered."""

    __tablename__ = "insight_ltv"
    __table_args__ = (UniqueConstraint("workspace_id", "currency"),)

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    currency: Mapped[str] = mapped_column(String(3), comment="'': the workspace's marker row")
    customers: Mapped[int] = mapped_column(default=0, comment="recovered subscriptions followed")
    still_subscribed: Mapped[int] = mapped_column(default=0)
    realized_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    months_paid: Mapped[int] = mapped_column(default=0)
    projected_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    curve: Mapped[list[float]] = mapped_column(JSON, default=list, comment="S(0..horizon)")
    observed_months: Mapped[int] = mapped_column(default=0)
    horizon_months: Mapped[int] = mapped_column(default=24)
    is_sampled: Mapped[bool] = mapped_column(
        default=False, comment="more recoveries than one run reads: the newest were used"
    )
    requested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    computed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
