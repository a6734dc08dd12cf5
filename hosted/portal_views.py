"""The customer portal: ``/portal/<token>``, every subscription of the customer and what
they may do with it, their invoices and billing details, in the merchant's brand.

The link's token is the authority (the portal opens in the merchant's cross-site
modal, where no session cookie is sent); every form also carries a token signed for
this link (``form_token``, our CSRF token without a cookie) and a nonce, which makes
the Stripe change's idempotency key: a double tap changes Stripe once. Every POST
answers with a redirect back to the page and a notice (a reload never submits twice).
"""

from __future__ import annotations

import secrets

from flask import current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest

from app.accounts.models import Workspace
from app.extensions import csrf, db
from app.i18n import translated, use_customer
from app.models import utcnow
from app.portal import actions, leaving, links, page, policy, sync
from app.portal.models import PortalLink
from app.portal.settings import PortalConfig, config_of
from app.stripe import connection as stripe_connection
from app.stripe.client import StripeError
from app.stripe.models import MirrorCustomer, StripeConnection
from app.tenancy import scoped

from .dead_ends import DeadEnd
from .hosts import serves
from .merchant import BACKSTOP, page_brand
from .views import DeadEndReached, bp

#: The notices a POST's redirect can ask the page to show (never free text in a URL).
NOTICES = frozenset(
    {
        "switched",
        "switch_scheduled",
        "quantity",
        "kept_plan",
        "paused",
        "resumed",
        "renewed",
        "cancelled",
        "details",
        "tax_id_added",
        "tax_id_removed",
        "card",
    }
)


class PortalExpired(Exception):
    def __init__(self, link: PortalLink, workspace: Workspace) -> None:
        super().__init__("expired")
        self.link, self.workspace = link, workspace


@bp.errorhandler(PortalExpired)
def _expired(exc: PortalExpired):
    db.session.rollback()
    token = (request.view_args or {}).get("token", "")
    return render_template(
        "hosted/portal_message.html",
        brand=page_brand(db.session, exc.workspace),
        portal=config_of(db.session, exc.workspace.id),
        modal=_modal(),
        config={"modal": _modal()},
        title=_("This link has expired"),
        text=_(
            "For your security, billing links work for 90 days. Open billing again "
            "from %(merchant)s's site or app, or we can email you a new link.",
            merchant=exc.workspace.name,
        ),
        fresh_url=url_for("hosted.portal_fresh", token=token, **_args()) if token else None,
    ), 410


def _modal() -> bool:
    return request.args.get("embed") == "modal"


def _args(**extra: str) -> dict[str, str]:
    return {**({"embed": "modal"} if _modal() else {}), **extra}


def load(token: str) -> tuple[PortalLink, Workspace]:
    """The link and its workspace, or the dead end (unknown) / expired page."""
    g.hosted_framable = True  # Backstop.portal opens it in the merchant's modal
    link = links.find(db.session, token)
    workspace = db.session.get(Workspace, link.workspace_id) if link is not None else None
    if link is None or workspace is None or not serves(workspace.id):
        raise DeadEndReached(DeadEnd.UNKNOWN)
    if not links.is_usable(link, utcnow()):
        raise PortalExpired(link, workspace)
    customer = db.session.execute(
        scoped(MirrorCustomer, workspace.id).where(
            MirrorCustomer.stripe_id == link.customer_stripe_id
        )
    ).scalar_one_or_none()
    use_customer(workspace, customer.data if customer is not None else None)
    return link, workspace


def connection_of(workspace: Workspace) -> StripeConnection:
    connection = stripe_connection.connected(db.session, workspace.id)
    if connection is None:
        raise PortalUnavailable()
    return connection


class PortalUnavailable(Exception):
    """Stripe is disconnected or unreachable: the page says so, nothing changed."""


@bp.errorhandler(PortalUnavailable)
@bp.errorhandler(StripeError)
def _unavailable(exc: Exception):
    """Stripe out of reach on a customer page (the pages that can say more catch it
    themselves): a 503 that says nothing changed, never a 500 or a wrong dead end."""
    db.session.rollback()
    portal = (request.endpoint or "").startswith("hosted.portal")
    token = (request.view_args or {}).get("token") if portal else None
    link = links.find(db.session, token) if token else None
    workspace = db.session.get(Workspace, link.workspace_id) if link else None
    if workspace is None:
        current_app.logger.warning("hosted.unavailable endpoint=%s error=%r", request.endpoint, exc)
        return render_template(
            "hosted/message.html",
            brand=BACKSTOP,
            title=_("Billing is unavailable right now"),
            text=_(
                "We couldn't reach the payment processor. Nothing has changed; "
                "please try again in a few minutes."
            ),
        ), 503
    current_app.logger.warning("portal.unavailable workspace=%s error=%r", workspace.id, exc)
    return render_template(
        "hosted/portal_message.html",
        brand=page_brand(db.session, workspace),
        portal=config_of(db.session, workspace.id),
        modal=_modal(),
        config={"modal": _modal()},
        title=_("Billing is unavailable right now"),
        text=_(
            "We couldn't reach the payment processor. Nothing has changed; "
            "please try again in a few minutes."
        ),
        back_url=url_for("hosted.portal_page", token=token, **_args()) if token else None,
    ), 503


def form_guard(link: PortalLink) -> str:
    """The form's nonce, after checking the form was served for this link."""
    secret = current_app.config["SECRET_KEY"]
    if not policy.form_token_ok(secret, link.id, link.token_hash, request.form.get("form_token")):
        raise BadRequest(_("This form has expired. Please reload the page and try again."))
    nonce = request.form.get("nonce", "")
    if not (8 <= len(nonce) <= 64) or not nonce.replace("-", "").replace("_", "").isalnum():
        raise BadRequest(_("This form has expired. Please reload the page and try again."))
    return nonce


def form_fields(link: PortalLink) -> dict[str, str]:
    return {
        "form_token": policy.form_token(current_app.config["SECRET_KEY"], link.id, link.token_hash),
        "nonce": secrets.token_urlsafe(16),
    }


def back(token: str, notice: str | None = None, **extra: str):
    args = _args(**extra)
    if notice in NOTICES:
        args["notice"] = notice
    return redirect(url_for("hosted.portal_page", token=token, **args) + "#top", 303)


def base_context(link: PortalLink, workspace: Workspace, config: PortalConfig) -> dict:
    return {
        "brand": page_brand(db.session, workspace),
        "portal": config,
        "token": request.view_args["token"] if request.view_args else "",
        "modal": _modal(),
        "config": {"modal": _modal()},
        "form": form_fields(link),
        "embed_args": _args(),
    }


@bp.get("/portal/<token>")
def portal_page(token: str):
    now = utcnow()
    link, workspace = load(token)
    connection = connection_of(workspace)
    config = config_of(db.session, workspace.id)
    back_from_flow = request.args.get("backstop_outcome")
    if back_from_flow in ("saved", "cancelled"):
        # Back from the cancel flow, which changed the subscription on Stripe: read it
        # again rather than wait for the webhook.
        sync.refresh_customer(
            db.session, connection, workspace.id, link.customer_stripe_id, now=now
        )
    view = page.build(
        db.session,
        connection,
        workspace.id,
        link.customer_stripe_id,
        config,
        now=now,
        all_invoices=request.args.get("invoices") == "all",
    )
    link.last_opened_at = now
    context = base_context(link, workspace, config)
    notice = request.args.get("notice") or {"cancelled": "cancelled"}.get(back_from_flow or "")
    if notice in NOTICES:
        context["config"]["changed"] = True  # closing the modal now counts as an update
    context.update(
        view=view,
        notice=notice if notice in NOTICES else None,
        ends_at_period_end=leaving.ends_at_period_end(db.session, workspace.id),
    )
    db.session.commit()
    return render_template("hosted/portal.html", **context)


# -- a subscription's actions ---------------------------------------------------------------------


def _target(link: PortalLink, subscription_id: str) -> actions.Target:
    return actions.target(db.session, link, subscription_id, now=utcnow())


def _refused(token: str, link: PortalLink, workspace: Workspace, message: str, status: int = 409):
    db.session.rollback()
    config = config_of(db.session, workspace.id)
    context = base_context(link, workspace, config)
    context.update(
        title=_("That didn't work"),
        text=message,
        back_url=url_for("hosted.portal_page", token=token, **_args()),
    )
    return render_template("hosted/portal_message.html", **context), status


@bp.get("/portal/<token>/subscriptions/<subscription_id>/switch")
def portal_switch_preview(token: str, subscription_id: str):
    link, workspace = load(token)
    connection = connection_of(workspace)
    config = config_of(db.session, workspace.id)
    price_id = request.args.get("price", "")
    try:
        target = _target(link, subscription_id)
        prices = _prices(connection, workspace, config)
        plan = actions.plan_switch(connection, target, price_id, config, prices)
    except actions.NotAllowed as exc:
        return _refused(token, link, workspace, translated(str(exc)))
    context = base_context(link, workspace, config)
    context.update(subscription=target.sub, plan=plan, price_id=price_id)
    db.session.commit()
    return render_template("hosted/portal_switch.html", **context)


@bp.get("/portal/<token>/subscriptions/<subscription_id>/quantity")
def portal_quantity_preview(token: str, subscription_id: str):
    link, workspace = load(token)
    connection = connection_of(workspace)
    config = config_of(db.session, workspace.id)
    quantity = request.args.get("quantity", "")
    try:
        if not quantity.isdigit():
            raise actions.NotAllowed(_("Enter a number of seats."))
        target = _target(link, subscription_id)
        plan = actions.plan_quantity(connection, target, int(quantity), config)
    except actions.NotAllowed as exc:
        return _refused(token, link, workspace, translated(str(exc)))
    context = base_context(link, workspace, config)
    context.update(subscription=target.sub, plan=plan)
    db.session.commit()
    return render_template("hosted/portal_quantity.html", **context)


def _prices(connection: StripeConnection, workspace: Workspace, config: PortalConfig) -> dict:
    return page.prices_for(
        db.session, connection, workspace.id, list(config.switch_price_ids), now=utcnow()
    )


@bp.post("/portal/<token>/subscriptions/<subscription_id>/<action>")
@csrf.exempt  # the form token stands in for the session's (no cookie in the modal)
def portal_subscription_action(token: str, subscription_id: str, action: str):
    now = utcnow()
    link, workspace = load(token)
    nonce = form_guard(link)
    connection = connection_of(workspace)
    config = config_of(db.session, workspace.id)
    session = db.session
    try:
        target = _target(link, subscription_id)
        if action == "switch":
            prices = _prices(connection, workspace, config)
            plan = actions.switch(
                session,
                connection,
                link,
                target,
                request.form.get("price", ""),
                config,
                prices,
                nonce=nonce,
                now=now,
            )
            notice = "switched" if plan.now else "switch_scheduled"
        elif action == "quantity":
            quantity = request.form.get("quantity", "")
            if not quantity.isdigit():
                raise actions.NotAllowed(_("Enter a number of seats."))
            actions.change_quantity(
                session, connection, link, target, int(quantity), config, nonce=nonce, now=now
            )
            notice = "quantity"
        elif action == "keep-plan":
            actions.keep_current_plan(session, link, target)
            notice = "kept_plan"
        elif action == "pause":
            months = request.form.get("months", "")
            if not months.isdigit():
                raise actions.NotAllowed(_("Choose how long to pause for."))
            actions.pause(
                session, connection, link, target, int(months), config, nonce=nonce, now=now
            )
            notice = "paused"
        elif action == "resume":
            actions.resume(session, connection, link, target, nonce=nonce, now=now)
            notice = "resumed"
        elif action == "renew":
            actions.renew(session, connection, link, target, nonce=nonce, now=now)
            notice = "renewed"
        elif action == "cancel":
            return _cancel(token, link, workspace, connection, target, config, nonce)
        else:
            raise BadRequest(_("Unknown action."))
    except actions.NotAllowed as exc:
        return _refused(token, link, workspace, translated(str(exc)))
    session.commit()
    return back(token, notice)


def _cancel(
    token: str,
    link: PortalLink,
    workspace: Workspace,
    connection: StripeConnection,
    target: actions.Target,
    config: PortalConfig,
    nonce: str,
):
    """Cancel: into the cancel flow when one is published, else the plain cancel."""
    now = utcnow()
    if request.form.get("confirm") != "yes":
        back_url = url_for("hosted.portal_page", token=token, _external=False, **_args())
        started = leaving.start_flow(
            db.session,
            connection,
            link,
            target,
            config,
            back_url=links.url(db.session, workspace.id, token)
            + ("?embed=modal" if _modal() else ""),
            now=now,
        )
        if started is not None:
            db.session.commit()
            return redirect(url_for("hosted.cancel_page", token=started, **_args()), 303)
        context = base_context(link, workspace, config)
        context.update(
            subscription=target.sub,
            at_period_end=leaving.ends_at_period_end(db.session, workspace.id),
            back_url=back_url,
        )
        db.session.commit()
        return render_template("hosted/portal_cancel.html", **context)
    leaving.cancel(db.session, connection, link, target, config, nonce=nonce, now=now)
    db.session.commit()
    return back(token, "cancelled")
