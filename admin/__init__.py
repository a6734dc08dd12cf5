"""The back office: Flask-Admin at ``/admin`` for Backstop's staff.

``support`` staff read everything (no secret is ever shown); ``admin`` staff may also
act: edit workspaces and users, replay Stripe events, re-sync a connection, retry or
stop a recovery campaign. Every action is written to the audit log. ``create_app``
plugs this in through the ``backstop.extensions`` entry point, so ``app/`` never
imports it.
"""

from __future__ import annotations

from flask import Blueprint, Flask
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme

from app.accounts.models import CustomDomain, User, Workspace
from app.audit.models import AuditEntry
from app.events.models import DomainEvent
from app.extensions import db
from app.outbox.models import OutboxMessage, SendDomain, Suppression
from app.portal.models import PortalChange, PortalLink
from app.recovery.models import Campaign, ChargeAttempt, Step
from app.retain.models import CancelSession, RetainFlow, RetainFlowVersion
from app.sms.models import SmsMessage
from app.stripe.models import StripeConnection, StripeEvent
from app.winback.models import WinbackCampaign, WinbackStep

from .access import StaffIndexView
from .campaigns import CampaignView
from .connections import StripeConnectionView
from .domain_events import DomainEventView
from .events import StripeEventView
from .mail import OutboxView, SendDomainView, SuppressionView
from .portal import CustomDomainView, PortalChangeView, PortalLinkView
from .records import AuditLogView, SmsMessageView
from .recovery import ChargeAttemptView, StepView
from .retain import CancelSessionView, RetainFlowView, RetainVersionView
from .users import UserView
from .winback import WinbackCampaignView, WinbackStepView
from .workspaces import WorkspaceView


def init_app(app: Flask) -> Admin:
    # Our templates (``backstop_admin/...``) extend Flask-Admin's; a route-less
    # blueprint puts them on the template path.
    app.register_blueprint(Blueprint("backstop_admin", __name__, template_folder="templates"))
    admin = Admin(
        app,
        name="Backstop back office",
        url="/admin",
        index_view=StaffIndexView(name="Home", url="/admin"),
        theme=Bootstrap4Theme(base_template="backstop_admin/base.html", fluid=True),
    )
    admin.add_view(WorkspaceView(Workspace, db, name="Workspaces", endpoint="workspaces"))
    admin.add_view(UserView(User, db, name="Users", endpoint="users"))
    admin.add_view(
        StripeConnectionView(
            StripeConnection,
            db,
            name="Connections",
            endpoint="stripe_connections",
            url="stripe-connections",
            category="Stripe",
        )
    )
    admin.add_view(
        StripeEventView(
            StripeEvent,
            db,
            name="Events",
            endpoint="stripe_events",
            url="stripe-events",
            category="Stripe",
        )
    )
    for category, view, model, name, endpoint in (
        ("Recovery", CampaignView, Campaign, "Campaigns", "recovery_campaigns"),
        ("Recovery", StepView, Step, "Steps", "recovery_steps"),
        ("Recovery", ChargeAttemptView, ChargeAttempt, "Charge attempts", "recovery_attempts"),
        ("Retain", RetainFlowView, RetainFlow, "Cancel flows", "retain_flows"),
        ("Retain", RetainVersionView, RetainFlowVersion, "Flow versions", "retain_versions"),
        ("Retain", CancelSessionView, CancelSession, "Cancel sessions", "retain_sessions"),
        ("Portal", PortalLinkView, PortalLink, "Portal links", "portal_links"),
        ("Portal", PortalChangeView, PortalChange, "Plan changes", "portal_changes"),
        ("Portal", CustomDomainView, CustomDomain, "Custom domains", "custom_domains"),
        ("Win back", WinbackCampaignView, WinbackCampaign, "Campaigns", "winback_campaigns"),
        ("Win back", WinbackStepView, WinbackStep, "Steps", "winback_steps"),
        ("Mail", OutboxView, OutboxMessage, "Outbox", "outbox"),
        ("Mail", SmsMessageView, SmsMessage, "Texts", "sms_messages"),
        ("Mail", SuppressionView, Suppression, "Suppressions", "email_suppressions"),
        ("Mail", SendDomainView, SendDomain, "Send domains", "send_domains"),
    ):
        admin.add_view(
            view(
                model,
                db,
                name=name,
                endpoint=endpoint,
                url=endpoint.replace("_", "-"),
                category=category,
            )
        )
    admin.add_view(
        DomainEventView(
            DomainEvent, db, name="Domain events", endpoint="domain_events", url="domain-events"
        )
    )
    admin.add_view(
        AuditLogView(AuditEntry, db, name="Audit log", endpoint="audit_log", url="audit-log")
    )
    return admin
