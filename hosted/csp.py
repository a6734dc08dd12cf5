"""A strict Content-Security-Policy on the hosted pages: our own script (by nonce),
Stripe.js and the frames and calls it needs, nothing else."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import Response, current_app, g, request


def nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def policy(*, framable: bool) -> str:
    settings = current_app.config["BACKSTOP"]
    if settings.is_production:
        # What Stripe documents for Stripe.js and Elements.
        scripts = "https://js.stripe.com https://*.js.stripe.com"
        frames = "https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com"
        connect = "https://api.stripe.com"
    else:
        sandbox = _origin(settings.stripe_js)
        scripts = frames = sandbox
        connect = _origin(settings.stripe_api_base)
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src 'self' 'nonce-{nonce()}' {scripts}",
            # Elements style themselves (the sandbox's stand-in adds a <style>).
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' https: data:",
            "font-src 'self'",
            f"connect-src 'self' {connect}",
            f"frame-src {frames}",
            "form-action 'self'",
            "base-uri 'none'",
            # The payment wall opens in the merchant's page; the card page never does.
            "frame-ancestors " + ("*" if framable else "'none'"),
        ]
    )


def apply_csp(response: Response) -> Response:
    if request.blueprint == "hosted" and "Content-Security-Policy" not in response.headers:
        framable = bool(g.get("hosted_framable"))
        response.headers["Content-Security-Policy"] = policy(framable=framable)
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Content-Type-Options"] = "nosniff"
        if not framable:
            response.headers["X-Frame-Options"] = "DENY"
    return response
