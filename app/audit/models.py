from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..models import Base, BigId, created_at, intpk


class AuditEntry(Base):
    __tablename__ = "audit_entry"

    id: Mapped[intpk]
    actor_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    actor_label: Mapped[str] = mapped_column(String(254), comment="email, or 'cli:<user>'")
    action: Mapped[str] = mapped_column(String(64), comment="e.g. stripe_event.replay")
    target_type: Mapped[str | None] = mapped_column(String(64))
    target_id: Mapped[str | None] = mapped_column(String(255))
    workspace_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("workspace.id", ondelete="SET NULL"), index=True
    )
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[created_at]
