"""``next=`` targets: only a path on this site, never another origin (open redirect)."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit


def local_path(target: str | None, fallback: str) -> str:
    """``target`` when it is a plain local path (``/settings/team?x=1``), else ``fallback``.

    Refused: anything with a scheme or host (``https://evil``, ``//evil``), backslashes
    (browsers read ``/\\evil`` as ``//evil``), whitespace or control characters (browsers
    drop tabs and newlines, so ``/\\t/evil`` becomes ``//evil``), and the same tricks
    percent-encoded once or twice."""
    if not target or len(target) > 2000:
        return fallback
    candidates = [target, unquote(target), unquote(unquote(target))]
    for text in candidates:
        if not text.startswith("/") or text.startswith("//"):
            return fallback
        if "\\" in text or any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in text):
            return fallback
        parts = urlsplit(text)
        if parts.scheme or parts.netloc:
            return fallback
    return target
