"""Reading an intent the way Stripe.js does: a publishable key sees a setup or payment
intent only together with that intent's ``client_secret``."""

from __future__ import annotations

from typing import Any

from ..api import Ctx
from ..errors import InvalidRequest, NotFound


def is_publishable(ctx: Ctx) -> bool:
    return (ctx.key or "").startswith("pk_test_")


def load_intent(
    ctx: Ctx, oid: str, kind: str, *, label: str, code: str, missing: str
) -> dict[str, Any]:
    """The ``kind`` object ``oid``; refused without (or with the wrong) client secret
    under a publishable key. ``label``, ``code`` and ``missing`` (the resource name in
    Stripe's "No such ..." error) are Stripe's words for the kind."""
    intent = ctx.acct.get(oid, kind)
    secret = ctx.params.str("client_secret")
    if is_publishable(ctx) and not secret:
        raise InvalidRequest(
            "Missing required param: client_secret.",
            param="client_secret",
            code="parameter_missing",
        )
    if intent is None:
        raise NotFound(missing, oid)
    if secret is not None and secret != intent["client_secret"]:
        raise InvalidRequest(
            "The client_secret provided does not match the client_secret "
            f"associated with the {label}.",
            param="client_secret",
            code=code,
        )
    return intent
