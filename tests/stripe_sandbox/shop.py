"""A small subscription business on a test clock, for the cancel-flow tests: a product
with monthly prices, a customer with a card, and helpers to move the clock and read
events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import stripe

DAY = 86400
T0 = 1_790_000_000  # 2026-09-21 14:13:20 UTC


@dataclass
class Shop:
    client: stripe.StripeClient
    clock: Any
    pro: Any  # 30.00 a month
    lite: Any  # 15.00 a month
    team: Any  # 60.00 a month
    yearly: Any  # 300.00 a year

    def customer(self, pm: str = "pm_card_visa") -> Any:
        customer = self.client.v1.customers.create(
            params={"test_clock": self.clock.id, "payment_method": pm, "name": "Ada"}
        )
        card = self.client.v1.payment_methods.list(params={"customer": customer.id}).data[0]
        self.client.v1.customers.update(
            customer.id, params={"invoice_settings": {"default_payment_method": card.id}}
        )
        return customer

    def subscribe(self, price: Any | None = None, **extra: Any) -> Any:
        customer = self.customer()
        return self.client.v1.subscriptions.create(
            params={"customer": customer.id, "items": [{"price": (price or self.pro).id}], **extra}
        )

    def advance_to(self, moment: int) -> None:
        self.client.v1.test_helpers.test_clocks.advance(
            self.clock.id, params={"frozen_time": moment}
        )

    def now(self) -> int:
        return self.client.v1.test_helpers.test_clocks.retrieve(self.clock.id).frozen_time

    def sub(self, sub_id: str) -> Any:
        return self.client.v1.subscriptions.retrieve(sub_id)

    def latest_invoice(self, sub_id: str) -> Any:
        return self.client.v1.invoices.retrieve(self.sub(sub_id).latest_invoice)

    def invoices(self, sub_id: str) -> list[Any]:
        """Oldest first."""
        found = self.client.v1.invoices.list(params={"subscription": sub_id, "limit": 100})
        return list(reversed(found.data))

    def events(self, event_type: str) -> list[Any]:
        """Oldest first."""
        found = self.client.v1.events.list(params={"type": event_type, "limit": 100})
        return list(reversed(found.data))

    def all_events(self) -> list[Any]:
        return list(self.client.v1.events.list(params={"limit": 100}).data)


def open_shop(client: stripe.StripeClient) -> Shop:
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": T0})
    product = client.v1.products.create(params={"name": "Pro"})

    def price(amount: int, interval: str = "month") -> Any:
        return client.v1.prices.create(
            params={
                "currency": "usd",
                "unit_amount": amount,
                "recurring": {"interval": interval},
                "product": product.id,
            }
        )

    return Shop(client, clock, price(3000), price(1500), price(6000), price(30000, "year"))


def month(n: int, start: int = T0) -> int:
    """``start`` plus ``n`` calendar months (the subscription's renewals land there)."""
    from datetime import UTC, datetime

    moment = datetime.fromtimestamp(start, UTC)
    index = moment.month - 1 + n
    return int(moment.replace(year=moment.year + index // 12, month=index % 12 + 1).timestamp())
