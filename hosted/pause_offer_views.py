"""The pause offer's page: ``/pause-offer/<token>``, from the email that follows the
last reminder. It says what a pause means (the plan, when it picks up again, the unpaid
invoice forgiven) and takes it in one tap; "Update my card instead" opens the card page.

Opened from an email in the customer's own browser (never framed), so the form carries
the session's CSRF token like the dashboard's; the link is spent by the first pause and
Stripe's changes carry idempotency keys from it, so a double tap pauses once.
"""

from __future__ import annotations

from flask import redirect, render_template

from app.dunning import pausing
from app.extensions import db
from app.i18n import format_date, format_money, gettext
from app.models import utcnow
from app.stripe.client import StripeError

from .dead_ends import DeadEnd, for_pause_offer
from .merchant import page_brand
from .views import DeadEndReached, _facts, _load, bp, card_update

#: What the service's answer means for the page when there is no offer to show.
DEAD_ENDS = {
    pausing.NO_PAUSE: DeadEnd.NO_PAUSE,
    pausing.CLOSED: DeadEnd.CLOSED,
    pausing.USED: DeadEnd.USED,
    pausing.EXPIRED: DeadEnd.EXPIRED,
}


def _open(token: str):
    now = utcnow()
    link, workspace = _load(token)
    facts = _facts(link, now)
    dead_end = for_pause_offer(facts)
    if dead_end is not None:
        raise DeadEndReached(dead_end, workspace, facts)
    return link, workspace, facts, now


def _render(workspace, offer: pausing.Offer, token: str):
    context = {
        "brand": page_brand(db.session, workspace),
        "token": token,
        "state": offer.state,
        "plan": offer.plan_name or workspace.name,
        "pause_days": offer.pause_days,
        "resumes_on": format_date(offer.resumes_at) if offer.resumes_at else None,
        "amount": format_money(*offer.amount) if offer.amount else None,
    }
    return render_template("hosted/pause_offer.html", **context)


def _unavailable(workspace):
    db.session.rollback()
    return render_template(
        "hosted/message.html",
        brand=page_brand(db.session, workspace),
        title=gettext("A pause isn't available right now"),
        text=gettext(
            "We couldn't reach the payment processor. Nothing has changed; try again in a moment."
        ),
    ), 503


def _answer(workspace, facts, offer: pausing.Offer, token: str):
    if offer.state in DEAD_ENDS:
        raise DeadEndReached(DEAD_ENDS[offer.state], workspace, facts)
    db.session.commit()
    return _render(workspace, offer, token)


@bp.get("/pause-offer/<token>")
def pause_offer(token: str):
    link, workspace, facts, now = _open(token)
    connection = card_update.connection_of(db.session, workspace.id)
    if connection is None:
        raise DeadEndReached(DeadEnd.NO_PAUSE, workspace, facts)
    try:
        offer = pausing.offer_for(db.session, connection, link, now=now)
    except StripeError:
        return _unavailable(workspace)
    return _answer(workspace, facts, offer, token)


@bp.post("/pause-offer/<token>")
def take_pause(token: str):
    """ "Pause my subscription" (the form's CSRF token is checked before this runs)."""
    link, workspace, facts, now = _open(token)
    connection = card_update.connection_of(db.session, workspace.id)
    if connection is None:
        raise DeadEndReached(DeadEnd.NO_PAUSE, workspace, facts)
    try:
        offer = pausing.accept(db.session, connection, link, now=now)
    except StripeError:
        return _unavailable(workspace)
    if offer.state in (pausing.USED, pausing.EXPIRED):  # another tap won the race
        facts = _facts(link, now)
        raise DeadEndReached(for_pause_offer(facts) or DeadEnd.USED, workspace, facts)
    return _answer(workspace, facts, offer, token)


@bp.get("/pause-offer/<token>/card")
def pause_offer_card(token: str):
    """ "Update my card instead": a card-update link for the same campaign."""
    link, workspace, facts, now = _open(token)
    url = pausing.card_link(db.session, link, now=now)
    if url is None:
        raise DeadEndReached(DeadEnd.TOO_MANY_LINKS, workspace, facts)
    db.session.commit()
    return redirect(url, 303)
