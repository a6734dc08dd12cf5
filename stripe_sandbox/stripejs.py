"""The Stripe.js stand-in: ``/v3/`` serves ``static/stripe.js`` (with ``static/elements.js``
and ``static/stripe.css`` inlined), and ``/v3/authenticate/...`` the 3-D Secure challenge
it opens for a setup intent or a payment intent in ``requires_action``.

The challenge page carries the account and intent in its path and is reached only with
the intent's ``client_secret``. Approve or Fail posts back to the same address; inside
Stripe.js's modal the answer tells the parent window (``postMessage`` of
``{type: "stripe-sandbox:3ds-complete", intent}``), after a ``redirect_to_url`` it sends
the browser to the intent's ``return_url`` with ``setup_intent`` (``payment_intent``),
``setup_intent_client_secret`` (``payment_intent_client_secret``) and
``redirect_status`` as Stripe does.

Stripe.js calls the API from the merchant's origin, so the routes it uses answer CORS
preflight here (``OPTIONS``); ``server.py`` puts ``Access-Control-Allow-Origin: *`` on
the answers of every ``auth="publishable"`` route.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

from .api import Ctx, route
from .errors import StripeError
from .resources import payment_confirm, setup_checks
from .resources.setup_checks import redirect_back_url
from .store import State
from .wire import Params, decode

STATIC = Path(__file__).resolve().parent / "static"
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Stripe-Account, Stripe-Version, "
    "Content-Type, Idempotency-Key",
    "Access-Control-Expose-Headers": "Request-Id, Stripe-Version",
    "Access-Control-Max-Age": "600",
}
MESSAGE_TYPE = "stripe-sandbox:3ds-complete"


# -- the script -------------------------------------------------------------------------------


@route("GET", "/v3/", auth="none")
def script(state: State, request: Request) -> Response:
    return _script()


@route("GET", "/v3/stripe.js", auth="none")
def script_file(state: State, request: Request) -> Response:
    return _script()


def _script() -> Response:
    css = (STATIC / "stripe.css").read_text(encoding="utf-8")
    elements = (STATIC / "elements.js").read_text(encoding="utf-8")
    body = (STATIC / "stripe.js").read_text(encoding="utf-8")
    body = body.replace("/* __STRIPE_SANDBOX_ELEMENTS__ */", elements, 1)
    body = body.replace("__STRIPE_SANDBOX_CSS__", json.dumps(css), 1)
    response = Response(body, mimetype="application/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


# -- CORS preflight for the API routes Stripe.js calls ----------------------------------------


def _preflight(state: State, request: Request, **_: Any) -> Response:
    response = Response(status=204)
    response.headers.update(CORS_HEADERS)
    return response


for _path in (
    "/v1/setup_intents/<seti_id>",
    "/v1/setup_intents/<seti_id>/confirm",
    "/v1/payment_intents/<oid>",
    "/v1/payment_intents/<oid>/confirm",
):
    route("OPTIONS", _path, auth="none")(_preflight)


# -- the 3-D Secure challenge -----------------------------------------------------------------


INVALID = "<p>This authentication link is not valid.</p>"


@route("GET", "/v3/authenticate/<acct_id>/<intent_id>", auth="none")
def challenge(state: State, request: Request, acct_id: str, intent_id: str) -> Response:
    params = _params(request.query_string.decode())
    with state.lock:
        intent, card = _find(state, acct_id, intent_id, params.get("client_secret"))
        if intent is None:
            return _page("Authentication link not valid", INVALID, status=404)
        if intent["status"] != "requires_action":
            return _done(
                intent, redirect=params.get("redirect") == "1", state=state, acct_id=acct_id
            )
        merchant = html.escape(_merchant(state, acct_id))
        if intent["object"] == "payment_intent":
            amount = f"{intent['currency'].upper()} {intent['amount'] / 100:.2f}"
            lead = f"{merchant} asks you to authorize a payment of {amount}."
        else:
            lead = f"{merchant} asks to save your card for future payments."
    form = f"""
<p class="lead">{lead}</p>
<div class="card"><span class="brand">{html.escape(card[0].upper())}</span>
  <span>&bull;&bull;&bull;&bull; {html.escape(card[1])}</span></div>
<p class="hint">This is the sandbox's stand-in for your bank's 3-D Secure check.
Approve to authenticate the card, or Fail to decline the authentication.</p>
<form method="post">
  <input type="hidden" name="client_secret" value="{html.escape(intent["client_secret"])}">
  <input type="hidden" name="redirect" value="{html.escape(params.get("redirect", ""))}">
  <button class="primary" type="submit" name="result" value="approve">Approve</button>
  <button class="secondary" type="submit" name="result" value="fail">Fail</button>
</form>"""
    return _page("Authenticate your card", form)


@route("POST", "/v3/authenticate/<acct_id>/<intent_id>", auth="none")
def challenge_answer(state: State, request: Request, acct_id: str, intent_id: str) -> Response:
    params = _params(request.get_data(as_text=True))
    result = params.get("result")
    with state.lock:
        intent, _ = _find(state, acct_id, intent_id, params.get("client_secret"))
        if intent is None or result not in ("approve", "fail"):
            return _page("Authentication link not valid", INVALID, status=404)
        acct = state.accounts[acct_id]
        ctx = Ctx(state, acct, Params({}), base_url=request.host_url, request=request)
        module = payment_confirm if intent["object"] == "payment_intent" else setup_checks
        module.finish_authentication(ctx, intent, approved=result == "approve")
        state.dirty = True
        return _done(intent, redirect=params.get("redirect") == "1", state=state, acct_id=acct_id)


def _params(raw: str) -> dict[str, str]:
    try:
        data = decode(raw)
    except (StripeError, UnicodeDecodeError):  # a malformed query is an invalid link
        return {}
    return {k: v for k, v in data.items() if isinstance(v, str)}


def _find(
    state: State, acct_id: str, intent_id: str, secret: str | None
) -> tuple[dict[str, Any] | None, tuple[str, str]]:
    acct = state.accounts.get(acct_id)
    kind = "payment_intent" if intent_id.startswith("pi_") else "setup_intent"
    intent = acct.get(intent_id, kind) if acct else None
    if acct is None or intent is None or not secret or secret != intent["client_secret"]:
        return None, ("", "")
    pm = acct.get(intent["payment_method"], "payment_method") or {}
    card = pm.get("card") or {}
    return intent, (card.get("brand", "card"), card.get("last4", "????"))


def _merchant(state: State, acct_id: str) -> str:
    acct = state.accounts.get(acct_id)
    name = acct.settings.get("profile", {}).get("business_name") if acct else None
    return name or "The merchant"


def _done(intent: dict[str, Any], *, redirect: bool, state: State, acct_id: str) -> Response:
    ok = intent["status"] == "succeeded"
    return_url = state.accounts[acct_id].priv(intent["id"]).get("return_url")
    if redirect and return_url:
        target = redirect_back_url(intent, return_url, "succeeded" if ok else "failed")
        response = Response(status=303)
        response.headers["Location"] = target
        return response
    message = json.dumps({"type": MESSAGE_TYPE, "intent": intent["id"], "status": intent["status"]})
    text = "Authentication complete." if ok else "Authentication failed."
    body = f"""<p class="lead">{text}</p><p class="hint">You can close this window.</p>
<script>
(function () {{
  var msg = {message};
  if (window.parent && window.parent !== window) window.parent.postMessage(msg, "*");
  else if (window.opener) window.opener.postMessage(msg, "*");
}})();
</script>"""
    return _page(text, body)


_STYLE = """
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,
"Helvetica Neue",Arial,sans-serif;color:#30313d;background:#f6f8fa}
main{max-width:380px;margin:32px auto;background:#fff;border:1px solid #e6e6e6;
border-radius:8px;box-shadow:0 2px 6px rgba(0,0,0,.06);padding:24px}
header{display:flex;justify-content:space-between;align-items:center;margin-bottom:16px}
header strong{font-size:15px}
.badge{font-size:11px;font-weight:600;letter-spacing:.04em;text-transform:uppercase;
color:#a04100;background:#fff3d6;border-radius:4px;padding:2px 6px}
h1{font-size:18px;font-weight:600;margin:0 0 8px}
.lead{margin:0 0 16px}
.card{display:flex;gap:10px;align-items:center;border:1px solid #e6e6e6;border-radius:6px;
padding:10px 12px;margin-bottom:16px;font-variant-numeric:tabular-nums}
.brand{font-size:11px;font-weight:700;color:#1a1f71;border:1px solid #d5dbe1;
border-radius:3px;padding:1px 5px}
.hint{color:#6d6e78;font-size:13px;margin:0 0 20px}
form{display:flex;flex-direction:column;gap:10px}
button{font:inherit;font-weight:600;border-radius:6px;padding:10px 14px;cursor:pointer}
.primary{background:#0570de;color:#fff;border:1px solid #0570de}
.primary:hover{background:#0461c2}
.secondary{background:#fff;color:#30313d;border:1px solid #d5dbe1}
.secondary:hover{background:#f6f8fa}
button:focus-visible{outline:2px solid #0570de;outline-offset:2px}
.framed body{background:#fff}
.framed main{margin:0 auto;border:0;box-shadow:none;max-width:none}
"""


def _page(title: str, body: str, status: int = 200) -> Response:
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title><style>{_STYLE}</style>
<script>if (window.self !== window.top) document.documentElement.className = "framed";</script>
</head>
<body><main>
<header><strong>Secure checkout</strong><span class="badge">Test mode</span></header>
<h1>{html.escape(title)}</h1>
{body}
</main></body></html>"""
    response = Response(page, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response
