"""Every message renders a subject, a plain-text part and branded HTML with inlined CSS."""

from __future__ import annotations

import pytest

import emails
from emails.render import message_names

CONTEXTS = {
    "password_reset": {"email": "jo@example.com", "reset_url": "https://x.example/r/1"},
    "invitation": {
        "inviter": "a@example.com",
        "workspace": "Acme",
        "role": "viewer",
        "accept_url": "https://x.example/i/1",
    },
    "dunning": {
        "subject": "Your Acme payment didn't go through",
        "headline": "Your payment didn't go through",
        "message": "Hi Jo, we couldn't take your latest payment.",
        "explanation": "Your bank declined the payment of $49.00.",
        "button_label": "Update payment method",
        "button_url": "https://x.example/update-card/tok",
        "amount": "$49.00",
        "offers_pause": False,
        "pause_days": None,
        "paused_until": None,
        "link_days": 21,
        "discount_percent": 20,
        "discount_months": 3,
        "unsubscribe_url": "https://x.example/unsubscribe/u",
    },
    "dunning_pause_offer": {
        "name": "Jo",
        "merchant": "Acme",
        "plan": "Pro monthly",
        "amount": "$49.00",
        "pause_days": 30,
        "resumes_on": "January 16, 2027",
        "button_url": "https://x.example/pause-offer/tok",
        "link_days": 21,
        "unsubscribe_url": "https://x.example/unsubscribe/u",
    },
    "card_expiring": {
        "name": "Jo",
        "card_label": "Visa ending in 4242",
        "expiry": "January 2027",
        "days_before": 15,
        "button_url": "https://x.example/update-card/tok",
        "link_days": 21,
        "unsubscribe_url": "https://x.example/unsubscribe/u",
    },
    "card_update_link": {
        "button_url": "https://x.example/update-card/tok",
        "link_days": 21,
        "unsubscribe_url": "https://x.example/unsubscribe/u",
    },
    "winback": {
        "subject": "We'd love to have you back at Acme",
        "headline": "We'd love to have you back at Acme",
        "message": "Hi Jo, your Pro plan is one tap away.",
        "plan": "Pro",
        "price": "$49.00 a month",
        "offer": "25% off for 3 months",
        "button_label": "Restart my subscription",
        "button_url": "https://x.example/come-back/tok",
        "link_days": 30,
        "unsubscribe_url": "https://x.example/unsubscribe/u",
    },
    "checkout_recovery": {
        "subject": "You left something at Acme",
        "headline": "You left something at Acme",
        "message": "Hi Jo, your Pro checkout is saved.",
        "plan": "Pro",
        "price": "$49.00 a month",
        "button_label": "Finish checking out",
        "button_url": "https://checkout.example/c/recover/acct/cs_test",
        "unsubscribe_url": "https://x.example/unsubscribe/u",
    },
    "dispute_rate_alert": {
        "workspace": "Acme",
        "network_label": "Visa",
        "rate": "0.92%",
        "month": "November 2026",
        "disputes": 12,
        "settled": 1304,
        "threshold": "0.9%, Visa's dispute monitoring program (VDMP)",
        "monitor_url": "https://x.example/disputes/monitor",
    },
    "monthly_summary": {
        "workspace": "Acme",
        "month": "November 2026",
        "recovered": 3,
        "lost": 1,
        "saved": 2,
        "won_back": 1,
        "rate": "75%",
        "lines": [
            {
                "currency": "USD",
                "recovered": "3 (147.00 USD)",
                "lost": "1 (49.00 USD)",
                "rate": "75%",
                "saved": "2 (98.00 USD a month)",
                "won_back": "1 (49.00 USD a month)",
            }
        ],
        "dashboard_url": "https://x.example/dashboard",
        "settings_url": "https://x.example/exports",
    },
    "high_value_failure": {
        "workspace": "Acme",
        "amount": "1,240.00 USD",
        "customer": "Jane Doe",
        "customer_email": "jane@example.com",
        "customer_phone": "+1 555 0100",
        "campaign_url": "https://x.example/recovery/campaigns/7",
        "settings_url": "https://x.example/settings/recovery#high-value",
    },
    "webhook_disabled": {
        "workspace": "Acme",
        "url": "https://hooks.acme.example/backstop",
        "days": 3,
        "since": "December 03, 2026 at 07:00 UTC",
        "settings_url": "https://x.example/settings/webhooks/1",
    },
    "notification_revoked": {
        "workspace": "Acme",
        "service": "Slack",
        "url": "https://hooks.slack.com/services/…abcd",
        "detail": "Slack answered HTTP 404 (no_service)",
        "settings_url": "https://x.example/settings/notifications",
    },
    "portal_link": {
        "button_url": "https://x.example/portal/tok",
        "link_days": 90,
        "unsubscribe_url": "https://x.example/unsubscribe/u",
    },
}


def test_every_message_has_a_sample_context() -> None:
    assert set(message_names()) == set(CONTEXTS)


@pytest.mark.parametrize("name", sorted(CONTEXTS))
def test_renders_text_and_inlined_branded_html(name: str) -> None:
    brand = {"name": "Acme", "color": "#ff5500", "address": "1 Main St, Springfield"}
    rendered = emails.render(name, {**CONTEXTS[name], "brand": brand})
    assert rendered.subject and "\n" not in rendered.subject
    link = next(v for k, v in CONTEXTS[name].items() if k.endswith("_url"))
    assert link in rendered.text and link in rendered.html
    assert "<style" not in rendered.html  # premailer moved the CSS inline
    assert "background:#f50" in rendered.html  # the brand colour, inlined (and shortened)
    assert "1 Main St, Springfield" in rendered.html


def test_context_values_are_escaped_in_html() -> None:
    rendered = emails.render(
        "invitation", {**CONTEXTS["invitation"], "workspace": "<script>x</script>"}
    )
    assert "<script>x</script>" not in rendered.html
    assert "&lt;script&gt;" in rendered.html


def test_unknown_message_and_missing_values_are_errors() -> None:
    with pytest.raises(LookupError):
        emails.render("no_such_message", {})
    with pytest.raises(Exception, match="reset_url"):
        emails.render("password_reset", {"email": "jo@example.com"})
