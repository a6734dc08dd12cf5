"""What the customer sees of Checkout, reached with no key as Stripe's links are: the
session's ``url`` (a small payment page: the plan, the price, an email box when the
session has none, the marketing-consent box, and Subscribe with a test card) and an
expired session's ``after_expiration.recovery.url``, which makes a new session with
the same line items and sends the customer there."""

from __future__ import annotations

import html

from werkzeug.wrappers import Request, Response

from .. import checkout
from ..api import route
from ..billing import job_ctx
from ..errors import StripeError
from ..store import State
from ..wire import Params

_STYLE = """body{font:15px/1.5 system-ui,sans-serif;background:#f6f8fa;color:#1a1f36;margin:0}
main{max-width:440px;margin:40px auto;background:#fff;border-radius:8px;padding:28px;
box-shadow:0 1px 3px rgba(0,0,0,.1)}h1{font-size:20px;margin:0 0 4px}.muted{color:#697386}
label{display:block;margin:12px 0}input[type=email]{width:100%;padding:8px;box-sizing:border-box}
button{background:#635bff;color:#fff;border:0;border-radius:6px;padding:10px 16px;font-size:15px}
.error{color:#c0123c}"""


def _page(title: str, body: str, status: int = 200) -> Response:
    doc = (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport "
        f'content="width=device-width, initial-scale=1"><title>{html.escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body><main>{body}</main></body></html>"
    )
    return Response(doc, status=status, mimetype="text/html")


@route("GET", "/c/pay/<account_id>/<oid>", auth="none")
def pay_page(state: State, request: Request, account_id: str, oid: str) -> Response:
    with state.lock:
        acct = state.accounts.get(account_id)
        session = acct.get(oid, checkout.KIND) if acct else None
        if session is None:
            return _page("Not found", "<h1>This page does not exist</h1>", 404)
        ctx = job_ctx(state, acct)
        return _render(session, checkout.line_items(ctx, session))


def _render(session: dict, items: list, error: str = "") -> Response:
    esc = html.escape
    if session["status"] != "open":
        word = "paid" if session["status"] == "complete" else "expired"
        return _page("Checkout", f"<h1>This checkout session has {word}</h1>", 410)
    rows = "".join(
        f"<p>{esc(i['description'] or '')} &times; {i['quantity']}: "
        f"{i['currency'].upper()} {i['amount_total'] / 100:.2f} / "
        f"{esc(i['price']['recurring']['interval'])}</p>"
        for i in items
    )
    email = session["customer_email"] or (session["customer_details"] or {}).get("email")
    email_box = (
        f"<p class=muted>{esc(email)}</p>"
        if email
        else "<label>Email <input type=email name=email required></label>"
    )
    consent = (
        "<label><input type=checkbox name=promotions value=opt_in> Keep me updated with "
        "news and offers</label>"
        if (session["consent_collection"] or {}).get("promotions") == "auto"
        else ""
    )
    note = f"<p class=error>{esc(error)}</p>" if error else ""
    body = (
        f"<h1>Subscribe</h1>{rows}{note}<form method=post>{email_box}{consent}"
        "<button>Subscribe with a test card</button></form>"
        f"<p class=muted>Stripe sandbox checkout · {esc(session['id'][:16])}…</p>"
    )
    return _page("Checkout", body)


@route("POST", "/c/pay/<account_id>/<oid>", auth="none")
def pay(state: State, request: Request, account_id: str, oid: str) -> Response:
    """Subscribe with Stripe's test Visa card, then go to the merchant's success URL."""
    with state.lock:
        acct = state.accounts.get(account_id)
        session = acct.get(oid, checkout.KIND) if acct else None
        if session is None:
            return _page("Not found", "<h1>This page does not exist</h1>", 404)
        ctx = job_ctx(state, acct)
        if session["status"] != "open":
            return _render(session, [])
        promotions = None
        if (session["consent_collection"] or {}).get("promotions") == "auto":
            promotions = "opt_in" if request.form.get("promotions") == "opt_in" else "opt_out"
        try:
            checkout.complete(
                ctx,
                session,
                payment_method="pm_card_visa",
                email=request.form.get("email") or None,
                name=None,
                promotions=promotions,
            )
        except StripeError as exc:
            return _render(session, checkout.line_items(ctx, session), str(exc))
        target = session["success_url"].replace("{CHECKOUT_SESSION_ID}", oid)
    return Response(status=303, headers={"Location": target})


@route("GET", "/c/recover/<account_id>/<oid>", auth="none")
def recover(state: State, request: Request, account_id: str, oid: str) -> Response:
    with state.lock:
        acct = state.accounts.get(account_id)
        session = acct.get(oid, checkout.KIND) if acct else None
        if session is None:
            return _page("Not found", "<h1>This page does not exist</h1>", 404)
        ctx = job_ctx(state, acct)
        ctx.params = Params({})
        try:
            fresh = checkout.recover(ctx, session)
        except StripeError:
            return _page("Checkout", "<h1>This link has expired</h1>", 410)
    return Response(status=303, headers={"Location": fresh["url"]})
