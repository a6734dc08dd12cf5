"""Submit a page's form the way a browser would: with its CSRF token."""

from __future__ import annotations

import re
from typing import Any

_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(web, url: str) -> str:
    page = web.get(url)
    match = _TOKEN.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {url} ({page.status_code})"
    return match.group(1)


def submit(web, url: str, data: dict[str, Any], *, page: str | None = None, **kw: Any):
    token = csrf_token(web, page or url)
    return web.post(url, data={**data, "csrf_token": token}, **kw)
