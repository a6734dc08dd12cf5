"""A connected shop whose customers open the hosted portal: an embed secret, three
plans a customer may move between, and helpers to open a customer's portal over HTTP."""

from __future__ import annotations

import time
from typing import Any

import pytest

from app.api import embed_secrets
from app.api.signing import sign
from app.extensions import db
from app.portal import settings as portal_settings

from ..recovery.shop import Shop

PORTAL = "/api/embed/portal"


class PortalShop(Shop):
    def __init__(self, sandbox_url: str) -> None:
        super().__init__(sandbox_url)
        self.secret = embed_secrets.ensure(db.session, self.workspace)
        self.plus = self._price("Studio Plus", 4900)
        self.lite = self._price("Lite", 1500)
        self.euro = self._price("Studio EUR", 2900, currency="eur")
        portal_settings.save(
            db.session,
            self.workspace.id,
            {
                "switch_price_ids": [self.price, self.plus, self.lite, self.euro],
                "downgrade_timing": "period_end",
                "pause_months": ["1", "2", "3"],
                "can_cancel": True,
                "shows_invoices": True,
                "detail_fields": ["email", "name", "address"],
                "button_style": "rounded",
                "shows_powered_by": True,
            },
            known_price_ids=None,
        )
        db.session.commit()

    def _price(self, name: str, amount: int, currency: str = "usd") -> str:
        return self.client.v1.prices.create(
            params={
                "currency": currency,
                "unit_amount": amount,
                "recurring": {"interval": "month"},
                "product_data": {"name": name},
            }
        ).id

    def signed(self, customer: str, *, at: int | None = None) -> dict[str, Any]:
        ts = int(time.time()) if at is None else at
        return {
            "workspace": self.workspace.slug,
            "customer": customer,
            "timestamp": ts,
            "signature": sign(self.secret, customer, ts),
        }

    def open_portal(self, web, customer: str) -> str:
        """The portal's path for ``customer``, as the merchant's page would get it."""
        response = web.post(PORTAL, json=self.signed(customer))
        assert response.status_code == 200, response.json
        return response.json["url"].removeprefix("http://localhost")


@pytest.fixture
def portal_shop(ctx, sandbox_url) -> PortalShop:
    return PortalShop(sandbox_url)


def form_of(html: str, action: str) -> dict[str, str]:
    """The hidden fields of the form posting to ``action`` (its form token and nonce)."""
    import re

    start = html.index(f'action="{action}')
    chunk = html[start : html.index("</form>", start)]
    return dict(re.findall(r'name="(form_token|nonce)" value="([^"]+)"', chunk))
