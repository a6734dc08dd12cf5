"""The portal's billing details, tax ids and card, and the hosted redirect that opens
the portal for merchants without JavaScript (``POST /portal/start``)."""

from __future__ import annotations

from flask import g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest

from app.accounts import hosts
from app.accounts.models import Workspace
from app.api import portal as portal_api
from app.api import wall
from app.api.signing import EmbedSignatureError
from app.extensions import csrf, db, limiter
from app.i18n import translated
from app.models import utcnow
from app.portal import access, actions, details, links, page, policy
from app.portal.settings import config_of

from .dead_ends import DeadEnd
from .hosts import serves
from .merchant import page_brand
from .portal_views import _args, _refused, back, base_context, connection_of, form_guard, load
from .views import DeadEndReached, bp


def _details_page(token: str, link, workspace, *, problem=None, typed=None, status: int = 200):
    now = utcnow()
    connection = connection_of(workspace)
    config = config_of(db.session, workspace.id)
    view = page.build(
        db.session, connection, workspace.id, link.customer_stripe_id, config, now=now
    )
    context = base_context(link, workspace, config)
    context.update(
        view=view,
        customer=view.customer,
        problem={"field": problem.field, "text": translated(str(problem))} if problem else None,
        typed=typed or {},
        tax_id_types=policy.TAX_ID_TYPES,
        back_url=url_for("hosted.portal_page", token=token, **_args()),
    )
    db.session.commit()
    return render_template("hosted/portal_details.html", **context), status


@bp.get("/portal/<token>/details")
def portal_details(token: str):
    link, workspace = load(token)
    return _details_page(token, link, workspace)


def _change_details(token: str, change, done):
    """Run ``change(link, connection, config, nonce)`` for a details form; a field the
    customer got wrong shows the form again with why, and changes nothing."""
    link, workspace = load(token)
    nonce = form_guard(link)
    connection = connection_of(workspace)
    config = config_of(db.session, workspace.id)
    try:
        change(link, connection, config, nonce)
    except policy.DetailsProblem as exc:
        db.session.rollback()
        return _details_page(
            token, link, workspace, problem=exc, typed=request.form.to_dict(), status=400
        )
    except actions.NotAllowed as exc:
        return _refused(token, link, workspace, translated(str(exc)))
    db.session.commit()
    return done()


@bp.post("/portal/<token>/details")
@csrf.exempt  # the form token stands in for the session's (no cookie in the modal)
def portal_details_save(token: str):
    def change(link, connection, config, nonce) -> None:
        form = request.form.to_dict()
        details.update_details(
            db.session, connection, link, form, config, nonce=nonce, now=utcnow()
        )

    return _change_details(token, change, lambda: back(token, "details"))


@bp.post("/portal/<token>/tax-ids")
@csrf.exempt
def portal_tax_id_add(token: str):
    def change(link, connection, config, nonce) -> None:
        kind, value = request.form.get("tax_id_type"), request.form.get("tax_id_value")
        details.add_tax_id(db.session, connection, link, kind, value, config, nonce=nonce)

    return _change_details(
        token,
        change,
        lambda: redirect(url_for("hosted.portal_details", token=token, **_args()), 303),
    )


@bp.post("/portal/<token>/tax-ids/<tax_id>/delete")
@csrf.exempt
def portal_tax_id_remove(token: str, tax_id: str):
    link, workspace = load(token)
    form_guard(link)
    connection = connection_of(workspace)
    config = config_of(db.session, workspace.id)
    view = page.build(
        db.session, connection, workspace.id, link.customer_stripe_id, config, now=utcnow()
    )
    try:
        details.remove_tax_id(db.session, connection, link, tax_id, config, view.tax_ids)
    except actions.NotAllowed as exc:
        return _refused(token, link, workspace, translated(str(exc)))
    db.session.commit()
    return redirect(url_for("hosted.portal_details", token=token, **_args()), 303)


@bp.post("/portal/<token>/card")
@csrf.exempt
def portal_card(token: str):
    """Off to the card-update page (Stripe Elements, 3-D Secure, paying what failed)."""
    link, _workspace = load(token)
    form_guard(link)
    card_token = details.card_link(db.session, link, now=utcnow())
    db.session.commit()
    return redirect(url_for("hosted.update_card", token=card_token, **_args()), 303)


@bp.post("/portal/start")
@csrf.exempt  # a merchant's own form posts here; the signature is the authority
def portal_start():
    """The hosted redirect: a merchant's form (or server) posts the signed request and
    the customer lands on their portal."""
    g.hosted_framable = False
    slug = (request.form.get("workspace") or "").strip()
    customer = (request.form.get("customer") or "").strip()
    if not slug or not customer or len(customer) > 255:
        raise BadRequest(_("workspace and customer are required."))
    try:
        timestamp = int(request.form["timestamp"]) if request.form.get("timestamp") else None
    except ValueError:
        raise BadRequest(_("timestamp must be an integer (epoch seconds)."))
    try:
        workspace = wall.workspace_by_slug(db.session, slug)
    except wall.NotFound:
        raise DeadEndReached(DeadEnd.UNKNOWN)
    try:
        url = portal_api.start(
            db.session,
            workspace,
            customer=customer,
            timestamp=timestamp,
            signature=request.form.get("signature") or None,
            now=utcnow(),
        )
    except (EmbedSignatureError, wall.NotFound) as exc:
        db.session.rollback()
        status = 401 if isinstance(exc, EmbedSignatureError) else 404
        return render_template(
            "hosted/message.html",
            brand=page_brand(db.session, workspace),
            title=_("This billing link isn't valid"),
            text=_("Please go back and try again."),
        ), status
    db.session.commit()
    return redirect(url, 303)


@bp.get("/custom-domains/check")
def custom_domain_check():
    """For a TLS proxy that issues certificates on demand (Caddy's ``ask``): 200 when
    ``domain`` is a merchant's verified custom domain, 404 otherwise."""
    domain = hosts.domain_for_host(db.session, request.args.get("domain", "")[:253])
    if domain is None or not domain.is_verified:
        return "unknown\n", 404, {"Content-Type": "text/plain"}
    return "ok\n", 200, {"Content-Type": "text/plain"}


# -- the link by email -------------------------------------------------------------------------


@bp.post("/portal/<token>/fresh")
@csrf.exempt  # the expired link is the authority; the new one goes to Stripe's address
@limiter.limit("10 per hour")
def portal_fresh(token: str):
    """From an expired link's page: email the customer a new one (to the address Stripe
    has for them, never one typed here)."""
    g.hosted_framable = True
    link = links.find(db.session, token)
    workspace = db.session.get(Workspace, link.workspace_id) if link is not None else None
    if link is None or workspace is None or link.revoked_at is not None:
        raise DeadEndReached(DeadEnd.UNKNOWN)
    if not serves(workspace.id):  # another merchant's link on this custom domain
        raise DeadEndReached(DeadEnd.UNKNOWN)
    sent = access.email_link(db.session, workspace, link.customer_stripe_id, now=utcnow())
    db.session.commit()
    return _inbox(workspace, sent)


def _inbox(workspace: Workspace, sent: bool, *, email: str | None = None):
    if email is not None:
        text = _(
            "If %(email)s belongs to a customer of %(merchant)s, a link to their billing "
            "page is on its way. It works for 90 days.",
            email=email,
            merchant=workspace.name,
        )
    elif sent:
        text = _("We've emailed you a new link to your billing page. It works for 90 days.")
    else:
        text = _(
            "We couldn't send a new link just now. Please open billing again from "
            "%(merchant)s's site or app.",
            merchant=workspace.name,
        )
    return render_template(
        "hosted/portal_message.html",
        brand=page_brand(db.session, workspace),
        portal=config_of(db.session, workspace.id),
        modal=False,
        config={"modal": False},
        title=_("Check your inbox") if sent or email is not None else _("No new link"),
        text=text,
    )


def _login_workspace(slug: str) -> Workspace:
    g.hosted_framable = False
    try:
        workspace = wall.workspace_by_slug(db.session, slug[:63])
    except wall.NotFound:
        raise DeadEndReached(DeadEnd.UNKNOWN)
    if not config_of(db.session, workspace.id).has_login_page or not serves(workspace.id):
        raise DeadEndReached(DeadEnd.UNKNOWN)
    return workspace


@bp.get("/portal/login/<slug>")
def portal_login(slug: str):
    """Where a customer gets their billing link by email, with no login."""
    return _login_page(_login_workspace(slug), slug)


def _login_page(workspace: Workspace, slug: str, problem: str | None = None, status: int = 200):
    return render_template(
        "hosted/portal_login.html",
        brand=page_brand(db.session, workspace),
        portal=config_of(db.session, workspace.id),
        modal=False,
        config={"modal": False},
        slug=slug,
        problem=problem,
    ), status


@bp.post("/portal/login/<slug>")
@csrf.exempt  # nothing here acts for anyone: a link only ever goes to Stripe's address
@limiter.limit("10 per minute; 30 per hour")
def portal_login_send(slug: str):
    workspace = _login_workspace(slug)
    email = (request.form.get("email") or "").strip()
    if not policy.looks_like_email(email):
        problem = _("Enter an email address like name@example.com.")
        return _login_page(workspace, slug, problem, 400)
    access.request_by_email(db.session, workspace, email, now=utcnow())
    db.session.commit()
    return _inbox(workspace, True, email=email)
