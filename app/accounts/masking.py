"""Viewers see customers' email addresses masked (``j•••@example.com``), everywhere in
the dashboard: pages through the ``customer_email`` template filter, CSV downloads
through :func:`mask_csv`. Owners and admins see them in full."""

from __future__ import annotations

import csv
import io
import re

from .access import membership

MASK = "•••"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_EMAIL_IN_TEXT = re.compile(r"[^@\s<>()\[\],;:\"']+@[^@\s<>()\[\],;:\"']+")


def mask_email(email: str | None) -> str:
    """``jo@example.com`` → ``j•••@example.com``; anything that is not an address → ``•••``."""
    if not email:
        return ""
    local, at, domain = email.strip().rpartition("@")
    if not at or not local or not domain:
        return MASK
    return f"{local[0]}{MASK}@{domain}"


def sees_customer_emails() -> bool:
    """Whether the current member may read customers' addresses in full."""
    return membership().role != "viewer"


def customer_email(email: str | None) -> str:
    """The template filter: the address, masked for viewers."""
    if not email:
        return ""
    return email if sees_customer_emails() else mask_email(email)


def customer_emails_in(text: str | None) -> str:
    """Free text (dispute evidence, notes) with every address in it masked for viewers."""
    if not text or sees_customer_emails():
        return text or ""
    return _EMAIL_IN_TEXT.sub(lambda m: mask_email(m.group(0)), text)


def mask_csv(data: bytes) -> bytes:
    """Every cell of a CSV that is an email address, masked (exports for viewers)."""
    rows = csv.reader(io.StringIO(data.decode("utf-8-sig")))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([mask_email(cell) if _EMAIL.match(cell.strip()) else cell for cell in row])
    return out.getvalue().encode()
