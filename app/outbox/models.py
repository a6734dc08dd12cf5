from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..models import Base, BigId, created_at, intpk


class OutboxMessage(Base):
    __tablename__ = "outbox_message"

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
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    transport: Mapped[str] = mapped_column(String(16), default="outbox")
    status: Mapped[str] = mapped_column(
        String(16), default="queued", comment="queued | sent | failed | blocked"
    )
    provider_id: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[created_at]
    sent_at: Mapped[dt.datetime | None]
