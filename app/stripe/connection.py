"""Connecting a workspace to Stripe (OAuth or a restricted key), disconnecting it,
and importing its customers, subscriptions and recent invoices into the mirror."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..crypto import decrypt, encrypt
from ..errors import Refusal
from ..queue import enqueue
from . import client as stripe_client
from . import mirror
from .models import StripeConnection

log = logging.getLogger("backstop.stripe")

IMPORT_TASK = "stripe.import_page"
IMPORT_ORDER = ("customers", "subscriptions", "invoices")
#: What Backstop listens to on a merchant's own endpoint (restricted-key mode).
ENDPOINT_EVENTS = (
    "invoice.payment_failed",
    "invoice.paid",
    "invoice.payment_succeeded",
    "invoice.voided",
    "invoice.marked_uncollectible",
    "invoice.payment_action_required",
    "invoice.upcoming",
    "invoice.created",
    "invoice.finalized",
    "invoice.updated",
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.paused",
    "customer.subscription.resumed",
    "payment_method.attached",
    "payment_method.updated",
    "payment_method.automatically_updated",
    "setup_intent.succeeded",
    "charge.refunded",
    "charge.succeeded",
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.closed",
    "checkout.session.expired",
    "checkout.session.completed",
)


class StripeRefused(Refusal):
    """Stripe refused the connection; the message is safe to show the merchant."""


def authorize_url(state: str, email: str | None = None) -> str:
    params: dict[str, Any] = {
        "response_type": "code",
        "scope": "read_write",
        "state": state,
        "redirect_uri": _callback_url(),
    }
    if email:
        params["stripe_user"] = {"email": email}
    return stripe_client.platform_client().oauth.authorize_url(params)  # type: ignore[arg-type]


def _callback_url() -> str:
    return current_app.config["BACKSTOP"].base_url.rstrip("/") + "/stripe/oauth/callback"


def of_workspace(session: Session, workspace_id: int) -> StripeConnection | None:
    """The workspace's connection, whatever its state."""
    return session.execute(
        select(StripeConnection).where(StripeConnection.workspace_id == workspace_id)
    ).scalar_one_or_none()


def connected(session: Session, workspace_id: int) -> StripeConnection | None:
    """The workspace's connection if it is connected now, else None."""
    connection = of_workspace(session, workspace_id)
    return connection if connection is not None and connection.is_connected else None


def _save(session: Session, workspace_id: int, **values: Any) -> StripeConnection:
    existing = of_workspace(session, workspace_id)
    connection = existing or StripeConnection(workspace_id=workspace_id)
    for key, value in values.items():
        setattr(connection, key, value)
    if existing is None:
        # DESIGN §8: live-mode workspaces start requiring signed embed requests, test
        # mode not (rollout); set once, never over the merchant's own choice.
        from ..accounts.models import Workspace

        workspace = session.get(Workspace, workspace_id)
        if workspace is not None:
            workspace.is_embed_signature_required = bool(connection.livemode)
    connection.status = "connected"
    connection.connected_at = dt.datetime.now(dt.UTC)
    connection.disconnected_at = None
    connection.disconnect_reason = None
    connection.import_status = "pending"
    connection.import_progress = {}
    connection.import_error = None
    session.add(connection)
    session.flush()
    enqueue(session, IMPORT_TASK, connection.id)
    return connection


def complete_oauth(session: Session, workspace_id: int, code: str) -> StripeConnection:
    try:
        token = stripe_client.platform_client().oauth.token(
            {"grant_type": "authorization_code", "code": code}
        )
    except stripe_client.StripeError as exc:
        raise StripeRefused(f"Stripe did not accept the authorization: {exc.user_message or exc}")
    grant = token.to_dict()  # stripe_publishable_key too: not a secret
    return _save(
        session,
        workspace_id,
        mode="oauth",
        stripe_account_id=grant["stripe_user_id"],
        livemode=bool(grant.get("livemode")),
        secret_enc=encrypt(grant["access_token"]),
        publishable_key=grant.get("stripe_publishable_key"),
        webhook_secret_enc=None,
        scope=grant.get("scope"),
    )


def connect_restricted_key(
    session: Session, workspace_id: int, slug: str, key: str, publishable_key: str = ""
) -> StripeConnection:
    """Connect with the merchant's restricted key; their publishable key (pk_) lets the
    hosted card-update page run Stripe.js on their account."""
    key = key.strip()
    publishable_key = publishable_key.strip()
    if not key.startswith(("rk_live_", "rk_test_", "sk_live_", "sk_test_")):
        raise StripeRefused("That is not a Stripe secret or restricted key (rk_...).")
    live = key.startswith(("rk_live_", "sk_live_"))
    if publishable_key and not publishable_key.startswith("pk_live_" if live else "pk_test_"):
        raise StripeRefused(
            "The publishable key must be a pk_live_ key for a live key, pk_test_ for a test key."
        )
    client = stripe_client.key_client(key)
    try:
        account = client.v1.accounts.retrieve_current()
        endpoint = client.v1.webhook_endpoints.create(
            {
                "url": current_app.config["BACKSTOP"].base_url.rstrip("/")
                + f"/webhooks/stripe/{slug}",
                "enabled_events": list(ENDPOINT_EVENTS),
                "description": "Backstop",
            }
        )
    except stripe_client.AuthenticationError:
        raise StripeRefused("Stripe did not accept that key.")
    except stripe_client.StripeError as exc:
        raise StripeRefused(f"Stripe refused: {exc.user_message or exc}")
    return _save(
        session,
        workspace_id,
        mode="restricted_key",
        stripe_account_id=account.id,
        livemode=live,
        secret_enc=encrypt(key),
        webhook_secret_enc=encrypt(endpoint.secret or ""),
        publishable_key=publishable_key or None,
        scope="restricted",
    )


def mark_disconnected(session: Session, connection: StripeConnection, *, reason: str) -> None:
    """Turn the workspace off (no Stripe call): used for deauthorization events too."""
    connection.status = "disconnected"
    connection.disconnected_at = dt.datetime.now(dt.UTC)
    connection.disconnect_reason = reason
    from .processing import DISCONNECTED, notify

    notify(session, connection, DISCONNECTED, {})
    session.flush()


def disconnect(session: Session, connection: StripeConnection) -> None:
    """The merchant disconnects: revoke our access at Stripe, then turn off."""
    settings = current_app.config["BACKSTOP"]
    try:
        if connection.mode == "oauth":
            stripe_client.platform_client().oauth.deauthorize(
                {
                    "client_id": settings.stripe_client_id,
                    "stripe_user_id": connection.stripe_account_id,
                }
            )
        else:
            client = stripe_client.client_for(connection)
            for endpoint in client.v1.webhook_endpoints.list({"limit": 100}).auto_paging_iter():
                if endpoint.url.endswith(f"/webhooks/stripe/{_slug(session, connection)}"):
                    client.v1.webhook_endpoints.delete(endpoint.id)
    except stripe_client.StripeError as exc:  # already revoked at Stripe: still turn off
        log.warning(
            "stripe.disconnect.revoke_failed workspace=%s error=%s", connection.workspace_id, exc
        )
    mark_disconnected(session, connection, reason="merchant")


def _slug(session: Session, connection: StripeConnection) -> str:
    from ..accounts.models import Workspace

    return session.get(Workspace, connection.workspace_id).slug  # type: ignore[union-attr]


def webhook_secret(connection: StripeConnection) -> str | None:
    return decrypt(connection.webhook_secret_enc) if connection.webhook_secret_enc else None


# -- import -----------------------------------------------------------------------------------


def restart_import(session: Session, connection: StripeConnection) -> None:
    """Forget the import's progress and queue its first page (staff re-sync). Flushes."""
    connection.import_status = "pending"
    connection.import_progress = {}
    connection.import_error = None
    session.flush()
    enqueue(session, IMPORT_TASK, connection.id)


def import_summary(progress: dict[str, Any], status: str) -> dict[str, Any]:
    """What the dashboard shows of an import. Stripe's lists have no totals, so a phase
    under way counts as half done: the bar moves without promising a finish time."""
    done = [k for k in IMPORT_ORDER if progress.get(k, {}).get("done")]
    current = next((k for k in IMPORT_ORDER if k not in done), None)
    started = current is not None and progress.get(current, {}).get("count", 0) > 0
    share = (len(done) + (0.5 if started else 0)) / len(IMPORT_ORDER)
    return {
        "status": status,
        "percent": 100 if status == "done" else round(100 * share),
        "phase": None if status == "done" else current,
        "step": None if current is None else IMPORT_ORDER.index(current) + 1,
        "steps": len(IMPORT_ORDER),
        "counts": {k: progress.get(k, {}).get("count", 0) for k in IMPORT_ORDER},
    }


def import_page(session: Session, connection: StripeConnection, *, now: int) -> bool:
    """Import one page of the current object type; True when everything is imported.

    Progress (counts and cursors) is saved with each page, so an interrupted import
    resumes where it stopped."""
    if not connection.is_connected:
        return True
    progress = dict(connection.import_progress or {})
    kind = next((k for k in IMPORT_ORDER if not progress.get(k, {}).get("done")), None)
    if kind is None:
        connection.import_status = "done"
        return True
    connection.import_status = "running"
    state = dict(progress.get(kind) or {"count": 0, "cursor": None, "done": False})
    params: dict[str, Any] = {"limit": current_app.config["BACKSTOP"].import_page_size}
    if state["cursor"]:
        params["starting_after"] = state["cursor"]
    if kind == "subscriptions":
        params["status"] = "all"
    if kind == "invoices":
        days = current_app.config["BACKSTOP"].import_days
        params["created"] = {"gte": now - days * 86400}
    client = stripe_client.client_for(connection)
    page = getattr(client.v1, kind).list(params)
    # The raw JSON, not the SDK's objects: they turn decimal strings into Decimal.
    raw = page.last_response.data["data"] if page.last_response else []
    for obj in raw:
        mirror.upsert(session, connection.workspace_id, obj, now)
    state["count"] += len(page.data)
    state["cursor"] = page.data[-1].id if page.data else state["cursor"]
    state["done"] = not page.has_more
    progress[kind] = state
    connection.import_progress = progress
    if all(progress.get(k, {}).get("done") for k in IMPORT_ORDER):
        connection.import_status = "done"
        from .processing import IMPORTED, notify

        notify(session, connection, IMPORTED, {})
        return True
    return False
