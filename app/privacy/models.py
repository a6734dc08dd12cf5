"""A workspace export a member (or the API) asked for, built by a worker."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, deferred, mapped_column

from ..models import Base, BigId, UTCDateTime, created_at, intpk, workspace_fk


class WorkspaceExport(Base):
    """The zip of everything about a workspace (:mod:`.export`). Kept in the row, like
    the insights CSVs: the web process serving the download and the worker that built
    it may be on different machines, and both see the database."""

    __tablename__ = "workspace_export"
    __table_args__ = (Index("ix_workspace_export_ws_created", "workspace_id", "created_at"),)

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    requested_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("user_account.id", ondelete="SET NULL")
    )
    requested_via: Mapped[str] = mapped_column(String(16), comment="dashboard | api")
    status: Mapped[str] = mapped_column(
        String(16), default="queued", comment="queued | running | done | failed"
    )
    rows_written: Mapped[int] = mapped_column(default=0)
    size_bytes: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(1000))
    content_zip: Mapped[bytes | None] = deferred(
        mapped_column(LargeBinary, comment="the zip; read only to download it")
    )
    attempts: Mapped[int] = mapped_column(default=0)
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[created_at]
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
