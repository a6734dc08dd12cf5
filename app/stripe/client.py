"""Stripe clients: the platform's, and one per workspace connection.

The API version is the SDK's pinned default; ``base_addresses`` come from settings so
the same code talks to the local sandbox and to Stripe.
"""

from __future__ import annotations

import stripe
from flask import current_app

from ..crypto import decrypt
from .models import StripeConnection

# Re-exported so other domain packages can catch Stripe's errors without importing
# the SDK themselves (only app/stripe/ imports it).
StripeError = stripe.StripeError
CardError = stripe.CardError
InvalidRequestError = stripe.InvalidRequestError
AuthenticationError = stripe.AuthenticationError
PermissionError_ = stripe.PermissionError


def _bases() -> dict[str, str]:
    settings = current_app.config["BACKSTOP"]
    return {
        "api": settings.stripe_api_base,
        "connect": settings.stripe_connect_base,
        "files": settings.stripe_api_base,
    }


def platform_client() -> stripe.StripeClient:
    settings = current_app.config["BACKSTOP"]
    return stripe.StripeClient(
        settings.stripe_secret_key,
        client_id=settings.stripe_client_id,
        base_addresses=_bases(),
        max_network_retries=2,
    )


def key_client(api_key: str) -> stripe.StripeClient:
    return stripe.StripeClient(api_key, base_addresses=_bases(), max_network_retries=2)


def client_for(connection: StripeConnection) -> stripe.StripeClient:
    """A client acting on the merchant's account."""
    settings = current_app.config["BACKSTOP"]
    if connection.mode == "oauth":
        return stripe.StripeClient(
            settings.stripe_secret_key,
            stripe_account=connection.stripe_account_id,
            base_addresses=_bases(),
            max_network_retries=2,
        )
    return key_client(decrypt(connection.secret_enc))
