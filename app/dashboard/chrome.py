"""What every dashboard page shares: sign-in, the navigation, one commit per request,
and refusals mapped to HTTP.

Each feature of the dashboard is its own blueprint made by :func:`feature_blueprint`.
Its views load, authorise, call a service and render; they never commit. The request
commits once, after the view, when it is a write (not GET or HEAD) that succeeded (a
status below 400); anything else is rolled back, so a refused or failed request changes
nothing. A :class:`app.errors.Refusal` raised by a service becomes the view's page (set
with :func:`on_refusal`) or a plain error page, at the refusal's status.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import select

from ..accounts.access import can, current_workspace, membership
from ..accounts.models import Membership, Workspace
from ..errors import Refusal
from ..extensions import db
from ..settings import Settings
from ..stripe import connection as connection_service
from .labels import LABELS

NAV = [
    ("dashboard.overview", "Overview"),
    ("recovery.index", "Recovery"),
    ("cancel_flows.index", "Cancel flows"),
    ("winback.index", "Win back"),
    ("checkout_recovery.index", "Checkout recovery"),
    ("disputes.index", "Disputes"),
    ("customers.index", "Customers"),
    ("exports.index", "Exports"),
]
SETTINGS_NAV = [
    ("workspace.settings", "Workspace"),
    ("retry_policy.show", "Retry policy"),
    ("emails.show", "Emails"),
    ("sms_settings.show", "Text messages"),
    ("winback_settings.show", "Win back"),
    ("checkout_recovery.settings_page", "Checkout recovery"),
    ("dispute_settings.show", "Disputes"),
    ("send_domain.show", "Send domain"),
    ("stripe_settings.show", "Stripe"),
    ("embed.show", "Embed"),
    ("portal_settings.show", "Portal"),
    ("webhooks.index", "Webhooks"),
    ("notifications.show", "Notifications"),
    ("languages.show", "Languages"),
    ("team.show", "Team"),
    ("security.show", "Security"),
    ("api_keys.show", "API keys"),
    ("data_privacy.show", "Data & privacy"),
    ("workspace_audit.show", "Audit log"),
]
#: Settings pages viewers may not open (customer details in full): not in their menu.
ADMIN_ONLY_NAV = frozenset({"workspace_audit.show"})
#: Pages that light up another page's tab.
NAV_PARENTS = {"recovery.campaign": "recovery.index", "customers.show": "customers.index"}
NAV_PREFIXES = {"cancel_flows.": "cancel_flows.index", "cancel_embed.": "cancel_flows.index",
                "cancel_analytics.": "cancel_flows.index",
                "disputes.": "disputes.index",
                "webhooks.": "webhooks.index"}  # fmt: skip
PAGE = 50
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: The only POSTs a viewer may make: their own password, sessions and 2FA, and the
#: previews that are POSTs only because they carry a form, and save nothing.
VIEWER_MAY_POST = frozenset(
    {
        "retry_policy.replay",
        "cancel_flows.preview",
        "cancel_flows.simulate",
        "emails.preview",
        "winback_settings.preview",
        "security.change_password",
        "security.revoke_session",
        "security.revoke_other_sessions",
        "security.start_two_factor",
        "security.confirm_two_factor",
        "security.replace_recovery_codes",
        "security.disable_two_factor",
    }
)


def feature_blueprint(name: str, import_name: str) -> Blueprint:
    """A dashboard feature's blueprint: signed in, with the chrome, committed once."""
    bp = Blueprint(name, import_name)
    bp.before_request(_signed_in)
    bp.context_processor(_chrome)
    bp.after_request(_finish)
    bp.register_error_handler(Refusal, _refused)
    return bp


def settings() -> Settings:
    """The app's settings, for views to pass into services."""
    return current_app.config["BACKSTOP"]


def on_refusal(render: Callable[[Refusal], str]) -> None:
    """Render the page with ``render(refusal)`` if a service refuses this request."""
    g.refusal_page = render


def tab_of(endpoint: str | None) -> str | None:
    for prefix, tab in NAV_PREFIXES.items():
        if (endpoint or "").startswith(prefix):
            return tab
    return NAV_PARENTS.get(endpoint or "", endpoint)


@login_required
def _signed_in() -> Response | None:
    found = membership()
    if (
        found.role == "viewer"
        and request.method not in SAFE_METHODS
        and request.endpoint not in VIEWER_MAY_POST
    ):
        # Viewers look; they act only on their own sign-in. One check here, before any
        # view runs, so a new page cannot forget it.
        abort(403)
    if (
        found.workspace.is_two_factor_required
        and not current_user.has_two_factor
        and request.blueprint != "security"
    ):
        # The workspace's owners require 2FA: nothing else until it is on.
        return redirect(url_for("security.show") + "#two-factor")
    return None


def _chrome() -> dict[str, Any]:
    if not current_user.is_authenticated:
        return {}
    workspace = current_workspace()
    others = (
        db.session.execute(
            select(Workspace)
            .join(Membership)
            .where(Membership.user_id == current_user.id, Workspace.id != workspace.id)
        )
        .scalars()
        .all()
    )
    return {
        "workspace": workspace,
        "connection": connection_service.of_workspace(db.session, workspace.id),
        "nav": NAV,
        "settings_nav": SETTINGS_NAV,
        "admin_only_nav": ADMIN_ONLY_NAV,
        "tab": tab_of(request.endpoint),
        "other_workspaces": others,
        "can": can,
        "labels": LABELS,
    }


def _finish(response: Response) -> Response:
    if request.method in SAFE_METHODS or response.status_code >= 400:
        db.session.rollback()
    else:
        db.session.commit()
    return response


def _refused(refusal: Refusal) -> tuple[str, int]:
    db.session.rollback()
    render = g.get("refusal_page")
    if render is not None:
        return render(refusal), refusal.status
    return render_template(
        "dashboard/refused.html", errors=refusal.errors, back=_back_url()
    ), refusal.status


def _back_url() -> str:
    """Where the refused form came from, when that is one of our pages."""
    referrer = request.referrer or ""
    if referrer.startswith(request.host_url):
        return referrer
    return url_for("dashboard.overview")
