"""The event outbox: one row per thing that happened, swept to its consumers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..models import Base, created_at, intpk, workspace_fk

# Statuses: queued (committed, a task will hand it over) -> running -> done | failed;
# a queued or running row whose lease ran out is swept again.
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


class DomainEvent(Base):
    __tablename__ = "domain_event"
    __table_args__ = (
        Index("ix_domain_event_ws_created", "workspace_id", "created_at"),
        Index("ix_domain_event_lease", "status", "lease_until"),
        Index("ix_domain_event_ws_subject", "workspace_id", "subject", "name"),
    )

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    name: Mapped[str] = mapped_column(
        String(64), comment="recovery.campaign.recovered, dunning.email.sent, ..."
    )
    subject: Mapped[str] = mapped_column(
        String(64), comment="what it is about, as kind:id (campaign:12, message:40)"
    )
    data: Mapped[dict[str, Any]] = mapped_column(
        default=dict, comment="plain values: ids, amounts in minor units, reasons"
    )
    occurred_at: Mapped[dt.datetime] = mapped_column(
        comment="when it happened, in the subject's time (its test clock's)"
    )
    created_at: Mapped[created_at]
    status: Mapped[str] = mapped_column(String(16), default=QUEUED)
    due_at: Mapped[dt.datetime] = mapped_column(comment="when it may be handed over")
    lease_until: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(default=0, comment="hand-overs so far")
    error: Mapped[str | None] = mapped_column(String(1000))
    dispatched_at: Mapped[dt.datetime | None]
