"""A workspace's brand as emails and hosted pages show it (a plain dict: ``emails/``
knows nothing of models)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from .models import Workspace


def brand(workspace: Workspace) -> dict[str, Any]:
    return {
        "name": workspace.name,
        "color": workspace.brand_color or "#4f46e5",
        "logo_url": workspace.logo_url or None,
        "address": workspace.postal_address or None,
    }


def web_address(url: str | None) -> str | None:
    """``url`` when it is an absolute http(s) address we may link to, else None (a
    ``javascript:`` or relative value never becomes a link)."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if any(c.isspace() or not c.isprintable() for c in url):
        return None
    return url
