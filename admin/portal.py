"""The customer portal for staff: customers' portal links (never the token: only its
customer, age and use), plan changes waiting for a renewal, and merchants' custom
domains. Admin staff may revoke links (a customer forwarded theirs) and re-check a
domain's DNS; both are in the audit log."""

from __future__ import annotations

from typing import Any

from flask import flash
from flask_admin.actions import action

from app.accounts import hosts
from app.accounts.models import CustomDomain
from app.extensions import db
from app.models import utcnow
from app.portal.models import PortalLink

from .base import BackstopModelView, as_code, int_ids, status_badge, workspace_link


class PortalLinkView(BackstopModelView):
    tenant_owned = True
    audit_type = "portal_link"
    admin_actions = ("revoke",)
    column_list = (
        "workspace_id",
        "customer_stripe_id",
        "created_at",
        "expires_at",
        "last_opened_at",
        "revoked_at",
    )
    column_details_list = ("id", *column_list)
    column_labels = {"workspace_id": "Workspace", "customer_stripe_id": "Customer"}
    column_filters = ("workspace_id", "customer_stripe_id")
    column_searchable_list = ("customer_stripe_id",)
    column_default_sort = ("id", True)
    column_formatters = {"workspace_id": workspace_link, "customer_stripe_id": as_code}

    @action("revoke", "Revoke", "End the selected portal links now?")
    def action_revoke(self, ids: list[str]) -> None:
        now = utcnow()
        query = self.get_query().filter(PortalLink.id.in_(int_ids(ids)))
        revoked = 0
        for link in query.all():
            if link.revoked_at is None:
                link.revoked_at = now
                self.audit("revoke", link, customer=link.customer_stripe_id)
                revoked += 1
        db.session.commit()
        flash(f"Revoked {revoked} link(s); the customers get new ones next time.", "success")


class PortalChangeView(BackstopModelView):
    tenant_owned = True
    audit_type = "portal_change"
    column_list = (
        "workspace_id",
        "subscription_stripe_id",
        "to_plan_name",
        "due_at",
        "status",
        "outcome",
        "executed_at",
    )
    column_details_list = (
        "id",
        *column_list,
        "customer_stripe_id",
        "from_price_id",
        "to_price_id",
        "test_clock",
        "attempts",
        "outcome_detail",
        "created_at",
    )
    column_labels = {
        "workspace_id": "Workspace",
        "subscription_stripe_id": "Subscription",
        "to_plan_name": "New plan",
    }
    column_filters = ("workspace_id", "status", "outcome")
    column_default_sort = ("id", True)
    column_formatters = {
        "workspace_id": workspace_link,
        "subscription_stripe_id": as_code,
        "status": status_badge,
    }


class CustomDomainView(BackstopModelView):
    tenant_owned = True
    audit_type = "custom_domain"
    admin_actions = ("verify",)
    column_list = ("hostname", "workspace_id", "status", "checked_at", "verified_at", "last_error")
    column_details_list = ("id", *column_list, "created_at")
    column_labels = {"workspace_id": "Workspace"}
    column_filters = ("status", "workspace_id")
    column_searchable_list = ("hostname",)
    column_default_sort = ("id", True)
    column_formatters = {"workspace_id": workspace_link, "status": status_badge}

    def row_title(self, model: Any) -> str:
        return model.hostname

    @action("verify", "Verify DNS", "Look the selected domains' CNAME records up again?")
    def action_verify(self, ids: list[str]) -> None:
        query = self.get_query().filter(CustomDomain.id.in_(int_ids(ids)))
        for domain in query.all():
            hosts.verify(db.session, domain, now=utcnow())
            self.audit("verify", domain, hostname=domain.hostname, status=domain.status)
            flash(f"{domain.hostname}: {domain.status}. {domain.last_error or ''}", "info")
        db.session.commit()
