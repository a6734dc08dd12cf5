"""Sign-up, authentication, password resets and a workspace's own settings. Services
flush; callers commit. The team (invitations, members) is ``team.py``."""

from __future__ import annotations

import re
import unicodedata
import zoneinfo

from email_validator import EmailNotValidError, validate_email
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ..errors import Refusal
from ..models import utcnow
from .models import Membership, User, Workspace

MIN_PASSWORD = 10
RESET_MAX_AGE = 3600
RESERVED_SLUGS = {"admin", "api", "static", "webhooks", "stripe", "login", "logout", "signup"}


class AccountError(Refusal):
    """A request that makes sense in shape but not in meaning (shown to the user)."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:50]
    return slug or "workspace"


def unique_slug(session: Session, name: str) -> str:
    base = slugify(name)
    if base in RESERVED_SLUGS:
        base = f"{base}-team"
    slug, n = base, 1
    while session.execute(select(Workspace.id).where(Workspace.slug == slug)).first():
        n += 1
        slug = f"{base}-{n}"
    return slug


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"Use at least {MIN_PASSWORD} characters for the password.")


def find_user(session: Session, email: str) -> User | None:
    return session.execute(
        select(User).where(User.email == normalise_email(email))
    ).scalar_one_or_none()


def create_user(
    session: Session,
    email: str,
    password: str,
    name: str | None = None,
    staff_role: str | None = None,
) -> User:
    check_password(password)
    try:
        # The log-in form checks addresses this way: an account it refuses is unusable.
        validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise AccountError(f"That is not an email address we can use: {exc}")
    if find_user(session, email) is not None:
        raise AccountError("An account with this email already exists. Log in instead.")
    user = User(
        email=normalise_email(email),
        name=name,
        password_hash=generate_password_hash(password),
        staff_role=staff_role,
    )
    session.add(user)
    session.flush()
    return user


def sign_up(session: Session, email: str, password: str, workspace_name: str) -> User:
    """A new merchant: the user, their workspace, and their owner membership."""
    user = create_user(session, email, password)
    create_workspace(session, user, workspace_name)
    return user


def create_workspace(session: Session, owner: User, name: str) -> Workspace:
    name = name.strip()
    if not name:
        raise AccountError("Give the workspace a name.")
    workspace = Workspace(name=name, slug=unique_slug(session, name))
    session.add(workspace)
    session.flush()
    session.add(Membership(workspace_id=workspace.id, user_id=owner.id, role="owner"))
    session.flush()
    return workspace


def authenticate(session: Session, email: str, password: str) -> User | None:
    user = find_user(session, email)
    if user is None:
        # Spend the same time as a real check, so timing does not reveal who has an account.
        check_password_hash(generate_password_hash("x"), password)
        return None
    if not user.is_active_user or not check_password_hash(user.password_hash, password):
        return None
    user.last_login_at = utcnow()
    return user


# -- password reset -------------------------------------------------------------------------


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="backstop.password-reset")


def reset_token(user: User, secret_key: str) -> str:
    stamp = user.password_changed_at.timestamp() if user.password_changed_at else 0
    return _serializer(secret_key).dumps({"user": user.id, "stamp": stamp})


def user_for_reset(session: Session, token: str, secret_key: str) -> User:
    try:
        data = _serializer(secret_key).loads(token, max_age=RESET_MAX_AGE)
    except SignatureExpired:
        raise AccountError("This reset link has expired. Ask for a new one.")
    except BadSignature:
        raise AccountError("This reset link is not valid.")
    user = session.get(User, data.get("user"))
    stamp = user.password_changed_at.timestamp() if user and user.password_changed_at else 0
    if user is None or stamp != data.get("stamp"):
        raise AccountError("This reset link was already used.")
    return user


def set_password(user: User, password: str) -> None:
    check_password(password)
    user.password_hash = generate_password_hash(password)
    user.password_changed_at = utcnow()


# -- the workspace's own settings -------------------------------------------------------------


def update_workspace(
    workspace: Workspace,
    *,
    name: str,
    timezone: str,
    brand_color: str,
    logo_url: str | None = None,
    postal_address: str | None = None,
    website_url: str | None = None,
) -> None:
    """Settings → Workspace. The form checked the shapes; this checks what they mean."""
    name = " ".join(name.split())
    if not name:
        raise AccountError("Give the workspace a name.")
    if timezone != "UTC" and timezone not in zoneinfo.available_timezones():
        raise AccountError(f"{timezone!r} is not a timezone we know.")
    workspace.name = name
    workspace.timezone = timezone
    workspace.brand_color = brand_color.lower()
    workspace.logo_url = logo_url or None
    workspace.postal_address = " ".join((postal_address or "").split()) or None
    website_url = (website_url or "").strip()
    if website_url and not website_url.lower().startswith(("https://", "http://")):
        raise AccountError("The website must be an https:// (or http://) address.")
    workspace.website_url = website_url or None


def set_portal_cancel_disabled(workspace: Workspace, disabled: bool) -> None:
    """The set-up checklist's "cancel is off in Stripe's portal" tick."""
    workspace.is_portal_cancel_disabled = disabled


def password_matches(user: User, password: str | None) -> bool:
    return bool(password) and check_password_hash(user.password_hash, password or "")


def change_password(user: User, current: str, new: str) -> None:
    """Settings → Security: the current password first, then the new one."""
    if not password_matches(user, current):
        raise AccountError("The current password is not right.")
    set_password(user, new)
