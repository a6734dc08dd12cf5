"""What a Slack or Discord channel gets: which events each choice posts, and the
message itself (Slack blocks, Discord embeds), with links to the dashboard. Pure rules:
plain values in, the JSON body out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..money import format_money
from .models import DISCORD, SLACK

#: What a channel can post, in the merchant's words, and the domain event behind each.
POSTS = {
    "recovered": ("Payment recovered", "recovery.campaign.recovered"),
    "high_value_failure": ("High-value payment failed", "recovery.campaign.started"),
    "saved": ("Customer saved from cancelling", "cancel.session.saved"),
    "won_back": ("Customer won back", "winback.reactivated"),
    "dispute": ("Dispute opened", "dispute.created"),
    "dispute_rate": ("Dispute rate past a card network's threshold", "dispute.rate_alert"),
    "digest": ("Daily digest (yesterday's figures, each morning)", None),
}
DEFAULT_POSTS = ["recovered", "high_value_failure", "saved", "won_back", "digest"]
GREEN, RED, BLUE, AMBER = 0x16A34A, 0xDC2626, 0x2563EB, 0xD97706


@dataclass(frozen=True)
class Note:
    """A message before it is dressed for Slack or Discord."""

    title: str
    text: str
    color: int
    link: str
    link_label: str
    fields: list[tuple[str, str]] = field(default_factory=list)


def post_for(
    event_name: str,
    data: Mapping[str, Any],
    posts: list[str],
    threshold: tuple[int, str] | None,
) -> str | None:
    """Which of the channel's ``posts`` this event is, or None when it posts nothing.
    A failure is high-value at ``threshold`` (amount, currency) or more, in that currency."""
    for post in posts:
        name = POSTS.get(post, ("", None))[1]
        if name != event_name:
            continue
        if post == "high_value_failure":
            if threshold is None or data.get("is_holdout"):
                continue
            amount, currency = threshold
            same = str(data.get("currency") or "").lower() == currency.lower()
            if not same or int(data.get("amount_minor") or 0) < amount:
                continue
        return post
    return None


def note_for(post: str, data: Mapping[str, Any], *, customer: str, base_url: str) -> Note:
    """The message for one event, in words; ``customer`` is their name or email."""
    base = base_url.rstrip("/")
    money = format_money(int(data.get("amount_minor") or 0), data.get("currency"))
    customer_link = f"{base}/customers/{data.get('customer')}"
    if post == "recovered":
        recovered = format_money(
            int(data.get("recovered_minor") or data.get("amount_minor") or 0), data.get("currency")
        )
        how = {
            "retry": "a retry by Backstop",
            "card_update": "a card update",
            "customer_paid": "the customer paying",
            "stripe_retry": "a retry by Stripe",
        }.get(str(data.get("attribution")), "a payment")
        return Note(
            f"Payment recovered: {recovered}",
            f"{customer}'s failed payment of {money} was recovered by {how}.",
            GREEN,
            f"{base}/recovery/campaigns/{data.get('campaign_id')}",
            "Open the campaign",
            [("Customer", customer), ("Recovered", recovered)],
        )
    if post == "high_value_failure":
        return Note(
            f"Payment failed: {money}",
            f"{customer}'s renewal of {money} failed ({_words(data.get('decline_code'))}). "
            "Backstop is working on it.",
            RED,
            f"{base}/recovery/campaigns/{data.get('campaign_id')}",
            "Open the campaign",
            [("Customer", customer), ("Amount", money)],
        )
    if post == "saved":
        mrr = format_money(int(data.get("mrr_minor") or 0), data.get("currency"))
        offer = data.get("offer") or "an offer"
        return Note(
            f"Customer saved: {mrr} a month",
            f"{customer} clicked cancel, then took {offer} and stayed.",
            BLUE,
            customer_link,
            "Open the customer",
            [("Customer", customer), ("Reason given", _words(data.get("reason")))],
        )
    if post == "won_back":
        mrr = format_money(
            int(data.get("regained_mrr_minor") or 0),
            data.get("regained_currency") or data.get("currency"),
        )
        return Note(
            f"Customer won back: {mrr} a month",
            f"{customer} had cancelled and came back through a win-back email.",
            GREEN,
            customer_link,
            "Open the customer",
            [("Customer", customer), ("Back at", f"{mrr} a month")],
        )
    if post == "dispute":
        disputed = format_money(int(data.get("amount") or 0), data.get("currency"))
        due = str(data.get("due_by") or "")[:10] or "soon"
        return Note(
            f"Dispute opened: {disputed}",
            f"{customer} disputed a payment of {disputed}. Likely cause: "
            f"{_words(data.get('likely_cause'))}. Evidence is due by {due}.",
            AMBER,
            f"{base}/disputes",
            "Review the evidence",
            [("Customer", customer), ("Amount", disputed)],
        )
    if post == "dispute_rate":
        network = str(data.get("network") or "other")
        label = {"amex": "American Express"}.get(network, network.capitalize())
        return Note(
            f"Dispute rate {data.get('rate')} on {label} in {data.get('month')}",
            f"{data.get('disputes')} disputes against {data.get('settled')} settled {label} "
            f"payments: past {data.get('threshold')}. Answer open disputes with evidence.",
            AMBER,
            f"{base}/disputes/monitor",
            "Open the monitor",
            [("Network", label), ("Rate", str(data.get("rate")))],
        )
    raise ValueError(f"no message for {post!r}")


def digest_note(workspace: str, day: str, lines: list[dict[str, str]], *, base_url: str) -> Note:
    """Yesterday in one message: ``lines`` as :func:`app.insights.summary.lines` makes."""
    if not lines:
        text = "Nothing happened: no payment failed or came back, and nobody cancelled."
    else:
        text = "\n".join(
            f"{line['currency']}: recovered {line['recovered']}, lost {line['lost']}, "
            f"saved {line['saved']}, won back {line['won_back']}"
            for line in lines
        )
    return Note(
        f"{workspace}: {day}",
        text,
        BLUE,
        base_url.rstrip("/") + "/dashboard",
        "Open the dashboard",
    )


def test_note(kind: str, workspace: str, *, base_url: str) -> Note:
    return Note(
        f"Backstop is connected to {kind.capitalize()}",
        f"This is a test message from {workspace}'s notification settings.",
        BLUE,
        base_url.rstrip("/") + "/settings/notifications",
        "Notification settings",
    )


def render(kind: str, note: Note) -> dict[str, Any]:
    """``note`` as Slack's incoming webhooks or Discord's webhooks take it."""
    if kind == SLACK:
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": note.title[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": _slack_escape(note.text)}},
        ]
        if note.fields:
            blocks.append(
                {
                    "type": "section",
                    "fields": [
                        {"type": "mrkdwn", "text": f"*{k}*\n{_slack_escape(v)}"}
                        for k, v in note.fields
                    ],
                }
            )
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": note.link_label},
                        "url": note.link,
                    }
                ],
            }
        )
        return {"text": f"{note.title}: {note.text}", "blocks": blocks}
    if kind == DISCORD:
        embed: dict[str, Any] = {
            "title": note.title[:256],
            "description": note.text[:4096],
            "url": note.link,
            "color": note.color,
            "footer": {"text": f"Backstop · {note.link_label}"},
        }
        if note.fields:
            embed["fields"] = [
                {"name": k, "value": v[:1024], "inline": True} for k, v in note.fields
            ]
        return {"username": "Backstop", "embeds": [embed], "allowed_mentions": {"parse": []}}
    raise ValueError(f"unknown channel kind {kind!r}")


def is_revoked(kind: str, status: int | None, body: str | None) -> bool:
    """Whether the service's answer says the URL is gone for good (not a passing error):
    Slack's ``no_service``/``channel_not_found``/``channel_is_archived``-style answers,
    Discord's "Unknown Webhook" (code 10015) or a bad token."""
    text = (body or "").lower()
    if status is None:
        return False
    if kind == SLACK:
        gone = ("no_service", "channel_not_found", "channel_is_archived", "invalid_token",
                "no_active_hooks", "team_disabled", "action_prohibited")  # fmt: skip
        return status in (404, 410) or (status in (400, 403) and any(g in text for g in gone))
    if kind == DISCORD:
        return status == 404 or (status == 401 and "webhook" in text)
    return False


def _words(code: Any) -> str:
    return str(code or "unknown").replace("_", " ")


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
