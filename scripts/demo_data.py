"""The demo merchant's Stripe data for ``make run``: customers on a test clock a month
in, some on cards whose renewals fail, and two who cancelled 17 days ago (win back)."""

from __future__ import annotations

import time
from collections.abc import Callable

#: ``stripe(method, path, data)``: one call to the demo account in the sandbox.
Call = Callable[..., dict]
DAY = 86400

#: Demo customers: (name, payment method). The sandbox cards succeed on the first
#: charge and decline renewals with their code (stripe_sandbox/README.md).
DEMO_CUSTOMERS = [
    ("Ada Lovelace", "pm_card_visa"),
    ("Grace Hopper", "pm_card_mastercard"),
    ("Alan Turing", "pm_card_visa"),
    ("Katherine Johnson", "pm_card_amex"),
    ("Edsger Dijkstra", "pm_card_visa"),
    ("Barbara Liskov", "pm_card_visa"),
    ("Dennis Ritchie", "pm_card_sandbox_insufficient_funds"),
    ("Margaret Hamilton", "pm_card_sandbox_expired_card"),
    ("Ken Thompson", "pm_card_sandbox_do_not_honor_recover2"),
    ("Frances Allen", "pm_card_sandbox_mastercard_insufficient_funds_recover1"),
    ("John McCarthy", "pm_card_sandbox_stolen_card"),
    ("Radia Perlman", "pm_card_sandbox_authentication_required"),
]
#: Customers who cancel 17 days before "now" (with the reason Stripe's portal asks
#: for): Backstop finds them on connect and their first win-back email goes at once.
DEMO_LEAVERS = [
    ("Hedy Lamarr", "too_expensive"),
    ("Claude Shannon", "unused"),
]


def build(stripe: Call) -> list[str]:
    """Customers on a test clock a month in; returns the plans' prices. ``stripe`` calls
    the demo account's sandbox API."""
    now = int(time.time())
    clock = stripe(
        "POST",
        "/v1/test_helpers/test_clocks",
        # 33 days: every renewal (a calendar month, then an hour to finalize) has been
        # charged by now, so the failing cards have failed and Backstop recovers them.
        {"frozen_time": str(now - 33 * DAY), "name": "Demo"},
    )
    prices = [
        stripe(
            "POST",
            "/v1/prices",
            {
                "currency": "usd",
                "unit_amount": str(amount),
                "recurring[interval]": "month",
                "product_data[name]": name,
            },
        )["id"]
        for name, amount in (("Studio", 2900), ("Studio Plus", 5900))
    ]
    for i, (name, pm) in enumerate(DEMO_CUSTOMERS):
        email = name.lower().replace(" ", ".") + "@example.com"
        customer = stripe(
            "POST",
            "/v1/customers",
            {"name": name, "email": email, "test_clock": clock["id"], "payment_method": pm},
        )
        method = stripe("GET", f"/v1/payment_methods?customer={customer['id']}")["data"][0]["id"]
        stripe(
            "POST",
            "/v1/subscriptions",
            {
                "customer": customer["id"],
                "items[0][price]": prices[i % 2],
                "default_payment_method": method,
            },
        )
    leavers = []
    for name, _feedback in DEMO_LEAVERS:
        email = name.lower().replace(" ", ".") + "@example.com"
        customer = stripe(
            "POST",
            "/v1/customers",
            {
                "name": name,
                "email": email,
                "test_clock": clock["id"],
                "payment_method": "pm_card_visa",
            },
        )
        method = stripe("GET", f"/v1/payment_methods?customer={customer['id']}")["data"][0]["id"]
        leavers.append(
            stripe(
                "POST",
                "/v1/subscriptions",
                {
                    "customer": customer["id"],
                    "items[0][price]": prices[0],
                    "default_payment_method": method,
                },
            )["id"]
        )
    stripe(
        "POST",
        f"/v1/test_helpers/test_clocks/{clock['id']}/advance",
        {"frozen_time": str(now - 17 * DAY)},
    )
    for sub, (_name, feedback) in zip(leavers, DEMO_LEAVERS, strict=True):
        stripe("DELETE", f"/v1/subscriptions/{sub}", {"cancellation_details[feedback]": feedback})
    # A month later: the renewals run, and the cards above decline theirs.
    stripe(
        "POST",
        f"/v1/test_helpers/test_clocks/{clock['id']}/advance",
        {"frozen_time": str(now)},
    )
    return prices
