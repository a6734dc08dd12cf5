"""Slack and Discord channels: add one by its incoming-webhook URL, choose what it
posts, send a test, and mark it revoked when the service says the URL is gone.
Services take explicit arguments, flush, never commit."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from ..crypto import decrypt, encrypt
from ..errors import Conflict, Refusal
from ..money import minor_digits
from . import messages
from .addresses import AddressRefused, check_url
from .deliveries import cancel_open, hand_over_new
from .endpoints import Rules
from .models import ACTIVE, CHANNEL_KINDS, DISCORD, PENDING, REVOKED, SLACK, Delivery
from .models import NotificationChannel as Channel

MAX_CHANNELS = 8
_HOSTS = {
    SLACK: ({"hooks.slack.com"}, ("/services/", "/triggers/", "/workflows/")),
    DISCORD: (
        {"discord.com", "discordapp.com", "ptb.discord.com", "canary.discord.com"},
        ("/api/webhooks/",),
    ),
}


def check(
    kind: str,
    url: str,
    posts: list[str],
    threshold: tuple[int, str] | None,
    rules: Rules,
) -> list[str]:
    """Everything wrong with a channel's settings, one sentence each."""
    errors = []
    if kind not in CHANNEL_KINDS:
        return ["Choose Slack or Discord."]
    name = CHANNEL_KINDS[kind]
    try:
        host = check_url(
            url, allow_loopback=rules.allow_loopback, require_https=rules.require_https
        )
        hosts, paths = _HOSTS[kind]
        # Where loopback is allowed (development, tests) a local receiver stands in.
        if not rules.allow_loopback and (
            host not in hosts or not urlsplit(url).path.startswith(paths)
        ):
            example = (
                "https://hooks.slack.com/services/…"
                if kind == SLACK
                else "https://discord.com/api/webhooks/…"
            )
            errors.append(f"That is not a {name} incoming-webhook URL (it starts {example}).")
    except AddressRefused as exc:
        errors.append(f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
    unknown = [p for p in posts if p not in messages.POSTS]
    if unknown:
        errors.append("Choose what to post from the list.")
    if "high_value_failure" in posts and threshold is None:
        errors.append("Say from what amount a failed payment counts as high-value.")
    if threshold is not None and threshold[0] <= 0:
        errors.append("The high-value amount must be more than zero.")
    return errors


def parse_threshold(amount: str, currency: str) -> tuple[int, str] | str | None:
    """``("500", "usd")`` -> ``(50000, "usd")``; None when blank; a sentence when wrong."""
    amount, currency = amount.strip().replace(",", ""), currency.strip().lower()
    if not amount:
        return None
    if len(currency) != 3 or not currency.isalpha():
        return "Give the high-value amount's currency as a 3-letter code (USD, EUR)."
    digits = minor_digits(currency)
    whole, _, part = amount.partition(".")
    if not whole.isdigit() or (part and not part.isdigit()) or len(part) > digits:
        return f"The high-value amount must be a number with at most {digits} decimals."
    if len(whole) > 12:
        return "The high-value amount is too large."
    return int(whole) * 10**digits + int((part or "0").ljust(digits, "0") or 0), currency


def hint(url: str) -> str:
    """The URL as pages show it: the host and the start of the path, never the token."""
    parts = urlsplit(url)
    path = parts.path
    shown = path[: min(18, max(0, len(path) - 12))]  # the token (the path's end) stays hidden
    return f"{parts.scheme}://{parts.netloc}{shown}…{url[-4:]}"[:120]


def create(
    session: Session,
    workspace_id: int,
    *,
    kind: str,
    url: str,
    posts: list[str],
    threshold: tuple[int, str] | None,
    rules: Rules,
) -> Channel:
    errors = check(kind, url, posts, threshold, rules)
    if session.query(Channel).filter_by(workspace_id=workspace_id).count() >= MAX_CHANNELS:
        errors.append(f"A workspace has at most {MAX_CHANNELS} channels.")
    if errors:
        raise Refusal(*errors)
    channel = Channel(
        workspace_id=workspace_id,
        kind=kind,
        url_enc=encrypt(url),
        url_hint=hint(url),
        posts=[p for p in messages.POSTS if p in posts],
        threshold_minor=threshold[0] if threshold else None,
        threshold_currency=threshold[1] if threshold else None,
    )
    session.add(channel)
    session.flush()
    return channel


def update_channel(
    session: Session,
    channel: Channel,
    *,
    url: str | None,
    posts: list[str],
    threshold: tuple[int, str] | None,
    rules: Rules,
) -> None:
    """Change what the channel posts, and its URL when one is given (a new URL brings a
    revoked channel back)."""
    errors = check(channel.kind, url or decrypt_url(channel), posts, threshold, rules)
    if errors:
        raise Refusal(*errors)
    if url:
        channel.url_enc, channel.url_hint = encrypt(url), hint(url)
        channel.state, channel.revoked_at, channel.revoked_detail = ACTIVE, None, None
        channel.failing_since = None
    channel.posts = [p for p in messages.POSTS if p in posts]
    channel.threshold_minor = threshold[0] if threshold else None
    channel.threshold_currency = threshold[1] if threshold else None
    session.flush()


def decrypt_url(channel: Channel) -> str:
    return decrypt(channel.url_enc)


def threshold_of(channel: Channel) -> tuple[int, str] | None:
    if channel.threshold_minor is None or not channel.threshold_currency:
        return None
    return channel.threshold_minor, channel.threshold_currency


def revoke(session: Session, channel: Channel, detail: str, *, now: dt.datetime) -> bool:
    """Stop posting to a URL the service says is gone; False when it was already."""
    if channel.state == REVOKED:
        return False
    channel.state, channel.revoked_at, channel.revoked_detail = REVOKED, now, detail[:500]
    cancel_open(session, channel_id=channel.id, why=f"the {channel.kind} URL was revoked")
    session.flush()
    return True


def send_test(
    session: Session,
    channel: Channel,
    *,
    workspace_name: str,
    base_url: str,
    now: dt.datetime,
    lease: dt.timedelta,
) -> Delivery:
    if channel.state != ACTIVE:
        raise Conflict(f"This {CHANNEL_KINDS[channel.kind]} URL was revoked: add a new one first.")
    note = messages.test_note(channel.kind, workspace_name, base_url=base_url)
    delivery = Delivery(
        workspace_id=channel.workspace_id,
        channel_id=channel.id,
        event_type="test",
        payload=messages.render(channel.kind, note),
        is_test=True,
        status=PENDING,
        due_at=now,
    )
    hand_over_new(session, [delivery], now=now, lease=lease)
    return delivery
