"""Settings → API keys: owners and admins make keys (the secret is shown once, on the
page that answers the form) and revoke them; viewers see the list only. Audited."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from ..accounts import api_keys
from ..accounts.access import current_workspace, require_role
from ..accounts.forms import ApiKeyForm
from ..accounts.models import ApiKey
from ..audit import services as audit
from ..extensions import db
from ..models import utcnow
from ..tenancy import get_or_404
from .chrome import feature_blueprint, on_refusal, settings

bp = feature_blueprint("api_keys", __name__)


def _page(form: ApiKeyForm, *, new_key: ApiKey | None = None, secret: str | None = None) -> str:
    workspace = current_workspace()
    base = settings().base_url.rstrip("/")
    return render_template(
        "dashboard/api_keys.html",
        form=form,
        keys=api_keys.listing(db.session, workspace.id),
        new_key=new_key,
        secret=secret,
        api_base=f"{base}/api/v1",
    )


def _audit(action: str, key: ApiKey) -> None:
    audit.record(
        db.session,
        actor_id=current_user.id,
        actor_label=current_user.email,
        action=action,
        target_type="api_key",
        target_id=str(key.id),
        workspace_id=key.workspace_id,
        name=key.name,
        prefix=key.prefix,
        scope=key.scope,
    )


@bp.get("/settings/api-keys")
def show():
    return _page(ApiKeyForm())


@bp.post("/settings/api-keys")
@require_role("owner", "admin")
def create():
    form = ApiKeyForm()
    if not form.validate_on_submit():
        return _page(form), 400

    def refused(exc):
        form.name.errors = list(exc.errors)
        return _page(form)

    on_refusal(refused)
    key, secret = api_keys.create(
        db.session,
        current_workspace().id,
        name=form.name.data,
        scope=form.scope.data,
        created_by_id=current_user.id,
    )
    _audit("api_key.create", key)
    # The one time the secret is shown: on this page, never in a flash or a redirect.
    return _page(ApiKeyForm(formdata=None), new_key=key, secret=secret), 201


@bp.post("/settings/api-keys/<int:key_id>/revoke")
@require_role("owner", "admin")
def revoke(key_id: int):
    key = get_or_404(ApiKey, current_workspace().id, id=key_id)
    on_refusal(lambda exc: _page(ApiKeyForm()))
    api_keys.revoke(db.session, key, now=utcnow())
    _audit("api_key.revoke", key)
    flash(f"Key “{key.name}” revoked: requests with it are refused from now on.", "success")
    return redirect(url_for("api_keys.show"))
