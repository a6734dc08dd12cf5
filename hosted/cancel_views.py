"""The customer's cancel flow: ``/cancel/<token>``, one server-rendered page per step.

The link's token is the authority (the page runs in the merchant's cross-site frame,
where no session cookie, and so no CSRF token, is sent). Every POST answers with a
redirect to the page (so a reload never submits twice) or, when Stripe refused an
offer, the same page with why. "Cancel anyway" is on every step and ends the
subscription in one tap. Dead ends (unknown, used or expired links) are answered by
``hosted.views`` in the merchant's brand.
"""

from __future__ import annotations

from flask import g, redirect, render_template, request, url_for
from werkzeug.exceptions import BadRequest

from app.accounts.models import Workspace
from app.api import cancel as cancel_api
from app.api import wall
from app.api.signing import EmbedSignatureError
from app.errors import Refusal
from app.extensions import csrf, db
from app.i18n import gettext, translated
from app.i18n import use_customer_id as use_customer_language
from app.models import utcnow
from app.retain import outcomes, pages, sessions
from app.retain.models import CancelSession
from app.stripe import clocks
from app.stripe import connection as stripe_connection
from app.stripe.client import StripeError

from .dead_ends import DeadEnd
from .hosts import serves
from .merchant import page_brand
from .views import DeadEndReached, bp

ACTIONS = ("answer", "skip", "feedback", "accept", "cancel")


def _load(token: str, *, for_update: bool = False) -> tuple[CancelSession, Workspace]:
    g.hosted_framable = True  # it opens in the merchant's page (embed.js)
    found = sessions.find(db.session, token, for_update=for_update)
    workspace = db.session.get(Workspace, found.workspace_id) if found is not None else None
    if found is None or workspace is None or not serves(workspace.id):
        raise DeadEndReached(DeadEnd.UNKNOWN)
    try:
        sessions.definition_of(db.session, found)
    except sessions.NotFound:  # its flow was deleted since the link was made
        raise DeadEndReached(DeadEnd.CANCEL_EXPIRED, workspace) from None
    use_customer_language(workspace, found.customer_stripe_id)
    return found, workspace


def _modal() -> bool:
    return request.args.get("embed") == "modal"


def _here(token: str):
    return redirect(
        url_for("hosted.cancel_page", token=token, **({"embed": "modal"} if _modal() else {})), 303
    )


def _render(
    token: str,
    cancel_session: CancelSession,
    workspace: Workspace,
    *,
    error: str | None = None,
    status: int = 200,
):
    now = utcnow()
    connection = stripe_connection.of_workspace(db.session, workspace.id)
    definition = sessions.definition_of(db.session, cancel_session)
    context = {
        "brand": page_brand(db.session, workspace),
        "token": token,
        "modal": _modal(),
        "simulation": cancel_session.is_simulation,
        "config": {"modal": _modal()},
        "error": error,
    }
    if cancel_session.outcome is not None:
        if cancel_session.outcome == "abandoned":
            raise DeadEndReached(DeadEnd.CANCEL_EXPIRED, workspace)
        title, text = pages.outcome_copy(definition, cancel_session)
        context.update(
            outcome=cancel_session.outcome,
            title=title,
            text=text,
            offer_url=(cancel_session.offer or {}).get("url"),
            return_url=_return_url(cancel_session),
        )
        db.session.commit()
        return render_template("hosted/cancel_done.html", **context), status
    if now >= cancel_session.expires_at:
        raise DeadEndReached(DeadEnd.CANCEL_EXPIRED, workspace)
    step = sessions.current(db.session, cancel_session, now=now)
    at = clocks.now_for(db.session, workspace.id, cancel_session.test_clock, now)
    view = pages.step_view(connection, cancel_session, step, at=at)
    confirm = pages.filled(sessions.confirm_of(definition), view.values)
    keep_url = cancel_session.return_url or context["brand"].get("website_url")
    context.update(view=view, step=view.step, confirm=confirm, keep_url=keep_url)
    db.session.commit()
    return render_template("hosted/cancel_step.html", **context), status


def _return_url(cancel_session: CancelSession) -> str | None:
    if not cancel_session.return_url:
        return None
    joiner = "&" if "?" in cancel_session.return_url else "?"
    return f"{cancel_session.return_url}{joiner}backstop_outcome={cancel_session.outcome}"


@bp.get("/cancel/<token>")
def cancel_page(token: str):
    cancel_session, workspace = _load(token)
    return _render(token, cancel_session, workspace)


@bp.post("/cancel/<token>")
@csrf.exempt
def cancel_action(token: str):
    now = utcnow()
    cancel_session, workspace = _load(token, for_update=True)
    action, step_id = request.form.get("action"), request.form.get("step", "")
    if action not in ACTIONS:
        raise BadRequest("Unknown action.")
    connection = stripe_connection.of_workspace(db.session, workspace.id)
    try:
        if action == "answer":
            sessions.answer(
                db.session,
                cancel_session,
                step_id,
                request.form.get("reason", ""),
                request.form.get("reason_text"),
                now=now,
            )
        elif action == "skip":
            sessions.skip(db.session, cancel_session, step_id, now=now)
        elif action == "feedback":
            sessions.give_feedback(
                db.session, cancel_session, step_id, request.form.get("feedback", ""), now=now
            )
        elif action == "accept":
            outcomes.accept(db.session, connection, cancel_session, step_id, now=now)
        else:
            outcomes.cancel(db.session, connection, cancel_session, now=now)
    except sessions.AlreadyDecided:
        db.session.rollback()
        return _here(token)
    except sessions.OfferFailed as exc:
        db.session.commit()  # keeps why on the session; nothing was applied
        cancel_session, workspace = _load(token)
        return _render(token, cancel_session, workspace, error=translated(str(exc)), status=409)
    except Refusal as exc:
        db.session.rollback()
        cancel_session, workspace = _load(token)
        error = "; ".join(translated(e) for e in exc.errors)
        return _render(token, cancel_session, workspace, error=error, status=exc.status)
    except StripeError:
        db.session.rollback()
        cancel_session, workspace = _load(token)
        message = gettext(
            "We couldn't reach the payment processor. Nothing has changed; please try again."
        )
        return _render(token, cancel_session, workspace, error=message, status=503)
    db.session.commit()
    return _here(token)


@bp.post("/cancel/start")
@csrf.exempt
def cancel_start():
    """The hosted redirect: a merchant's form (or server) posts the signed request and the
    customer lands on the flow, coming back to ``return_url`` when done."""
    g.hosted_framable = False
    form = request.form
    fields = {
        name: (form.get(name) or "").strip() for name in ("workspace", "customer", "subscription")
    }
    if not all(fields.values()):
        raise BadRequest("workspace, customer and subscription are required.")
    try:
        timestamp = int(form["timestamp"]) if form.get("timestamp") else None
    except ValueError:
        raise BadRequest("timestamp must be an integer (epoch seconds).")
    try:
        workspace = wall.workspace_by_slug(db.session, fields["workspace"])
    except wall.NotFound:
        raise DeadEndReached(DeadEnd.UNKNOWN)
    use_customer_language(workspace, fields["customer"])
    try:
        started = cancel_api.start(
            db.session,
            workspace,
            customer=fields["customer"],
            subscription=fields["subscription"],
            timestamp=timestamp,
            signature=form.get("signature") or None,
            return_url=form.get("return_url") or None,
            now=utcnow(),
        )
    except (EmbedSignatureError, cancel_api.BadReturnUrl) as exc:
        db.session.rollback()
        return _refused(
            workspace,
            gettext("This cancel link isn't valid"),
            str(exc),
            401 if isinstance(exc, EmbedSignatureError) else 400,
        )
    except sessions.NotFound as exc:
        db.session.rollback()
        return _refused(workspace, gettext("We couldn't find this subscription"), str(exc), 404)
    except sessions.AlreadyDecided as exc:
        db.session.rollback()
        return _refused(workspace, gettext("This cancel link was already used"), str(exc), 410)
    db.session.commit()
    return redirect(started.url, 303)


def _refused(workspace: Workspace, title: str, reason: str, status: int):
    # The reason is for the merchant's developers (a signature, a parameter): as written.
    reason = f"{reason[:1].upper()}{reason[1:]}"
    text = gettext("Please go back and try again. (%(reason)s.)", reason=reason)
    return render_template(
        "hosted/message.html", brand=page_brand(db.session, workspace), title=title, text=text
    ), status
