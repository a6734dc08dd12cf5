"""Two-factor sign-in: TOTP codes from an authenticator app (RFC 6238) and one-time
recovery codes. The secret is encrypted at rest (``totp_secret_enc``); recovery codes
are stored as sha256 only and shown once. Services flush; callers commit."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

import pyotp
import segno
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from ..crypto import decrypt, encrypt
from .models import RecoveryCode, User
from .services import AccountError

ISSUER = "Backstop"
RECOVERY_CODE_COUNT = 10
#: Codes of the step before and after the current one are accepted (clock drift).
DRIFT_STEPS = 1


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def matching_step(secret: str, code: str, now: dt.datetime, last_step: int | None) -> int | None:
    """The time step ``code`` belongs to (within the drift), or None. A step at or before
    ``last_step`` (already used) never matches: a code is good once."""
    code = normalise_code(code)
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def code_at(secret: str, now: dt.datetime) -> str:
    """The code an authenticator shows at ``now`` (tests, and nothing else)."""
    return pyotp.TOTP(secret).at(now)


def new_recovery_codes() -> list[str]:
    return [
        f"{secrets.token_hex(3)[:5]}-{secrets.token_hex(3)[:5]}" for _ in range(RECOVERY_CODE_COUNT)
    ]


def _hash(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


# -- enrolment ------------------------------------------------------------------------------


def begin_enrolment(user: User) -> str:
    """A fresh secret for the user to scan (2FA stays off until a code confirms it)."""
    if user.has_two_factor:
        raise AccountError("Two-factor sign-in is already on.")
    secret = pyotp.random_base32()
    user.totp_secret_enc = encrypt(secret)
    user.totp_last_counter = None
    return secret


def pending_secret(user: User) -> str | None:
    if user.has_two_factor or not user.totp_secret_enc:
        return None
    return decrypt(user.totp_secret_enc)


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The otpauth URI as an inline SVG QR code (no script, no external image)."""
    return segno.make(uri, error="m").svg_inline(scale=4, border=2, title="Two-factor QR code")


def confirm_enrolment(session: Session, user: User, code: str, now: dt.datetime) -> list[str]:
    """Turn 2FA on with the first code from the app; the recovery codes (shown once)."""
    secret = pending_secret(user)
    if secret is None:
        raise AccountError("Start again: scan a new QR code.")
    step = matching_step(secret, code, now, None)
    if step is None:
        raise AccountError(
            "That code does not match. Check the time on your phone and try the next code."
        )
    user.totp_enabled_at = now
    user.totp_last_counter = step
    return replace_recovery_codes(session, user, now)


def replace_recovery_codes(session: Session, user: User, now: dt.datetime) -> list[str]:
    """Ten new recovery codes; the old ones stop working."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = new_recovery_codes()
    session.add_all(
        RecoveryCode(user_id=user.id, code_hash=_hash(code), created_at=now) for code in codes
    )
    session.flush()
    return codes


def disable(session: Session, user: User) -> None:
    user.totp_secret_enc = None
    user.totp_enabled_at = None
    user.totp_last_counter = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.flush()


# -- sign-in ----------------------------------------------------------------------------------


def verify(session: Session, user: User, code: str, now: dt.datetime) -> str | None:
    """Check a sign-in code: ``"totp"`` or ``"recovery"`` when good (and now spent),
    None when not."""
    if not user.has_two_factor or not user.totp_secret_enc:
        return None
    step = matching_step(decrypt(user.totp_secret_enc), code, now, user.totp_last_counter)
    # Claimed with a guarded UPDATE: two requests racing with one code, one wins.
    if (
        step is not None
        and session.execute(
            update(User)
            .where(
                User.id == user.id,
                or_(User.totp_last_counter.is_(None), User.totp_last_counter < step),
            )
            .values(totp_last_counter=step)
        ).rowcount
    ):
        session.refresh(user)
        return "totp"
    if use_recovery_code(session, user, code, now):
        return "recovery"
    return None


def use_recovery_code(session: Session, user: User, code: str, now: dt.datetime) -> bool:
    if len(normalise_code(code)) != 10:
        return False
    spent = session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
    )
    return bool(spent.rowcount)


def recovery_codes_left(session: Session, user_id: int) -> int:
    return len(
        session.execute(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )
