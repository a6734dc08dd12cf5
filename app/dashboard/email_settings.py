"""Settings → Emails and Settings → Send domain."""

from __future__ import annotations
