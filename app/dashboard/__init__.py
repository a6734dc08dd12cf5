"""The merchant dashboard: one blueprint per feature (``overview``, ``customers``,
``recovery``, ``winback``, and each page of Settings), sharing the chrome of ``chrome.py``."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from . import (
        cancel_analytics,
        cancel_embed,
        cancel_flows,
        customers,
        email_settings,
        embed_settings,
        exports,
        filters,
        languages,
        notifications,
        overview,
        portal_settings,
        recovery,
        retry_policy,
        send_domain,
        stripe_settings,
        team,
        webhooks,
        winback,
        winback_settings,
        workspace,
    )

    filters.register(app)
    for feature in (
        overview,
        customers,
        exports,
        recovery,
        cancel_flows,
        cancel_embed,
        cancel_analytics,
        winback,
        retry_policy,
        email_settings,
        winback_settings,
        send_domain,
        stripe_settings,
        embed_settings,
        portal_settings,
        webhooks,
        notifications,
        languages,
        team,
        workspace,
    ):
        app.register_blueprint(feature.bp)
