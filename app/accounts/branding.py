"""A workspace's brand as emails and hosted pages show it (a plain dict: ``emails/``
knows nothing of models)."""

from __future__ import annotations

from typing import Any

from .models import Workspace


def brand(workspace: Workspace) -> dict[str, Any]:
    return {
        "name": workspace.name,
        "color": workspace.brand_color or "#4f46e5",
        "logo_url": workspace.logo_url or None,
        "address": workspace.postal_address or None,
    }
