"""Customer-facing routes: thin views over ``app.dunning`` and ``app.outbox``."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, jsonify, render_template, request, url_for

from app.accounts.branding import brand
from app.accounts.models import Workspace
from app.dunning import card_update, links
from app.extensions import csrf, db
from app.models import utcnow
from app.outbox import services as outbox
from app.stripe.client import StripeError

from .csp import nonce

bp = Blueprint(
    "hosted",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/hosted/static",
)


@bp.app_context_processor
def _hosted_globals() -> dict:
    return {"csp_nonce": nonce}


def _load(token: str):
    link = links.find(db.session, token)
    if link is None:
        abort(404)
    workspace = db.session.get(Workspace, link.workspace_id)
    return link, workspace


def _stripe_js(connection) -> dict:
    settings = current_app.config["BACKSTOP"]
    if connection.mode == "oauth":
        return {"key": settings.stripe_publishable_key, "account": connection.stripe_account_id}
    return {"key": connection.publishable_key, "account": None}


def _page(token: str, *, wall: bool):
    link, workspace = _load(token)
    if wall != (link.purpose == "wall"):
        abort(404)
    modal = request.args.get("embed") == "modal"
    g.hosted_framable = wall
    connection = card_update.connection_of(db.session, workspace.id)
    state = card_update.page_state(db.session, connection, link, now=utcnow())
    context = {
        "brand": brand(workspace),
        "token": token,
        "state": state,
        "wall": wall,
        "modal": modal,
        "dismissible": wall and link.is_dismissible,
        "amount": card_update.amount_due(db.session, link),
        "can_resend": bool(link.email),
        "settled": link.outcome in ("paid", "already_paid"),
        "pause_days": None,
        "confirm": False,
        "config": {"modal": modal, "complete": url_for("hosted.complete", token=token)},
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
            )
    elif state in (card_update.EXPIRED, card_update.USED):
        status = 410
    db.session.commit()
    return render_template("hosted/card_update.html", **context), status


@bp.get("/update-card/<token>")
def update_card(token: str):
    return _page(token, wall=False)


@bp.get("/wall/<token>")
def payment_wall(token: str):
    return _page(token, wall=True)


# The link's token is the authority on these three, not a session: the wall runs in a
# cross-site iframe, where the SameSite=Lax session cookie (and so a CSRF token) is
# never sent.
@bp.post("/update-card/<token>/complete")
@csrf.exempt
def complete(token: str):
    """Stripe.js confirmed the card (``setup_intent``) or the bank the payment."""
    link, workspace = _load(token)
    connection = card_update.connection_of(db.session, workspace.id)
    if connection is None:
        return jsonify(
            state="unavailable", message="Card updates are not available right now."
        ), 503
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify(state="invalid", message="Send a JSON object."), 400
    setup_intent = body.get("setup_intent")
    if setup_intent is not None and (
        not isinstance(setup_intent, str) or not setup_intent.startswith("seti_")
    ):
        return jsonify(state="invalid", message="setup_intent must be a seti_ id."), 400
    if setup_intent is None and body.get("payment_confirmed") is not True:
        return jsonify(state="invalid", message="Send setup_intent or payment_confirmed."), 400
    try:
        result = card_update.complete(
            db.session, connection, link, setup_intent_id=setup_intent, now=utcnow()
        )
    except StripeError:
        db.session.rollback()
        return jsonify(
            state="unavailable",
            message="We couldn't reach the payment processor. Try again in a moment.",
        ), 503
    db.session.commit()
    status = 410 if result.state in (card_update.USED, card_update.EXPIRED) else 200
    return jsonify(
        state=result.state, message=result.message, client_secret=result.client_secret
    ), status


@bp.post("/update-card/<token>/fresh")
@csrf.exempt
def fresh_link(token: str):
    link, workspace = _load(token)
    sent = card_update.send_fresh_link(db.session, link, now=utcnow())
    db.session.commit()
    return render_template(
        "hosted/message.html",
        brand=brand(workspace),
        title="Check your inbox" if sent else "We couldn't send a new link",
        text=(
            "We've emailed you a fresh link to update your card."
            if sent
            else "We've sent several links in the last hour. Please use the newest one, "
            "or try again later."
        ),
    ), (200 if sent else 429)


@bp.post("/update-card/<token>/pause")
@csrf.exempt
def pause(token: str):
    link, workspace = _load(token)
    connection = card_update.connection_of(db.session, workspace.id)
    if connection is None:
        abort(404)
    paused_until = card_update.pause_instead(db.session, connection, link, now=utcnow())
    db.session.commit()
    if paused_until is None:
        abort(409)
    return render_template(
        "hosted/message.html",
        brand=brand(workspace),
        title="Your subscription is paused",
        text=f"Nothing will be charged until {paused_until:%B %-d, %Y}. "
        "It picks up again by itself then; update your card any time before.",
    )


# -- unsubscribe (RFC 8058) -----------------------------------------------------------------------


def _unsubscriber(token: str) -> tuple[Workspace, str]:
    found = outbox.read_unsubscribe_token(token)
    workspace = db.session.get(Workspace, found[0]) if found else None
    if found is None or workspace is None:
        abort(404)
    return workspace, found[1]


@bp.get("/unsubscribe/<token>")
def unsubscribe_page(token: str):
    workspace, email = _unsubscriber(token)
    done = outbox.suppression_for(db.session, workspace.id, email) is not None
    return render_template(
        "hosted/unsubscribe.html", brand=brand(workspace), email=email, done=done, token=token
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
        "hosted/unsubscribe.html", brand=brand(workspace), email=email, done=True, token=token
    )
