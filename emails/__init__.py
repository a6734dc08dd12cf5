"""Email rendering and sending. Knows nothing of ``app/`` models: callers hand it a
message name, a recipient and a plain context (branding included).

One folder per message under ``templates/<name>/``: ``subject.txt``, ``body.txt`` and
``body.html`` (which extends the branded ``base/layout.html``); CSS is inlined with
premailer so mail clients that drop ``<style>`` still show the brand. A rendered
:class:`Message` goes out through a transport (:func:`build_transport`): Amazon SES,
Resend, SMTP, or the outbox alone.
"""

from __future__ import annotations

from .message import Message
from .render import Rendered, message_names, render
from .transports import Transport, TransportError
from .transports import build as build_transport

__all__ = [
    "Message",
    "Rendered",
    "Transport",
    "TransportError",
    "build_transport",
    "message_names",
    "render",
]
