"""The win-back landing page ``/come-back/<token>``: thin views over
``app.winback.comeback``. One tap restarts the old plan with the card on file; a
decline or a 3-D Secure request continues on the same page with Stripe Elements
(``card_update.js``, which posts to ``/complete``)."""

from __future__ import annotations

from flask import current_app, jsonify, render_template, request, url_for

from app.accounts.models import Workspace
from app.extensions import csrf, db
from app.i18n import format_date, format_money, gettext, ngettext, translated
from app.i18n import use_customer_id as use_customer_language
from app.models import utcnow
from app.stripe import connection as stripe_connection
from app.stripe.client import StripeError
from app.winback import comeback, links
from app.winback.models import WinbackLink

from .dead_ends import DeadEnd
from .hosts import serves
from .merchant import page_brand
from .views import JS_MESSAGES, DeadEndReached, _stripe_js, bp, completion


def _load(token: str) -> tuple[WinbackLink, Workspace]:
    link = links.find(db.session, token)
    workspace = db.session.get(Workspace, link.workspace_id) if link is not None else None
    if link is None or workspace is None or not serves(workspace.id):
        raise DeadEndReached(DeadEnd.UNKNOWN)
    campaign = comeback.campaign_of(db.session, link)
    use_customer_language(workspace, campaign.customer_stripe_id)
    return link, workspace


def _unavailable(workspace: Workspace, status: int = 503):
    return render_template(
        "hosted/winback.html",
        brand=page_brand(db.session, workspace),
        state="unavailable",
        config=None,
    ), status


def _render(
    token: str, workspace: Workspace, link: WinbackLink, page, *, result=None, new_card=False
):
    connection = stripe_connection.connected(db.session, workspace.id)
    context = {
        "brand": page_brand(db.session, workspace),
        "token": token,
        "state": page.state,
        "mode": page.mode,
        "card": page.card,
        "offer": page.offer.describe if page.offer else None,
        "plan": None,
        "ends_at": format_date(page.ends_at) if page.ends_at else None,
        "message": translated(result.message) if result is not None else None,
        "confirm": result is not None and result.state == comeback.REQUIRES_ACTION,
        "show_card_form": False,
        "config": None,
        "link_days": links.LINK_TTL.days,
    }
    if page.price is not None:
        context["plan"] = {
            "name": page.price.name or workspace.name,
            "price": format_money(page.price.amount_minor, page.price.currency),
            "interval": page.price.interval,
            "interval_count": page.price.interval_count,
        }
    if page.state == comeback.FORM and connection is not None:
        js = _stripe_js(connection)
        needs_card = (
            new_card
            or page.card is None
            or (
                result is not None and result.state in (comeback.DECLINED, comeback.REQUIRES_ACTION)
            )
        )
        if needs_card and js["key"]:
            secret = (
                result.client_secret
                if result is not None and result.state == comeback.DECLINED and result.client_secret
                else comeback.setup_secret(connection, link, page.campaign.customer_stripe_id)
            )
            context["show_card_form"] = True
            context["stripe_js"] = current_app.config["BACKSTOP"].stripe_js
            context["config"] = {
                "modal": False,
                "complete": url_for("hosted.winback_complete", token=token),
                "messages": {key: gettext(text) for key, text in JS_MESSAGES.items()},
                "key": js["key"],
                "account": js["account"],
                "clientSecret": secret,
                "confirmSecret": result.client_secret if context["confirm"] else None,
                "color": workspace.brand_color,
            }
    status = 410 if page.state in (comeback.USED, comeback.EXPIRED) else 200
    return render_template("hosted/winback.html", **context), status


@bp.get("/come-back/<token>")
def winback_page(token: str):
    link, workspace = _load(token)
    connection = stripe_connection.connected(db.session, workspace.id)
    if connection is None:
        return _unavailable(workspace)
    try:
        page = comeback.page(db.session, connection, link, now=utcnow())
        new_card = request.args.get("card") == "new"
        response = _render(token, workspace, link, page, new_card=new_card)
    except StripeError:
        db.session.rollback()
        return _unavailable(workspace)
    db.session.commit()
    return response


# The link's token is the authority here, as on the card-update page: a forged POST would
# need the token, and the token is the customer's alone.
@bp.post("/come-back/<token>")
@csrf.exempt
def winback_tap(token: str):
    """The one tap (a plain form: it works without JavaScript)."""
    link, workspace = _load(token)
    connection = stripe_connection.connected(db.session, workspace.id)
    if connection is None:
        return _unavailable(workspace)
    now = utcnow()
    try:
        result = comeback.tap(db.session, connection, link, now=now)
        if result.state in (comeback.BACK, comeback.ALREADY_ACTIVE):
            db.session.commit()
            return _welcome(workspace, result)
        page = comeback.page(db.session, connection, link, now=now)
        response = _render(token, workspace, link, page, result=result)
    except StripeError:
        db.session.rollback()
        return _unavailable(workspace)
    db.session.commit()
    return response


def _welcome(workspace: Workspace, result):
    return render_template(
        "hosted/message.html",
        brand=page_brand(db.session, workspace),
        title=gettext("Welcome back!"),
        text=translated(result.message),
    )


@bp.post("/come-back/<token>/complete")
@csrf.exempt
def winback_complete(token: str):
    """Stripe.js confirmed a new card (``setup_intent``) or the bank the payment."""
    link, workspace = _load(token)
    connection = stripe_connection.connected(db.session, workspace.id)
    unavailable = jsonify(
        state="unavailable",
        message=gettext("We couldn't reach the payment processor. Try again in a moment."),
    )
    if connection is None:
        return unavailable, 503
    setup_intent, refused = completion()
    if refused is not None:
        return refused, 400
    try:
        result = comeback.complete(
            db.session, connection, link, setup_intent_id=setup_intent, now=utcnow()
        )
    except StripeError:
        db.session.rollback()
        return unavailable, 503
    db.session.commit()
    state = "paid" if result.state in (comeback.BACK, comeback.ALREADY_ACTIVE) else result.state
    status = 410 if result.state in (comeback.USED, comeback.EXPIRED) else 200
    return jsonify(
        state=state, message=translated(result.message), client_secret=result.client_secret
    ), status


@bp.post("/come-back/<token>/fresh")
@csrf.exempt
def winback_fresh(token: str):
    """Email a new link (to the address Stripe has) for a used or expired one."""
    now = utcnow()
    link, workspace = _load(token)
    connection = stripe_connection.connected(db.session, workspace.id)
    if links.is_usable(link, now):
        return winback_page(token)
    if connection is None:
        return _unavailable(workspace)
    try:
        sent = comeback.send_fresh_link(db.session, connection, link, now=now)
    except StripeError:
        db.session.rollback()
        return _unavailable(workspace)
    if not sent:
        raise DeadEndReached(DeadEnd.TOO_MANY_LINKS, workspace)
    db.session.commit()
    return render_template(
        "hosted/message.html",
        brand=page_brand(db.session, workspace),
        title=gettext("Check your inbox"),
        text=ngettext(
            "We've emailed you a fresh link to come back. It works for %(num)d day.",
            "We've emailed you a fresh link to come back. It works for %(num)d days.",
            links.LINK_TTL.days,
        ),
    )
