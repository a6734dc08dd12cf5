"""The merchant dashboard: one blueprint per feature (``overview``, ``customers``,
``recovery``, ``winback``, and each page of Settings), sharing the chrome of ``chrome.py``."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from . import (
        api_keys,
        audit_log,
        calls,
        cancel_analytics,
        cancel_embed,
        cancel_flows,
        checkout_recovery,
        customers,
        data_privacy,
        dispute_settings,
        disputes,
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
        security,
        send_domain,
        sms_settings,
        stripe_settings,
        subject_tests,
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
        calls,
        cancel_flows,
        cancel_embed,
        cancel_analytics,
        winback,
        checkout_recovery,
        disputes,
        retry_policy,
        email_settings,
        sms_settings,
        subject_tests,
        winback_settings,
        dispute_settings,
        send_domain,
        stripe_settings,
        embed_settings,
        portal_settings,
        webhooks,
        notifications,
        languages,
        team,
        security,
        api_keys,
        data_privacy,
        audit_log,
        workspace,
    ):
        app.register_blueprint(feature.bp)
