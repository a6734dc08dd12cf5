"""The merchant's words for our states and attributions (they live with the recovery
loop, which exports use too); the dashboard's pages read them from here."""

from __future__ import annotations

from ..recovery.labels import LABELS

__all__ = ["LABELS"]
