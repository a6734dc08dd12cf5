"""Settings → Send domain: the merchant's own sending domain (SES EasyDKIM): add it, see
the DNS records to create, verify, remove. Thin views over ``app.outbox.domains``."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from emails.domains import DnsRecord

from ..accounts.access import can, current_workspace, require_role
from ..extensions import db
from ..models import utcnow
from ..outbox import domains
from ..outbox import services as outbox
from .chrome import feature_blueprint, on_refusal, settings

bp = feature_blueprint("send_domain", __name__)


@bp.get("/settings/send-domain")
def show():
    return _page()


def _page(errors: list[str] | None = None, typed: str = "") -> str:
    workspace = current_workspace()
    row = outbox.send_domain(db.session, workspace.id)
    return render_template(
        "dashboard/send_domain.html",
        domain=row,
        records=[DnsRecord(**r) for r in (row.records if row else [])],
        errors=errors or [],
        typed=typed,
        shared=outbox.sender_for(db.session, workspace.id, workspace.name).from_addr
        if row is None
        else None,
        editable=can("admin"),
    )


@bp.post("/settings/send-domain")
@require_role("owner", "admin")
def add():
    typed = request.form.get("domain", "")
    on_refusal(lambda exc: _page(exc.errors, typed))
    domains.add(
        db.session,
        current_workspace().id,
        typed,
        from_local=request.form.get("from_local", "billing"),
        client=domains.ses_client(settings()),
        now=utcnow(),
    )
    flash("Domain added. Add the three DNS records below, then verify.", "success")
    return redirect(url_for("send_domain.show"))


@bp.post("/settings/send-domain/verify")
@require_role("owner", "admin")
def verify():
    row = outbox.send_domain(db.session, current_workspace().id)
    if row is None:
        abort(404)
    domains.verify(db.session, row, client=domains.ses_client(settings()), now=utcnow())
    if row.is_verified:
        flash(f"{row.domain} is verified: emails now come from {row.from_address}.", "success")
    else:
        flash(
            row.last_error or "Not verified yet: DNS changes can take a while to show.", "warning"
        )
    return redirect(url_for("send_domain.show"))


@bp.post("/settings/send-domain/remove")
@require_role("owner", "admin")
def remove():
    row = outbox.send_domain(db.session, current_workspace().id)
    if row is None:
        abort(404)
    domains.remove(db.session, row, client=domains.ses_client(settings()))
    flash("Send domain removed: emails come from the shared sender again.", "success")
    return redirect(url_for("send_domain.show"))
