"""A connected shop with a customer on a monthly plan, an embed secret, and a published
cancel flow made from a template, for the Retain loop's service and HTTP tests."""

from __future__ import annotations

import time
from typing import Any

import pytest

from app.api import embed_secrets
from app.api.signing import sign
from app.extensions import db
from app.retain import flows

from ..recovery.shop import Shop


class CancelShop(Shop):
    """A :class:`Shop` whose customers can ask to cancel."""

    def __init__(self, sandbox_url: str, template: str = "saas_standard") -> None:
        super().__init__(sandbox_url)
        self.secret = embed_secrets.ensure(db.session, self.workspace)
        self.flow = flows.create_from_template(
            db.session,
            self.workspace.id,
            template,
            actor_id=None,
            actor_label="test",
            support_email="help@shop.example",
        )
        db.session.commit()

    def signed(
        self, customer: str, subscription: str, *, at: int | None = None, **extra: Any
    ) -> dict[str, Any]:
        ts = int(time.time()) if at is None else at
        return {
            "workspace": self.workspace.slug,
            "customer": customer,
            "subscription": subscription,
            "timestamp": ts,
            "signature": sign(self.secret, customer, ts, subscription),
            **extra,
        }


@pytest.fixture
def cancel_shop(ctx, sandbox_url) -> CancelShop:
    return CancelShop(sandbox_url)
