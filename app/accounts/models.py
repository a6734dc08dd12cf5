"""Accounts: a user belongs to workspaces through memberships with a role."""

from __future__ import annotations

import datetime as dt

from flask_login import UserMixin
from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..models import Base, BigId, UTCDateTime, created_at, intpk, workspace_fk

ROLES = ("owner", "admin", "viewer")
STAFF_ROLES = ("support", "admin")


class Workspace(Base):
    __tablename__ = "workspace"

    id: Mapped[intpk]
    slug: Mapped[str] = mapped_column(String(63), unique=True, comment="URL name, a-z0-9-")
    name: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    brand_color: Mapped[str] = mapped_column(String(7), default="#4f46e5")
    logo_url: Mapped[str | None] = mapped_column(String(500))
    postal_address: Mapped[str | None] = mapped_column(
        String(300), comment="shown in the footer of every email to customers"
    )
    website_url: Mapped[str | None] = mapped_column(
        String(500), comment="the merchant's own site: hosted pages link back to it (http/https)"
    )
    embed_secret_enc: Mapped[str | None] = mapped_column(
        String(1024), comment="MultiFernet: signs embed requests (DESIGN §8)"
    )
    is_embed_signature_required: Mapped[bool] = mapped_column(
        default=False, comment="unsigned embed requests are refused (on for live mode)"
    )
    is_portal_cancel_disabled: Mapped[bool] = mapped_column(
        default=False, comment="merchant ticked: Stripe's own portal no longer cancels"
    )
    is_two_factor_required: Mapped[bool] = mapped_column(
        default=False, comment="owners chose: members without 2FA must enrol before anything else"
    )
    created_at: Mapped[created_at]

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="workspace", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Workspace {self.slug}>"


class User(UserMixin, Base):
    __tablename__ = "user_account"

    id: Mapped[intpk]
    email: Mapped[str] = mapped_column(String(254), unique=True, comment="lower-cased")
    name: Mapped[str | None] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active_user: Mapped[bool] = mapped_column(default=True)
    staff_role: Mapped[str | None] = mapped_column(
        String(16), comment="support (read-only) or admin in the back office; null = merchant"
    )
    created_at: Mapped[created_at]
    last_login_at: Mapped[dt.datetime | None]
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(
        comment="reset links issued before this are void"
    )
    totp_secret_enc: Mapped[str | None] = mapped_column(
        String(512),
        comment="MultiFernet: the TOTP secret (set at enrolment, before it is confirmed)",
    )
    totp_enabled_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime(), comment="2FA is on from this moment (the first code was confirmed)"
    )
    totp_last_counter: Mapped[int | None] = mapped_column(
        BigInteger, comment="time step of the last accepted code: that code is never taken twice"
    )

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.is_active_user

    @property
    def has_two_factor(self) -> bool:
        return self.totp_enabled_at is not None

    @property
    def is_staff(self) -> bool:
        return self.staff_role in STAFF_ROLES

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class Membership(Base):
    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id"),)

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16), comment="owner | admin | viewer")
    created_at: Mapped[created_at]

    workspace: Mapped[Workspace] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship(back_populates="memberships")


class Invitation(Base):
    __tablename__ = "invitation"

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(
        String(64), unique=True, comment="sha256 of the emailed token"
    )
    invited_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[created_at]
    expires_at: Mapped[dt.datetime]
    accepted_at: Mapped[dt.datetime | None]


class CustomDomain(Base):
    """The merchant's own host for hosted pages (``billing.example.com``): served only
    once DNS shows the CNAME to us."""

    __tablename__ = "custom_domain"

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk(unique=True)
    hostname: Mapped[str] = mapped_column(String(253), unique=True)
    status: Mapped[str] = mapped_column(
        String(16), default="pending", comment="pending | verified | failed"
    )
    created_at: Mapped[created_at]
    checked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(300))

    @property
    def is_verified(self) -> bool:
        return self.status == "verified"


class ApiKey(Base):
    """A bearer key for the REST API and the MCP server. Only a hash of the secret is
    stored; the secret is shown once, when the key is made."""

    __tablename__ = "api_key"

    id: Mapped[intpk]
    workspace_id: Mapped[int] = workspace_fk()
    name: Mapped[str] = mapped_column(String(80), comment="the merchant's label")
    prefix: Mapped[str] = mapped_column(
        String(24), comment="bk_live_ or bk_test_ and the secret's first characters (shown)"
    )
    secret_hash: Mapped[str] = mapped_column(
        String(64), unique=True, comment="sha256 hex of the whole key"
    )
    scope: Mapped[str] = mapped_column(String(16), comment="read | read_write")
    created_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[created_at]
    last_used_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime(), comment="updated at most once a minute"
    )
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def livemode(self) -> bool:
        return self.prefix.startswith("bk_live_")


class UserSession(Base):
    """One signed-in browser: the session cookie names this row, so a session can be
    listed and signed out from anywhere (Settings → Security)."""

    __tablename__ = "user_session"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[created_at]
    last_seen_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), comment="updated at most once a minute"
    )
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class RecoveryCode(Base):
    """A one-time 2FA recovery code (sha256 only; the code is shown once)."""

    __tablename__ = "recovery_code"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[created_at]
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class SignInThrottle(Base):
    """Failed attempts against one key (an account, an address, a 2FA form): the next
    attempt waits until ``blocked_until`` (see ``throttle.delay_after``)."""

    __tablename__ = "sign_in_throttle"

    id: Mapped[intpk]
    key: Mapped[str] = mapped_column(
        String(300), unique=True, comment="e.g. login:account:jo@example.com, login:ip:1.2.3.4"
    )
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    blocked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
