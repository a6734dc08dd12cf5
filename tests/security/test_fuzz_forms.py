"""Every dashboard form, fed hostile input by hypothesis: never a 5xx; a 4xx changes
nothing in the database (row counts and every row of the workspace); anything else is a
normal page or redirect. A dashboard POST added tomorrow fails the coverage test until
it is fuzzed here."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from app.accounts.models import User
from app.extensions import db

from ..app import factories as f
from ..app.forms import csrf_token
from .conftest import Checker
from .fuzz import FUZZ, field_names, forms, mutations, page_forms

#: Dashboard POSTs with input fields (fuzzed at full strength).
FORMS = [
    "workspace.settings",
    "api_keys.create",
    "team.invite",
    "retry_policy.save",
    "retry_policy.save_high_value",
    "retry_policy.save_holdout",
    "retry_policy.replay",
    "emails.save",
    "emails.preview",
    "webhooks.create",
    "webhooks.save",
    "webhooks.state",
    "notifications.create",
    "notifications.save",
    "winback_settings.save",
    "winback_settings.preview",
    "checkout_recovery.save",
    "sms_settings.save",
    "dispute_settings.save",
    "disputes.save_draft",
    "portal_settings.save",
    "portal_settings.set_domain",
    "send_domain.add",
    "languages.save_override",
    "languages.save_default",
    "embed.signature",
    "cancel_embed.save_settings",
    "cancel_flows.create",
    "cancel_flows.add_step",
    "cancel_flows.save_step",
    "cancel_flows.targeting",
    "cancel_flows.weights",
    "cancel_flows.simulate",
    "cancel_flows.preview",
    "dashboard.save_cost",
    "dashboard.compute_ltv",
    "exports.start",
    "exports.monthly_summary",
    "stripe_settings.restricted_key",
    "subject_tests.promote",
    "calls.called",
    "data_privacy.preview_erasure",
    "data_privacy.erase_customer",
    "team.change_role",
    "security.change_password",
    "security.start_two_factor",
    "security.confirm_two_factor",
    "security.disable_two_factor",
    "security.replace_recovery_codes",
    "security.require_two_factor",
]
#: Dashboard POSTs that are buttons (no input but the ids in their URL): a few examples.
BUTTONS = [
    "cancel_flows.approve",
    "cancel_flows.publish",
    "cancel_flows.remove_step",
    "checkout_recovery.pause",
    "checkout_recovery.resume",
    "checkout_recovery.test_send",
    "dashboard.tick_portal",
    "disputes.accept",
    "disputes.submit",
    "embed.rotate",
    "exports.restart",
    "notifications.test",
    "portal_settings.open_for_customer",
    "portal_settings.remove_domain",
    "portal_settings.verify_domain",
    "recovery.pause",
    "recovery.resume",
    "recovery.pause_campaign",
    "recovery.resume_campaign",
    "retry_policy.reset",
    "send_domain.remove",
    "send_domain.verify",
    "sms_settings.test_send",
    "webhooks.resend",
    "webhooks.reveal",
    "webhooks.rotate",
    "webhooks.test",
    "winback.pause",
    "winback.resume",
    "winback_settings.test_send",
    "data_privacy.start_export",
    "team.resend_invitation",
    "security.revoke_session",
    "security.revoke_other_sessions",
    # Last: they take away rows the buttons above act on.
    "api_keys.revoke",
    "team.remove_member",
    "team.revoke_invitation",
    "cancel_flows.archive",
    "notifications.delete",
    "webhooks.delete",
    "stripe_settings.disconnect",
]
#: Surfaces fuzzed elsewhere or not dashboard forms: accounts' own pages (log in, sign
#: up) have their own tests and throttles; machine endpoints are in test_fuzz_json.
NOT_DASHBOARD = ("accounts.", "api.", "api_v1.", "hosted.", "stripe.", "mail_webhooks.")
NOT_DASHBOARD += ("sms_webhooks.",)

#: The dashboard's pages, read once per run: every field name, and each form as filled.
_names: dict[str, set[str]] = {}
_forms: dict[str, dict[str, list[str]]] = {}


def _endpoint_of(app, path: str) -> str | None:
    """The endpoint a form posts to (forms are kept by endpoint: ids differ per test)."""
    try:
        return app.url_map.bind("localhost").match(path, method="POST")[0]
    except HTTPException:
        return None


def _dashboard_posts(app) -> set[str]:
    return {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods
        and not rule.rule.startswith("/admin")
        and not rule.endpoint.startswith(NOT_DASHBOARD)
    }


def test_every_dashboard_post_is_fuzzed(app) -> None:
    missing = _dashboard_posts(app) - set(FORMS) - set(BUTTONS)
    assert not missing, f"add these to FORMS or BUTTONS: {sorted(missing)}"
    assert not (set(FORMS) | set(BUTTONS)) - _dashboard_posts(app)


@pytest.fixture
def bob(web, two_shops):
    """Shop B's owner, signed in: two_shops' ids are all his own."""
    owner = db.session.execute(select(User).where(User.email == "bob@example.com")).scalar_one()
    f.login(web, owner)
    return owner, two_shops


def _url(app, endpoint: str, ids: dict) -> str:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    return rule.build({k: ids[k] for k in rule.arguments})[1]


def _field_names(web, app, ids: dict) -> list[str]:
    """Every field name on the dashboard's pages (read once per run)."""
    if not _names:
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.rule.startswith(("/admin", "/api", "/static")):
                continue
            if rule.endpoint.startswith(NOT_DASHBOARD) or rule.endpoint.endswith(".export"):
                continue
            if rule.arguments - ids.keys():
                continue
            page = web.get(rule.build({k: ids[k] for k in rule.arguments})[1], buffered=True)
            if page.status_code == 200 and page.mimetype == "text/html":
                html = page.get_data(as_text=True)
                _names[rule.endpoint] = field_names(html)
                for action, fields in page_forms(html).items():
                    _forms.setdefault(_endpoint_of(app, action or page.request.path), fields)
    return sorted(set().union(*_names.values()))


#: What a refused form must leave as it was, beside every table's row count.
SETTINGS_TABLES = frozenset(
    {
        "workspace",
        "membership",
        "invitation",
        "api_key",
        "custom_domain",
        "send_domain",
        "recovery_settings",
        "recovery_switch",
        "dunning_settings",
        "winback_settings",
        "sms_settings",
        "dispute",
        "dispute_settings",
        "retain_settings",
        "retain_flow",
        "retain_flow_version",
        "webhook_endpoint",
        "notification_channel",
        "checkout_recovery_settings",
        "language_settings",
        "string_override",
        "insight_settings",
        "insight_export",
        "portal_settings",
    }
)


class Poster(Checker):
    """Posts forms as the signed-in owner, with the session's form token."""

    def __init__(self, web, owner, workspace_id: int) -> None:
        super().__init__(web, workspace_id, SETTINGS_TABLES)
        self.owner = owner
        self.token = csrf_token(web, "/settings/team")

    def post(self, url: str, form: dict) -> None:
        f.login(self.web, self.owner)  # a form may have switched him away or signed him out
        self.send("POST", url, data={**form, "csrf_token": self.token})


@pytest.mark.parametrize("endpoint", FORMS)
def test_forms_survive_hostile_input(web, app, bob, shop_b_id, endpoint) -> None:
    owner, ids = bob
    url = _url(app, endpoint, ids)
    names = _field_names(web, app, ids)

    poster = Poster(web, owner, shop_b_id)

    @FUZZ
    @given(form=mutations(_forms.get(endpoint, {}), names))
    def run(form: dict) -> None:
        poster.post(url, form)

    run()


def test_buttons_survive_hostile_input(web, app, bob, shop_b_id) -> None:
    """One test for all the buttons (they share one set-up): a few examples each."""
    owner, ids = bob
    poster = Poster(web, owner, shop_b_id)

    @settings(FUZZ, max_examples=3)
    @given(form=forms([]) | st.just({}))
    def run(url: str, form: dict) -> None:
        poster.post(url, form)

    for endpoint in BUTTONS:
        run(_url(app, endpoint, ids))
