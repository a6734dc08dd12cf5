"""Products, prices and coupons: ``/v1/products``, ``/v1/prices``, ``/v1/coupons``."""

from __future__ import annotations

from typing import Any

from ..api import LIST_PARAMS, Ctx, route
from ..errors import InvalidRequest
from ..events import changed
from ..render import paginate
from ..store import new_id, snapshot

INTERVALS = ("day", "week", "month", "year")


@route(
    "POST",
    "/v1/products",
    params=(
        "id",
        "name",
        "active",
        "description",
        "images",
        "metadata",
        "statement_descriptor",
        "unit_label",
        "url",
        "default_price_data",
    ),
)
def create_product(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    now = ctx.now()
    product = {
        "id": p.str("id") or new_id("prod", 14),
        "object": "product",
        "active": p.bool("active", True),
        "created": now,
        "default_price": None,
        "description": p.str("description"),
        "images": p.list("images"),
        "livemode": False,
        "marketing_features": [],
        "metadata": p.metadata() or {},
        "name": p.str("name", required=True),
        "package_dimensions": None,
        "shippable": None,
        "statement_descriptor": p.str("statement_descriptor"),
        "tax_code": None,
        "type": "service",
        "unit_label": p.str("unit_label"),
        "updated": now,
        "url": p.str("url"),
    }
    if ctx.acct.get(product["id"]):
        raise InvalidRequest("Product already exists.", code="resource_already_exists", param="id")
    ctx.acct.put(product)
    ctx.emit("product.created", product)
    default = p.dict("default_price_data")
    if default is not None:
        price = _new_price(ctx, product["id"], default)
        product["default_price"] = price["id"]
    return product


@route("GET", "/v1/products/<oid>")
def retrieve_product(ctx: Ctx, oid: str) -> dict[str, Any]:
    return ctx.load("product", oid)


@route(
    "POST",
    "/v1/products/<oid>",
    params=(
        "name",
        "active",
        "description",
        "default_price",
        "metadata",
        "statement_descriptor",
        "unit_label",
        "url",
    ),
)
def update_product(ctx: Ctx, oid: str) -> dict[str, Any]:
    product = ctx.load("product", oid)
    before = snapshot(product)
    p = ctx.params
    ctx.apply(
        product,
        strings=("name", "description", "statement_descriptor", "unit_label", "url"),
        flags=("active",),
    )
    if "default_price" in p:
        price_id = p.nullable_str("default_price")
        if price_id:
            ctx.load("price", price_id, param="default_price")
        product["default_price"] = price_id
    if changed(before, product):
        product["updated"] = ctx.now()
    ctx.emit_changes("product.updated", product, before)
    return product


@route("DELETE", "/v1/products/<oid>")
def delete_product(ctx: Ctx, oid: str) -> dict[str, Any]:
    product = ctx.load("product", oid)
    if any(pr["product"] == oid for pr in ctx.acct.all("price")):
        raise InvalidRequest(
            "This product cannot be deleted because it has one or more user-created prices.",
            param="id",
        )
    ctx.emit("product.deleted", product)
    ctx.acct.remove(oid)
    return {"id": oid, "object": "product", "deleted": True}


@route("GET", "/v1/products", params=("active", *LIST_PARAMS))
def list_products(ctx: Ctx) -> dict[str, Any]:
    return paginate(
        ctx.acct,
        ctx.acct.all("product"),
        ctx.params,
        "/v1/products",
        filters={"active": ctx.params.bool("active")},
    )


def _new_price(ctx: Ctx, product_id: str, p: Any) -> dict[str, Any]:
    currency = (p.str("currency", required=True) or "").lower()
    amount = p.int("unit_amount", minimum=0)
    if amount is None:
        raise InvalidRequest(
            "Missing required param: unit_amount.", param="unit_amount", code="parameter_missing"
        )
    recurring = p.dict("recurring")
    recurring_out = None
    if recurring is not None:
        interval = recurring.str("interval", required=True, choices=INTERVALS)
        recurring_out = {
            "interval": interval,
            "interval_count": recurring.int("interval_count", 1, minimum=1),
            "meter": None,
            "trial_period_days": recurring.int("trial_period_days"),
            "usage_type": "licensed",
        }
    price = {
        "id": new_id("price"),
        "object": "price",
        "active": p.bool("active", True),
        "billing_scheme": "per_unit",
        "created": ctx.now(),
        "currency": currency,
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": p.str("lookup_key"),
        "metadata": p.metadata() or {},
        "nickname": p.str("nickname"),
        "product": product_id,
        "recurring": recurring_out,
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring" if recurring_out else "one_time",
        "unit_amount": amount,
        "unit_amount_decimal": str(amount),
    }
    ctx.acct.put(price)
    ctx.emit("price.created", price)
    return price


@route(
    "POST",
    "/v1/prices",
    params=(
        "currency",
        "unit_amount",
        "recurring",
        "product",
        "product_data",
        "active",
        "lookup_key",
        "metadata",
        "nickname",
    ),
)
def create_price(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    product_data = p.dict("product_data")
    if product_data is not None:
        product = {
            "id": new_id("prod", 14),
            "object": "product",
            "active": True,
            "created": ctx.now(),
            "default_price": None,
            "description": None,
            "images": [],
            "livemode": False,
            "marketing_features": [],
            "metadata": product_data.metadata() or {},
            "name": product_data.str("name", required=True),
            "package_dimensions": None,
            "shippable": None,
            "statement_descriptor": None,
            "tax_code": None,
            "type": "service",
            "unit_label": None,
            "updated": ctx.now(),
            "url": None,
        }
        ctx.acct.put(product)
        ctx.emit("product.created", product)
        product_id = product["id"]
    else:
        product_id = p.str("product", required=True)
        ctx.load("product", product_id, param="product")
    return _new_price(ctx, product_id, p)


@route("GET", "/v1/prices/<oid>")
def retrieve_price(ctx: Ctx, oid: str) -> dict[str, Any]:
    return ctx.load("price", oid)


@route("POST", "/v1/prices/<oid>", params=("active", "lookup_key", "metadata", "nickname"))
def update_price(ctx: Ctx, oid: str) -> dict[str, Any]:
    price = ctx.load("price", oid)
    before = snapshot(price)
    ctx.apply(price, strings=("nickname", "lookup_key"), flags=("active",))
    ctx.emit_changes("price.updated", price, before)
    return price


@route("GET", "/v1/prices", params=("active", "product", "type", *LIST_PARAMS))
def list_prices(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    return paginate(
        ctx.acct,
        ctx.acct.all("price"),
        p,
        "/v1/prices",
        filters={"product": p.str("product"), "active": p.bool("active"), "type": p.str("type")},
    )


@route(
    "POST",
    "/v1/coupons",
    params=(
        "id",
        "amount_off",
        "currency",
        "duration",
        "duration_in_months",
        "max_redemptions",
        "metadata",
        "name",
        "percent_off",
        "redeem_by",
    ),
)
def create_coupon(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    percent = p.float("percent_off")
    amount = p.int("amount_off", minimum=1)
    if (percent is None) == (amount is None):
        raise InvalidRequest(
            "You must pass exactly one of percent_off or amount_off.", param="percent_off"
        )
    if percent is not None and not 0 < percent <= 100:
        raise InvalidRequest("Invalid percent_off: must be between 0 and 100.", param="percent_off")
    currency = p.str("currency")
    if amount is not None and not currency:
        raise InvalidRequest("You must pass currency when passing amount_off.", param="currency")
    duration = p.str("duration", "once", choices=("once", "repeating", "forever"))
    months = p.int("duration_in_months", minimum=1)
    if duration == "repeating" and months is None:
        raise InvalidRequest(
            "You must pass duration_in_months for repeating coupons.",
            param="duration_in_months",
            code="parameter_missing",
        )
    coupon_id = p.str("id") or "".join(new_id("x", 8)[2:])
    if ctx.acct.get(coupon_id):
        raise InvalidRequest("Coupon already exists.", code="resource_already_exists", param="id")
    coupon = {
        "id": coupon_id,
        "object": "coupon",
        "amount_off": amount,
        "created": ctx.now(),
        "currency": currency.lower() if currency else None,
        "duration": duration,
        "duration_in_months": months if duration == "repeating" else None,
        "livemode": False,
        "max_redemptions": p.int("max_redemptions"),
        "metadata": p.metadata() or {},
        "name": p.str("name"),
        "percent_off": percent,
        "redeem_by": p.int("redeem_by"),
        "times_redeemed": 0,
        "valid": True,
    }
    ctx.acct.put(coupon)
    ctx.emit("coupon.created", coupon)
    return coupon


@route("GET", "/v1/coupons/<oid>")
def retrieve_coupon(ctx: Ctx, oid: str) -> dict[str, Any]:
    return ctx.load("coupon", oid)


@route("POST", "/v1/coupons/<oid>", params=("name", "metadata"))
def update_coupon(ctx: Ctx, oid: str) -> dict[str, Any]:
    coupon = ctx.load("coupon", oid)
    before = snapshot(coupon)
    ctx.apply(coupon, strings=("name",))
    ctx.emit_changes("coupon.updated", coupon, before)
    return coupon


@route("DELETE", "/v1/coupons/<oid>")
def delete_coupon(ctx: Ctx, oid: str) -> dict[str, Any]:
    coupon = ctx.load("coupon", oid)
    ctx.emit("coupon.deleted", coupon)
    ctx.acct.remove(oid)
    return {"id": oid, "object": "coupon", "deleted": True}


@route("GET", "/v1/coupons", params=LIST_PARAMS)
def list_coupons(ctx: Ctx) -> dict[str, Any]:
    return paginate(ctx.acct, ctx.acct.all("coupon"), ctx.params, "/v1/coupons")
