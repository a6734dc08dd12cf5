"""What the REST API keeps of its own: the answers to POSTs sent with an
``Idempotency-Key``, replayed for 24 hours."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ...models import Base, BigId, UTCDateTime, created_at, intpk, workspace_fk


class IdempotentRequest(Base):
    __tablename__ = "api_idempotent_request"
    __table_args__ = (
        UniqueConstraint("workspace_id", "key"),
        Index("ix_api_idempotent_request_expires", "workspace_id", "expires_at"),
    )

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    api_key_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("api_key.id", ondelete="SET NULL"), comment="the key that sent it"
    )
    key: Mapped[str] = mapped_column(String(255), comment="the client's Idempotency-Key")
    request_hash: Mapped[str] = mapped_column(
        String(64), comment="sha256 of method, path and body: a reuse must match"
    )
    status_code: Mapped[int] = mapped_column(comment="the answer replayed")
    response_body: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[created_at]
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
