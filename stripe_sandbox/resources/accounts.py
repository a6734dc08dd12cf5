"""Accounts: ``/v1/account`` and Connect's ``/v1/accounts`` (connected accounts)."""

from __future__ import annotations

from typing import Any

from ..api import LIST_PARAMS, Ctx, route
from ..errors import NotFound, PermissionDenied
from ..render import paginate
from ..store import Account, State, new_id


def account_object(acct: Account) -> dict[str, Any]:
    profile = acct.settings.get("profile", {})
    return {
        "id": acct.id,
        "object": "account",
        "business_profile": {
            "name": profile.get("business_name"),
            "url": None,
            "support_email": profile.get("email"),
            "mcc": None,
        },
        "business_type": "company",
        "capabilities": {"card_payments": "active", "transfers": "active"},
        "charges_enabled": True,
        "controller": {"type": "application" if acct.platform_id else "account"},
        "country": profile.get("country", "US"),
        "created": acct.created,
        "default_currency": "usd",
        "details_submitted": True,
        "email": profile.get("email"),
        "external_accounts": {
            "object": "list",
            "data": [],
            "has_more": False,
            "url": f"/v1/accounts/{acct.id}/external_accounts",
        },
        "future_requirements": None,
        "metadata": profile.get("metadata", {}),
        "payouts_enabled": True,
        "requirements": None,
        "settings": {
            "dashboard": {
                "display_name": profile.get("business_name"),
                "timezone": profile.get("timezone", "Etc/UTC"),
            }
        },
        "tos_acceptance": {"date": acct.created},
        "type": profile.get("type", "standard"),
    }


def connect_account(
    state: State,
    platform_id: str,
    *,
    email: str | None = None,
    business_name: str | None = None,
    kind: str = "standard",
    country: str = "US",
) -> Account:
    acct = state.account(new_id("acct_1", 15).replace("acct_1_", "acct_1"), platform_id)
    acct.settings["profile"] = {
        "email": email,
        "business_name": business_name,
        "type": kind,
        "country": country,
    }
    return acct


@route("GET", "/v1/account")
def retrieve_own(ctx: Ctx) -> dict[str, Any]:
    return account_object(ctx.acct)


@route("POST", "/v1/accounts")
def create(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    business = p.dict("business_profile")
    acct = connect_account(
        ctx.state,
        ctx.acct.id,
        email=p.str("email"),
        business_name=business.str("name") if business else None,
        kind=p.str("type", "standard", choices=("standard", "express", "custom")) or "standard",
        country=p.str("country", "US") or "US",
    )
    return account_object(acct)


def _connected(ctx: Ctx, oid: str) -> Account:
    acct = ctx.state.accounts.get(oid)
    if acct is None or acct.platform_id != ctx.acct.id:
        raise NotFound("account", oid)
    return acct


@route("GET", "/v1/accounts/<oid>")
def retrieve(ctx: Ctx, oid: str) -> dict[str, Any]:
    if oid == ctx.acct.id:
        return account_object(ctx.acct)
    return account_object(_connected(ctx, oid))


@route("DELETE", "/v1/accounts/<oid>")
def delete(ctx: Ctx, oid: str) -> dict[str, Any]:
    if oid == ctx.acct.id:
        raise PermissionDenied("You cannot delete your own account through the API.")
    acct = _connected(ctx, oid)
    acct.platform_id = None
    return {"id": oid, "object": "account", "deleted": True}


@route("GET", "/v1/accounts", params=LIST_PARAMS)
def list_(ctx: Ctx) -> dict[str, Any]:
    mine = [
        account_object(a)
        for a in reversed(ctx.state.accounts.values())
        if a.platform_id == ctx.acct.id
    ]
    return paginate(ctx.acct, mine, ctx.params, "/v1/accounts")
