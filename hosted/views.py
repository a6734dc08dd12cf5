"""Customer-facing routes: thin views over ``app.dunning`` and ``app.outbox``.

Every dead end (an unknown, spent or wrong link, a campaign that is over) is raised as
:class:`DeadEndReached` and answered in one place: a page with the merchant's brand
and support address (Backstop's own page when no merchant is known), or JSON for the
page's own calls. :mod:`hosted.dead_ends` decides which dead end it is.
"""

from __future__ import annotations

import datetime as dt

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    jsonify,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from sqlalchemy import select

from app.accounts.models import Workspace
from app.dunning import card_update, links
from app.dunning.models import CardUpdateLink
from app.extensions import csrf, db
from app.i18n import (
    N_,
    customer_facing,
    format_date,
    format_money,
    gettext,
    ngettext,
    translated,
    uses_customer,
)
from app.i18n import use_customer_id as use_customer_language
from app.models import utcnow
from app.outbox import services as outbox
from app.recovery.models import Campaign
from app.stripe.client import StripeError

from .csp import nonce
from .dead_ends import (
    PAUSE_OFFER,
    DeadEnd,
    LinkFacts,
    for_fresh_link,
    for_page,
    for_pause,
    offers_fresh_link,
)
from .hosts import serves
from .merchant import BACKSTOP, page_brand

bp = Blueprint(
    "hosted",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/hosted/static",
)
customer_facing(bp)  # every page here is a customer's: in their language


@bp.app_context_processor
def _hosted_globals() -> dict:
    return {"csp_nonce": nonce}


FAVICON = "favicon.svg"
#: What card_update.js may have to say, handed to it translated in the page's config.
JS_MESSAGES = {
    "offline": N_("We couldn't reach the server. Check your connection and try again."),
    "bankRefused": N_("Your bank did not confirm the payment."),
    "declined": N_("Your card was declined."),
    "failed": N_("Something went wrong. Please try again."),
}
#: Endpoints the page calls with fetch: their dead ends are answered in JSON.
JSON_ENDPOINTS = frozenset({"hosted.complete", "hosted.winback_complete"})


class DeadEndReached(Exception):
    """The request reached ``dead_end``; the link's workspace and facts when known."""

    def __init__(
        self,
        dead_end: DeadEnd,
        workspace: Workspace | None = None,
        facts: LinkFacts | None = None,
    ) -> None:
        super().__init__(dead_end.value)
        self.dead_end, self.workspace, self.facts = dead_end, workspace, facts


@bp.errorhandler(DeadEndReached)
def _dead_end(exc: DeadEndReached):
    db.session.rollback()  # a dead end changes nothing
    dead_end = exc.dead_end
    if exc.workspace is not None and not uses_customer():
        use_customer_language(exc.workspace, None)
    if request.endpoint in JSON_ENDPOINTS:
        message = (
            gettext("We couldn't find this link.")
            if dead_end is DeadEnd.UNKNOWN
            else gettext("This link can no longer be used.")
        )
        return jsonify(state=dead_end.value, message=message), dead_end.status
    modal = request.args.get("embed") == "modal"
    known = dead_end.knows_merchant and exc.workspace is not None
    context = {
        "brand": page_brand(db.session, exc.workspace) if known else BACKSTOP,
        "dead_end": dead_end.value if known else DeadEnd.UNKNOWN.value,
        "token": (request.view_args or {}).get("token"),
        "can_resend": exc.facts is not None and offers_fresh_link(dead_end, exc.facts),
        "modal": modal,
        "config": {"modal": True} if modal else None,
    }
    return render_template("hosted/dead_end.html", **context), dead_end.status


def _load(token: str) -> tuple[CardUpdateLink, Workspace]:
    link = links.find(db.session, token)
    workspace = db.session.get(Workspace, link.workspace_id) if link is not None else None
    if link is None or workspace is None or not serves(workspace.id):
        raise DeadEndReached(DeadEnd.UNKNOWN)
    use_customer_language(workspace, link.customer_stripe_id)
    return link, workspace


def _facts(link: CardUpdateLink, now: dt.datetime) -> LinkFacts:
    campaign_state = (
        db.session.execute(
            select(Campaign.state).where(
                Campaign.workspace_id == link.workspace_id, Campaign.id == link.campaign_id
            )
        ).scalar_one_or_none()
        if link.campaign_id is not None
        else None
    )
    return LinkFacts(
        purpose=link.purpose,
        is_used=link.used_at is not None,
        is_expired=links.is_expired(link, now),
        outcome=link.outcome,
        campaign_state=campaign_state,
        has_email=bool(link.email),
    )


def _stripe_js(connection) -> dict:
    settings = current_app.config["BACKSTOP"]
    if connection.mode == "oauth":
        return {"key": settings.stripe_publishable_key, "account": connection.stripe_account_id}
    return {"key": connection.publishable_key, "account": None}


def _page(token: str, *, wall: bool):
    g.hosted_framable = wall  # the wall's dead ends show in the merchant's frame too
    now = utcnow()
    link, workspace = _load(token)
    facts = _facts(link, now)
    dead_end = for_page(facts, wall=wall)
    if dead_end is not None:
        raise DeadEndReached(dead_end, workspace, facts)
    modal = request.args.get("embed") == "modal"
    connection = card_update.connection_of(db.session, workspace.id)
    state = card_update.page_state(db.session, connection, link, now=now)
    due = card_update.amount_due(db.session, link)
    context = {
        "brand": page_brand(db.session, workspace),
        "token": token,
        "state": state,
        "wall": wall,
        "modal": modal,
        "dismissible": wall and link.is_dismissible,
        "amount": format_money(*due) if due else None,
        "pause_days": None,
        "confirm": False,
        "discount": None,
        "config": {
            "modal": modal,
            "complete": url_for("hosted.complete", token=token),
            "messages": {key: gettext(text) for key, text in JS_MESSAGES.items()},
        },
    }
    status = 200
    if state == card_update.FORM:
        js = _stripe_js(connection)
        form = None
        try:
            form = card_update.form_for(db.session, connection, link) if js["key"] else None
        except StripeError:
            status = 503
        if form is None:
            state = context["state"] = card_update.UNAVAILABLE
        else:
            context["config"].update(
                key=js["key"],
                account=js["account"],
                clientSecret=form.setup_secret,
                confirmSecret=form.confirm_secret,
                color=workspace.brand_color,
            )
            context.update(
                stripe_js=current_app.config["BACKSTOP"].stripe_js,
                pause_days=form.pause_days,
                confirm=bool(form.confirm_secret),
                discount=form.discount,
            )
    db.session.commit()
    return render_template("hosted/card_update.html", **context), status


@bp.get("/update-card/<token>")
def update_card(token: str):
    return _page(token, wall=False)


@bp.get("/wall/<token>")
def payment_wall(token: str):
    return _page(token, wall=True)


def completion() -> tuple[str | None, Response | None]:
    """What a page's ``/complete`` call says: the SetupIntent Stripe.js confirmed, or
    None with ``payment_confirmed`` (the bank confirmed the payment); else the 400
    answer to send."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return None, jsonify(state="invalid", message="Send a JSON object.")
    setup_intent = body.get("setup_intent")
    if setup_intent is not None and (
        not isinstance(setup_intent, str) or not setup_intent.startswith("seti_")
    ):
        return None, jsonify(state="invalid", message="setup_intent must be a seti_ id.")
    if setup_intent is None and body.get("payment_confirmed") is not True:
        return None, jsonify(state="invalid", message="Send setup_intent or payment_confirmed.")
    return setup_intent, None


# The link's token is the authority on these three, not a session: the wall runs in a
# cross-site iframe, where the SameSite=Lax session cookie (and so a CSRF token) is
# never sent.
@bp.post("/update-card/<token>/complete")
@csrf.exempt
def complete(token: str):
    """Stripe.js confirmed the card (``setup_intent``) or the bank the payment."""
    link, workspace = _load(token)
    if link.purpose == PAUSE_OFFER:  # a pause link pays nothing: it opens its own page
        raise DeadEndReached(DeadEnd.WRONG_PAGE, workspace)
    connection = card_update.connection_of(db.session, workspace.id)
    if connection is None:
        return jsonify(
            state="unavailable", message=gettext("Card updates are not available right now.")
        ), 503
    setup_intent, refused = completion()
    if refused is not None:
        return refused, 400
    try:
        result = card_update.complete(
            db.session, connection, link, setup_intent_id=setup_intent, now=utcnow()
        )
    except StripeError:
        db.session.rollback()
        return jsonify(
            state="unavailable",
            message=gettext("We couldn't reach the payment processor. Try again in a moment."),
        ), 503
    db.session.commit()
    status = 410 if result.state in (card_update.USED, card_update.EXPIRED) else 200
    return jsonify(
        state=result.state, message=translated(result.message), client_secret=result.client_secret
    ), status


@bp.post("/update-card/<token>/fresh")
@csrf.exempt
def fresh_link(token: str):
    now = utcnow()
    link, workspace = _load(token)
    facts = _facts(link, now)
    refused = for_fresh_link(facts)
    if refused is not None:
        raise DeadEndReached(refused, workspace, facts)
    if not card_update.send_fresh_link(db.session, link, now=now):
        raise DeadEndReached(DeadEnd.TOO_MANY_LINKS, workspace, facts)
    db.session.commit()
    return render_template(
        "hosted/message.html",
        brand=page_brand(db.session, workspace),
        title=gettext("Check your inbox"),
        text=ngettext(
            "We've emailed you a fresh link to update your card. It works for %(num)d day.",
            "We've emailed you a fresh link to update your card. It works for %(num)d days.",
            links.LINK_TTL.days,
        ),
    )


@bp.post("/update-card/<token>/pause")
@csrf.exempt
def pause(token: str):
    now = utcnow()
    link, workspace = _load(token)
    facts = _facts(link, now)
    refused = for_pause(facts)
    if refused is not None:
        raise DeadEndReached(refused, workspace, facts)
    connection = card_update.connection_of(db.session, workspace.id)
    paused_until = (
        card_update.pause_instead(db.session, connection, link, now=now) if connection else None
    )
    if paused_until is None:
        raise DeadEndReached(DeadEnd.NO_PAUSE, workspace, facts)
    db.session.commit()
    return render_template(
        "hosted/message.html",
        brand=page_brand(db.session, workspace),
        title=gettext("Your subscription is paused"),
        text=gettext(
            "Nothing will be charged until %(date)s. It picks up again by itself then; "
            "update your card any time before.",
            date=format_date(paused_until),
        ),
    )


# -- unsubscribe (RFC 8058) -----------------------------------------------------------------------


def _unsubscriber(token: str) -> tuple[Workspace, str]:
    found = outbox.read_unsubscribe_token(token)
    workspace = db.session.get(Workspace, found[0]) if found else None
    if found is None or workspace is None or not serves(workspace.id):
        raise DeadEndReached(DeadEnd.UNKNOWN)
    use_customer_language(workspace, None)  # an address, not a Stripe customer
    return workspace, found[1]


@bp.get("/unsubscribe/<token>")
def unsubscribe_page(token: str):
    workspace, email = _unsubscriber(token)
    done = outbox.suppression_for(db.session, workspace.id, email) is not None
    return render_template(
        "hosted/unsubscribe.html",
        brand=page_brand(db.session, workspace),
        email=email,
        done=done,
        token=token,
    )


@bp.post("/unsubscribe/<token>")
@csrf.exempt  # mail clients POST "List-Unsubscribe=One-Click" with no form token
def unsubscribe(token: str):
    workspace, email = _unsubscriber(token)
    one_click = request.form.get("List-Unsubscribe") == "One-Click"
    outbox.suppress(
        db.session,
        workspace.id,
        email,
        "unsubscribed",
        source="one-click" if one_click else "link",
    )
    db.session.commit()
    if one_click:
        return "", 200
    return render_template(
        "hosted/unsubscribe.html",
        brand=page_brand(db.session, workspace),
        email=email,
        done=True,
        token=token,
    )


# -- the favicon -----------------------------------------------------------------------------------


@bp.get("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for /favicon.ico whatever the page says; every modern one takes SVG.
    The icon is the app's (``app/static``), so the dashboard links the same file."""
    return send_from_directory(
        current_app.static_folder or "", FAVICON, mimetype="image/svg+xml", max_age=86400
    )
