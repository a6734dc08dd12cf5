"""The embed endpoints merchants' pages call (DESIGN §8).

``embed.js`` calls them from the browser on the merchant's own origin, so they answer
CORS for any origin (no credentials: the signature, not a cookie, is the authority) and
are exempt from CSRF. Errors are mapped to HTTP here, in one place: bad shape 400, bad
or missing signature 401, unknown workspace or customer 404.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from ..extensions import csrf, db
from ..models import utcnow
from ..retain import sessions as cancel_sessions
from ..stripe.client import StripeError
from . import cancel, embed_secrets, wall
from . import portal as portal_api
from .signing import EmbedSignatureError

bp = Blueprint("api", __name__)

EMBED_PREFIX = "/api/embed/"


class InvalidRequest(Exception):
    """The body is not the JSON object the endpoint expects."""


# -- the request body (forms check shape; services check meaning) -----------------------------


def _body() -> dict[str, Any]:
    # ``force``: a merchant's server may post JSON without the header; the browser sends it.
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise InvalidRequest("send a JSON object")
    return body


def _identifier(body: dict[str, Any], name: str, limit: int) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidRequest(f"{name} is required (a string)")
    if len(value) > limit or not value.isprintable() or value.strip() != value:
        raise InvalidRequest(f"{name} must be one line of at most {limit} characters")
    return value


def _auth(body: dict[str, Any]) -> tuple[int | None, str | None]:
    timestamp, signature = body.get("timestamp"), body.get("signature")
    if timestamp is not None and (isinstance(timestamp, bool) or not isinstance(timestamp, int)):
        raise InvalidRequest("timestamp must be an integer (epoch seconds)")
    if signature is not None and not isinstance(signature, str):
        raise InvalidRequest("signature must be a string")
    return timestamp, signature


def _flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidRequest(f"{name} must be true or false")
    return value


# -- endpoints --------------------------------------------------------------------------------


@bp.post(EMBED_PREFIX + "payment-wall")
@csrf.exempt
def payment_wall() -> Response:
    now = utcnow()
    body = _body()
    slug = _identifier(body, "workspace", 63)
    customer = _identifier(body, "customer", 255)
    timestamp, signature = _auth(body)
    dismissible = _flag(body, "dismissible")
    workspace = wall.workspace_by_slug(db.session, slug)
    embed_secrets.authenticate(
        workspace,
        customer=customer,
        timestamp=timestamp,
        signature=signature,
        now=int(now.timestamp()),
    )
    result = wall.payment_wall(db.session, workspace, customer, now=now, dismissible=dismissible)
    db.session.commit()
    if result.url is None:
        return jsonify(status="current")
    return jsonify(url=result.url)


@bp.post(EMBED_PREFIX + "cancel")
@csrf.exempt
def cancel_flow() -> Response:
    """A one-shot, 24-hour link to the cancel flow for this customer's subscription."""
    body = _body()
    slug = _identifier(body, "workspace", 63)
    customer = _identifier(body, "customer", 255)
    subscription = _identifier(body, "subscription", 255)
    timestamp, signature = _auth(body)
    return_url = body.get("return_url")
    if return_url is not None and (not isinstance(return_url, str) or len(return_url) > 1000):
        raise InvalidRequest("return_url must be a URL of at most 1000 characters")
    workspace = wall.workspace_by_slug(db.session, slug)
    started = cancel.start(
        db.session,
        workspace,
        customer=customer,
        subscription=subscription,
        timestamp=timestamp,
        signature=signature,
        return_url=return_url,
        now=utcnow(),
    )
    db.session.commit()
    return jsonify(url=started.url)


@bp.post(EMBED_PREFIX + "portal")
@csrf.exempt
def portal() -> Response:
    """The customer's 90-day portal link (the same one while it is valid)."""
    body = _body()
    slug = _identifier(body, "workspace", 63)
    customer = _identifier(body, "customer", 255)
    timestamp, signature = _auth(body)
    workspace = wall.workspace_by_slug(db.session, slug)
    url = portal_api.start(
        db.session,
        workspace,
        customer=customer,
        timestamp=timestamp,
        signature=signature,
        now=utcnow(),
    )
    db.session.commit()
    return jsonify(url=url)


# -- errors and CORS --------------------------------------------------------------------------


@bp.errorhandler(InvalidRequest)
def _invalid(exc: InvalidRequest) -> tuple[Response, int]:
    return jsonify(error=str(exc)), 400


@bp.errorhandler(EmbedSignatureError)
def _unauthorized(exc: EmbedSignatureError) -> tuple[Response, int]:
    return jsonify(error=str(exc)), 401


@bp.errorhandler(wall.NotFound)
def _not_found(exc: wall.NotFound) -> tuple[Response, int]:
    return jsonify(error=str(exc)), 404


@bp.errorhandler(cancel.BadReturnUrl)
def _bad_return_url(exc: cancel.BadReturnUrl) -> tuple[Response, int]:
    return jsonify(error=str(exc)), 400


@bp.errorhandler(cancel_sessions.NotFound)
def _no_flow(exc: cancel_sessions.NotFound) -> tuple[Response, int]:
    db.session.rollback()
    return jsonify(error=str(exc)), 404


@bp.errorhandler(cancel_sessions.AlreadyDecided)
def _decided(exc: cancel_sessions.AlreadyDecided) -> tuple[Response, int]:
    db.session.rollback()
    return jsonify(error=str(exc)), 410


@bp.errorhandler(StripeError)
def _stripe_down(exc: StripeError) -> tuple[Response, int]:
    db.session.rollback()
    return jsonify(error="Stripe could not be reached; try again in a moment"), 503


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> tuple[Response, int]:
    return jsonify(error=exc.description or exc.name), exc.code or 500


@bp.after_request
def _cors(response: Response) -> Response:
    if request.path.startswith(EMBED_PREFIX):
        response.headers["Access-Control-Allow-Origin"] = "*"
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = "POST"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type"
            response.headers["Access-Control-Max-Age"] = "3600"
    return response
