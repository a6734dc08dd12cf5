"""The HTML of the OAuth consent flow: the consent page and the error page."""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import urlsplit

from werkzeug.wrappers import Response

# -- pages ------------------------------------------------------------------------------------

_STYLE = """*{box-sizing:border-box}
body{margin:0;min-height:100vh;background:#f6f8fa;color:#1a1f36;display:flex;align-items:center;
 justify-content:center;padding:24px;font:15px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",
 Roboto,Helvetica,Arial,sans-serif}
main{width:100%;max-width:440px;background:#fff;border:1px solid #e3e8ee;border-radius:10px;
 box-shadow:0 2px 6px rgba(26,31,54,.06);padding:32px}
.badge{display:inline-block;font-size:12px;font-weight:600;letter-spacing:.02em;color:#8a5a00;
 background:#fff4d6;border-radius:4px;padding:2px 8px;margin-bottom:16px}
h1{font-size:20px;line-height:1.35;margin:0 0 8px;font-weight:600} p{margin:0 0 16px;color:#4f566b}
ul{margin:0 0 20px;padding-left:20px;color:#4f566b}
.box{border:1px solid #e3e8ee;border-radius:8px;padding:12px 14px;margin:0 0 20px}
.box strong{display:block;font-weight:600} .box span{font-size:13px;color:#697386}
label{display:block;font-size:13px;font-weight:600;margin:0 0 4px}
.opt{font-weight:400;color:#8792a2}
input{width:100%;font:inherit;padding:8px 10px;border:1px solid #cfd7df;border-radius:6px;
 margin:0 0 14px;color:#1a1f36} input:focus{outline:2px solid #7a9cf5;border-color:#7a9cf5}
.actions{display:flex;flex-direction:row-reverse;gap:12px;margin-top:8px}
button{flex:1;font:inherit;font-weight:600;padding:10px 14px;border-radius:6px;cursor:pointer}
.primary{background:#1a1f36;color:#fff;border:1px solid #1a1f36}
.secondary{background:#fff;color:#1a1f36;border:1px solid #cfd7df}
.error{color:#b3093c;background:#fff0f3;border-radius:6px;padding:8px 12px}
.foot{font-size:12px;color:#8792a2;margin:20px 0 0;word-break:break-all}"""

_CAN_READ = "View your account's data, such as customers, subscriptions and invoices"
_CAN_WRITE = "Create and change objects such as charges, customers and subscriptions"
_CAN_HEAR = "Receive notifications about events in your account"
_SCOPE_TEXT = {
    "read_write": [_CAN_READ, _CAN_WRITE, _CAN_HEAR],
    "read_only": [_CAN_READ, _CAN_HEAR],
}


def shell(title: str, body: str, status: int = 200) -> Response:
    page = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )
    response = Response(page, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    return response


def consent_page(name: str, fields: dict[str, Any], error: str | None = None) -> Response:
    e = html.escape
    hidden = "".join(
        f'<input type="hidden" name="{k}" value="{e(str(fields.get(k) or ""))}">'
        for k in ("client_id", "redirect_uri", "scope", "state", "express")
    )
    items = "".join(f"<li>{e(t)}</li>" for t in _SCOPE_TEXT.get(fields["scope"], []))
    host = urlsplit(str(fields["redirect_uri"])).netloc
    problem = f'<p class="error" role="alert">{e(error)}</p>' if error else ""
    body = (
        '<div class="badge">Test mode &middot; Stripe sandbox</div>'
        f"<h1>{e(name)} would like to connect to your Stripe account</h1>"
        f"<p>If you authorize, {e(name)} will be able to:</p><ul>{items}</ul>"
        '<div class="box"><strong>A new sandbox account</strong>'
        "<span>Created in test mode and connected to this platform.</span></div>"
        f'{problem}<form method="post" action="/oauth/authorize">{hidden}'
        '<label for="business_name">Business name <span class="opt">(optional)</span></label>'
        '<input type="text" id="business_name" name="business_name" maxlength="100" '
        f'autocomplete="organization" value="{e(str(fields.get("business_name") or ""))}">'
        '<label for="email">Email <span class="opt">(optional)</span></label>'
        '<input type="email" id="email" name="email" maxlength="254" autocomplete="email" '
        f'value="{e(str(fields.get("email") or ""))}">'
        '<div class="actions">'
        '<button type="submit" name="decision" value="authorize" class="primary">'
        "Authorize access</button>"
        '<button type="submit" name="decision" value="deny" class="secondary">Deny</button>'
        "</div></form>"
        f'<p class="foot">You will be sent back to {e(host)}.</p>'
    )
    return shell(f"Connect to {name}", body, 400 if error else 200)


def error_page(message: str) -> Response:
    body = (
        '<div class="badge">Test mode &middot; Stripe sandbox</div>'
        "<h1>This authorization link is not valid</h1>"
        f'<p class="error" role="alert">{html.escape(message)}</p>'
        "<p>Go back to the application you came from and try again.</p>"
    )
    return shell("Authorization error", body, 400)
