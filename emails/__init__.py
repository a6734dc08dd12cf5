"""Email rendering and sending. Knows nothing of ``app/`` models: callers hand it a
message name, a recipient and a plain context (branding included).

One folder per message under ``templates/<name>/``: ``subject.txt``, ``body.txt`` and
``body.html`` (which extends the branded ``base/layout.html``); CSS is inlined with
premailer so mail clients that drop ``<style>`` still show the brand.
"""

from __future__ import annotations

from .render import Rendered, render

__all__ = ["Rendered", "render"]
