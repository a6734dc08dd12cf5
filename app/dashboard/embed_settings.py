"""Settings → Embed: the workspace's embed secret and the require-signature switch."""

from __future__ import annotations
