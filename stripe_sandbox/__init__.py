"""A local, stateful Stripe for development, demos and tests (see README.md).

The product reaches it only over HTTP, through the official SDK, exactly as it
reaches Stripe; nothing here imports the product and the product imports nothing here.
"""

from __future__ import annotations

from .sandbox import Sandbox

__all__ = ["Sandbox"]
