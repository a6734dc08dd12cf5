"""The filter on the HTTP clients' loggers masks every secret shape it knows and keeps
the rest of the line (what was called, the status) for whoever reads the log."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.log_redaction import MASK, NOISY_LOGGERS, RedactSecrets, install, redact

BODY = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=12
)


@given(
    body=BODY, prefix=st.sampled_from(["sk_test_", "rk_live_", "bk_test_", "bk_embed_", "whsec_"])
)
def test_prefixed_secrets_keep_their_prefix_and_lose_their_body(body: str, prefix: str) -> None:
    line = f'message=\'API response body\' body=\'{{"secret": "x", "key": "{prefix}{body}"}}\''
    masked = redact(line)
    assert body not in masked and f"{prefix}{MASK}" in masked


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ('{"access_token": "sk_acct_opaque", "livemode": false}', '"livemode": false'),
        ('{"refresh_token": "rt_opaque"}', '"refresh_token": "***"'),
        ('127.0.0.1:80 "POST /services/T0AB/B0CD/tokentokentoken HTTP/1.1" 200', 'HTTP/1.1" 200'),
        (
            'discord.com:443 "POST /api/webhooks/123/tokentokentoken HTTP/1.1" 204',
            "/api/webhooks/123/***",
        ),
    ],
)
def test_grants_and_webhook_urls_are_masked(line: str, kept: str) -> None:
    masked = redact(line)
    assert "opaque" not in masked and "tokentokentoken" not in masked and kept in masked


def test_a_line_without_secrets_is_left_alone() -> None:
    line = "Stripe API response path=https://api.stripe.com/v1/invoices/in_1 response_code=200"
    assert redact(line) == line


def test_the_filter_rewrites_the_record_and_is_installed_once() -> None:
    install()
    install()
    for name in NOISY_LOGGERS:
        assert sum(isinstance(f, RedactSecrets) for f in logging.getLogger(name).filters) == 1
    record = logging.makeLogRecord({"msg": "key=%s", "args": ("rk_test_abcdefabcdef",)})
    assert RedactSecrets().filter(record) is True
    assert record.getMessage() == f"key=rk_test_{MASK}"
