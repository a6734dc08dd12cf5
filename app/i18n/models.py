"""A workspace's languages: the default its customers get when nothing else says, and
its own wording of our customer-facing strings, per language."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..models import Base, BigId, intpk, utcnow, workspace_fk


class LanguageSettings(Base):
    """The language a workspace's customers see when neither Stripe nor their browser
    names one we have (no row: English)."""

    __tablename__ = "language_settings"

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk(unique=True)
    default_locale: Mapped[str] = mapped_column(
        String(8), default="en", comment="one of app.i18n.locales.SUPPORTED"
    )
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class StringOverride(Base):
    """The merchant's text for one of our strings (``msgid``, the English source) in one
    language; it wins over our catalogue on their hosted pages and emails."""

    __tablename__ = "string_override"
    __table_args__ = (UniqueConstraint("workspace_id", "locale", "msgid"),)

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    locale: Mapped[str] = mapped_column(String(8))
    msgid: Mapped[str] = mapped_column(Text, comment="our English source string")
    text: Mapped[str] = mapped_column(Text, comment="the merchant's wording in that language")
    updated_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("user_account.id", ondelete="SET NULL")
    )
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
