"""The holdout: a deterministic, auditable share of failed invoices that Backstop leaves
to Stripe's own retries, so that the lift can be measured against them (issue 16).

Pure rules over plain values. An invoice is held out when ``HMAC-SHA256(salt, invoice
id)``, read as a number in [0, 1), falls below the share: the same invoice always gets
the same answer, anyone holding the salt can check it, and raising the share only adds
invoices to the control group (one held out at 5 % is held out at 10 %).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

#: The most a workspace may hold out (a larger control group costs too many customers).
MAX_PERCENT = 20
SALT_BYTES = 32


def new_salt() -> str:
    """A workspace's salt, made once (hex)."""
    return secrets.token_hex(SALT_BYTES)


def score(salt: str, invoice_id: str) -> float:
    """The invoice's place in [0, 1): the first 64 bits of HMAC-SHA256(salt, id)."""
    digest = hmac.new(bytes.fromhex(salt), invoice_id.encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def is_held_out(salt: str | None, invoice_id: str, percent: int) -> bool:
    """Whether Backstop leaves this invoice alone at ``percent`` % held out (0: never)."""
    if not salt or percent <= 0:
        return False
    return score(salt, invoice_id) < percent / 100


def reason(percent: int) -> str:
    """Why a held-out campaign gets no action, for its timeline."""
    return (
        f"held out: in the {percent} % control group that gets Stripe's retries only, "
        "so the lift can be measured"
    )


def check_percent(value: str) -> tuple[int | None, str | None]:
    """The setting as typed: a whole number from 0 (off) to :data:`MAX_PERCENT`."""
    text = (value or "").strip().removesuffix("%").strip()
    if not text.isdigit():
        return None, f"Hold out a whole number of percent, from 0 (off) to {MAX_PERCENT}."
    percent = int(text)
    if percent > MAX_PERCENT:
        return None, f"Hold out at most {MAX_PERCENT} % of failed payments."
    return percent, None
