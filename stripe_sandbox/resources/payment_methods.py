"""Payment methods: ``/v1/payment_methods``, card test numbers and ``pm_card_*`` ids."""

from __future__ import annotations

from typing import Any

from .. import cards
from ..api import LIST_PARAMS, Ctx, route
from ..errors import CardError, InvalidRequest, NotFound
from ..events import changed
from ..render import paginate
from ..store import Account, new_id, snapshot


def card_error(d: cards.Decline, **extra: Any) -> CardError:
    return CardError(
        d.message, code=d.code, decline_code=d.decline_code, advice_code=d.advice_code, extra=extra
    )


def blank_billing_details() -> dict[str, Any]:
    address = dict.fromkeys(("city", "country", "line1", "line2", "postal_code", "state"))
    return {"address": address, "email": None, "name": None, "phone": None, "tax_id": None}


def card_of(acct: Account, pm: dict[str, Any]) -> cards.Card:
    """The test card behind a stored payment method."""
    private = acct.priv(pm["id"])
    if private.get("sandbox"):
        card = cards.sandbox_card(private["sandbox"])
        if card is not None:
            return card
    return cards.card_for_number(private.get("number", "4242424242424242"))


def build(
    ctx: Ctx,
    card: cards.Card,
    *,
    exp_month: int = 12,
    exp_year: int | None = None,
    billing_details: dict[str, Any] | None = None,
    metadata: dict[str, str] | None = None,
    sandbox_id: str | None = None,
    created: int | None = None,
) -> dict[str, Any]:
    now = created if created is not None else ctx.now()
    pm_id = new_id("pm")
    if exp_year is None:
        from datetime import UTC, datetime

        exp_year = datetime.fromtimestamp(now, UTC).year + 3
    pm = {
        "id": pm_id,
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": billing_details or blank_billing_details(),
        "card": {
            "brand": card.brand,
            "checks": {
                "address_line1_check": None,
                "address_postal_code_check": None,
                "cvc_check": "pass",
            },
            "country": card.country,
            "display_brand": card.brand,
            "exp_month": exp_month,
            "exp_year": exp_year,
            "fingerprint": card.fingerprint(ctx.acct.id, pm_id),
            "funding": card.funding,
            "generated_from": None,
            "last4": card.last4,
            "networks": {"available": [card.brand], "preferred": None},
            "regulated_status": "unregulated",
            "three_d_secure_usage": {"supported": True},
            "wallet": None,
        },
        "created": now,
        "customer": None,
        "customer_account": None,
        "livemode": False,
        "metadata": metadata or {},
        "type": "card",
    }
    ctx.acct.put(pm, {"number": card.number, "sandbox": sandbox_id, "charges": 0})
    return pm


def from_test_id(ctx: Ctx, pm_id: str, created: int | None = None) -> dict[str, Any] | None:
    """A fresh payment method for ``pm_card_visa``-style ids, as Stripe makes one per use."""
    sandbox = cards.sandbox_card(pm_id)
    if sandbox is not None:
        return build(ctx, sandbox, sandbox_id=pm_id, created=created)
    number = cards.PM_IDS.get(pm_id)
    if number is not None:
        return build(ctx, cards.NUMBERS[number], created=created)
    return None


def resolve(
    ctx: Ctx, pm_id: str, param: str = "payment_method", created: int | None = None
) -> dict[str, Any]:
    """Load a payment method by id, minting one for test ids."""
    pm = ctx.acct.get(pm_id, "payment_method") or from_test_id(ctx, pm_id, created)
    if pm is None:
        raise NotFound("PaymentMethod", pm_id, param=param)
    return pm


def check_attachable(ctx: Ctx, pm: dict[str, Any]) -> None:
    card = card_of(ctx.acct, pm)
    if card.attach_decline:
        raise card_error(cards.decline(card.attach_decline, card.brand))


def attach_to(ctx: Ctx, pm_id: str, customer: dict[str, Any]) -> dict[str, Any]:
    pm = resolve(ctx, pm_id, created=customer["created"] if customer.get("test_clock") else None)
    if pm["customer"] == customer["id"]:
        return pm
    if pm["customer"] is not None:
        raise InvalidRequest(
            "The payment method you provided has already been attached to a customer.",
            param="payment_method",
        )
    check_attachable(ctx, pm)
    pm["customer"] = customer["id"]
    ctx.emit("payment_method.attached", pm)
    return pm


@route("POST", "/v1/payment_methods", params=("type", "card", "billing_details", "metadata"))
def create(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    kind = p.str("type", "card")
    if kind != "card":
        raise InvalidRequest("The sandbox supports only type=card.", param="type")
    given = p.dict("card")
    if given is None:
        raise InvalidRequest(
            "Missing required param: card.", param="card", code="parameter_missing"
        )
    token = given.str("token")
    if token:  # tok_visa style test tokens
        test_id = "pm_card_" + token.removeprefix("tok_")
        pm = from_test_id(ctx, test_id)
        if pm is None:
            raise NotFound("token", token, param="card[token]")
        return pm
    number = given.str("number", required=True)
    if not cards.luhn_ok(number):
        raise CardError(
            "Your card number is incorrect.", code="incorrect_number", param="card[number]"
        )
    exp_month = given.int("exp_month", required=True)
    exp_year = given.int("exp_year", required=True)
    if not 1 <= exp_month <= 12:
        raise CardError(
            "Your card's expiration month is invalid.",
            code="invalid_expiry_month",
            param="card[exp_month]",
        )
    if exp_year < 100:
        exp_year += 2000
    return build(
        ctx,
        cards.card_for_number(number),
        exp_month=exp_month,
        exp_year=exp_year,
        billing_details=_billing_details(ctx, None),
        metadata=p.metadata() or {},
    )


def _billing_details(ctx: Ctx, current: dict[str, Any] | None) -> dict[str, Any] | None:
    given = ctx.params.dict("billing_details")
    if given is None:
        return current
    base = snapshot(current) if current else blank_billing_details()
    for f in ("email", "name", "phone"):
        if f in given:
            base[f] = given.nullable_str(f)
    address = given.dict("address")
    if address is not None:
        for f in base["address"]:
            if f in address:
                base["address"][f] = address.nullable_str(f)
    return base


@route("GET", "/v1/payment_methods/<pm_id>")
def retrieve(ctx: Ctx, pm_id: str) -> dict[str, Any]:
    return ctx.load("payment_method", pm_id, label="PaymentMethod")


@route("POST", "/v1/payment_methods/<pm_id>", params=("billing_details", "card", "metadata"))
def update(ctx: Ctx, pm_id: str) -> dict[str, Any]:
    pm = ctx.load("payment_method", pm_id, label="PaymentMethod")
    before = snapshot(pm)
    pm["billing_details"] = _billing_details(ctx, pm["billing_details"])
    ctx.apply(pm)
    given = ctx.params.dict("card")
    if given is not None:
        card = dict(pm["card"])
        if "exp_month" in given:
            card["exp_month"] = given.int("exp_month")
        if "exp_year" in given:
            card["exp_year"] = given.int("exp_year")
        pm["card"] = card
    ctx.emit_changes("payment_method.updated", pm, before)
    return pm


@route("POST", "/v1/payment_methods/<pm_id>/attach", params=("customer",))
def attach(ctx: Ctx, pm_id: str) -> dict[str, Any]:
    customer_id = ctx.params.str("customer", required=True)
    customer = ctx.load("customer", customer_id, param="customer")
    return attach_to(ctx, pm_id, customer)


@route("POST", "/v1/payment_methods/<pm_id>/detach", params=())
def detach(ctx: Ctx, pm_id: str) -> dict[str, Any]:
    pm = ctx.load("payment_method", pm_id, label="PaymentMethod")
    if pm["customer"] is None:
        raise InvalidRequest(
            "The payment method you provided is not attached to a customer "
            "so detachment is impossible.",
            param="payment_method",
        )
    previous = {"customer": pm["customer"]}
    customer = ctx.acct.get(pm["customer"], "customer")
    pm["customer"] = None
    if customer and customer["invoice_settings"]["default_payment_method"] == pm_id:
        before = snapshot(customer)
        customer["invoice_settings"] = {
            **customer["invoice_settings"],
            "default_payment_method": None,
        }
        ctx.emit("customer.updated", customer, previous=changed(before, customer))
    ctx.emit("payment_method.detached", pm, previous=previous)
    return pm


@route("GET", "/v1/payment_methods", params=("customer", "type", *LIST_PARAMS))
def list_(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    customer = p.str("customer")
    if customer:
        ctx.load("customer", customer, param="customer")
    return paginate(
        ctx.acct,
        ctx.acct.all("payment_method"),
        p,
        "/v1/payment_methods",
        filters={"customer": customer, "type": p.str("type")},
    )


@route("GET", "/v1/customers/<cid>/payment_methods")
def list_for_customer(ctx: Ctx, cid: str) -> dict[str, Any]:
    ctx.load("customer", cid)
    return paginate(
        ctx.acct,
        ctx.acct.all("payment_method"),
        ctx.params,
        f"/v1/customers/{cid}/payment_methods",
        filters={"customer": cid, "type": ctx.params.str("type")},
    )
