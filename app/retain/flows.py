"""Managing cancel flows: make one from a template, edit its draft, publish immutable
versions, approve generous offers, split traffic, archive. Services flush, never commit.

Publishing, approving and archiving are written to the audit log with who did it.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit import services as audit
from ..errors import Conflict, Refusal
from ..models import one_per
from ..tenancy import scoped
from . import definition as flow_definition
from . import policy
from .models import CANCEL_MODES, RetainFlow, RetainFlowVersion, RetainSettings
from .templates import BY_KEY, instantiate

log = logging.getLogger("backstop.retain")


class ApprovalNeeded(Conflict):
    """A version with offers above the workspace's limits waits for an owner."""


def settings_of(session: Session, workspace_id: int) -> RetainSettings:
    return one_per(session, RetainSettings, workspace_id=workspace_id)


def thresholds(settings: RetainSettings) -> policy.Thresholds:
    return policy.Thresholds(
        max_percent_off=settings.max_percent_off,
        max_free_months=settings.max_free_months,
        max_pause_months=settings.max_pause_months,
    )


def update_settings(
    session: Session,
    workspace_id: int,
    *,
    cancel_mode: str,
    max_percent_off: int,
    max_free_months: int,
    max_pause_months: int,
    return_origins: list[str],
) -> RetainSettings:
    if cancel_mode not in CANCEL_MODES:
        raise Refusal("Choose when a cancel takes effect: at the period's end or at once.")
    settings = settings_of(session, workspace_id)
    settings.cancel_mode = cancel_mode
    settings.max_percent_off = max_percent_off
    settings.max_free_months = max_free_months
    settings.max_pause_months = max_pause_months
    settings.return_origins = return_origins
    session.flush()
    return settings


def get(session: Session, workspace_id: int, flow_id: int) -> RetainFlow | None:
    return session.execute(
        scoped(RetainFlow, workspace_id).where(RetainFlow.id == flow_id)
    ).scalar_one_or_none()


def flows_of(session: Session, workspace_id: int, *, archived: bool = False) -> list[RetainFlow]:
    status = "archived" if archived else "active"
    return list(
        session.execute(
            scoped(RetainFlow, workspace_id)
            .where(RetainFlow.status == status)
            .order_by(RetainFlow.id)
        ).scalars()
    )


def versions_of(session: Session, flow: RetainFlow) -> list[RetainFlowVersion]:
    return list(
        session.execute(
            scoped(RetainFlowVersion, flow.workspace_id)
            .where(RetainFlowVersion.flow_id == flow.id)
            .order_by(RetainFlowVersion.number)
        ).scalars()
    )


def reaches_anyone(flow: RetainFlow) -> bool:
    return policy.targets_anyone(
        policy.FlowTarget(flow.id, flow.is_default, tuple(flow.price_ids or ()), flow.share_percent)
    )


def has_published_flow(session: Session, workspace_id: int) -> bool:
    """Whether some customer asking to cancel would get a flow: an active flow with a
    version taking traffic, the default or targeting someone."""
    live = session.execute(
        select(RetainFlow)
        .join(RetainFlowVersion, RetainFlowVersion.flow_id == RetainFlow.id)
        .where(
            RetainFlow.workspace_id == workspace_id,
            RetainFlow.status == "active",
            RetainFlowVersion.weight > 0,
        )
    ).scalars()
    return any(reaches_anyone(flow) for flow in live)


def create_from_template(
    session: Session,
    workspace_id: int,
    template_key: str,
    *,
    actor_id: int | None,
    actor_label: str,
    support_email: str | None,
    name: str | None = None,
) -> RetainFlow:
    """A new flow from a template. The workspace's first flow is its default; a
    template with no call or stories step, complete as it is, publishes v1 at 100 %."""
    template = BY_KEY.get(template_key)
    if template is None:
        raise Refusal("Choose a template.")
    first = not flows_of(session, workspace_id)
    flow = RetainFlow(
        workspace_id=workspace_id,
        name=(name or template.name)[:120],
        template_key=template.key,
        draft=instantiate(template, support_email=support_email),
        is_default=first,
    )
    session.add(flow)
    session.flush()
    needs_approval = policy.approval_reasons(
        [o for _, o in flow_definition.offers(flow.draft)],
        thresholds(settings_of(session, workspace_id)),
    )
    if (
        not template.starts_as_draft
        and not flow_definition.validate(flow.draft)
        and not needs_approval
    ):
        publish(session, flow, actor_id=actor_id, actor_label=actor_label)
    log.info(
        "retain.flow_created workspace=%s flow=%s template=%s", workspace_id, flow.id, template.key
    )
    return flow


def save_draft(
    session: Session, flow: RetainFlow, draft: dict[str, Any]
) -> list[flow_definition.Problem]:
    """Store the draft as it is (a draft may be unfinished); returns what would keep it
    from being published. An edit withdraws an owner's approval of the previous one."""
    if flow.status != "active":
        raise Conflict("This flow is archived; restore it to edit it.")
    if draft != flow.draft:
        flow.draft = draft
        flow.draft_revision += 1
        flow.approved_revision = None
        flow.approved_by_id = None
        flow.approved_at = None
        session.flush()
    return flow_definition.validate(draft)


def approval_reasons(session: Session, flow: RetainFlow) -> list[str]:
    return policy.approval_reasons(
        [o for _, o in flow_definition.offers(flow.draft)],
        thresholds(settings_of(session, flow.workspace_id)),
    )


def is_approved(flow: RetainFlow) -> bool:
    return flow.approved_revision == flow.draft_revision


def approve(
    session: Session,
    flow: RetainFlow,
    *,
    actor_id: int,
    actor_label: str,
    actor_role: str,
    now: dt.datetime,
) -> None:
    """An owner approves the draft as it stands (a later edit needs approving again)."""
    if actor_role != "owner":
        raise Refusal("Only an owner of the workspace can approve these offers.")
    reasons = approval_reasons(session, flow)
    if not reasons:
        raise Conflict("Nothing in this draft needs an approval.")
    flow.approved_revision = flow.draft_revision
    flow.approved_by_id = actor_id
    flow.approved_at = now
    session.flush()
    _audit(
        session,
        flow,
        "approve",
        actor_id,
        actor_label,
        revision=flow.draft_revision,
        reasons=reasons,
    )


def publish(
    session: Session, flow: RetainFlow, *, actor_id: int | None, actor_label: str
) -> RetainFlowVersion:
    """Snapshot the draft as the next version, which takes all of the flow's traffic
    (split it afterwards with :func:`set_weights`)."""
    if flow.status != "active":
        raise Conflict("This flow is archived; restore it to publish it.")
    problems = flow_definition.validate(flow.draft)
    if problems:
        raise Refusal(
            *[p.message if p.step is None else f"{p.step}: {p.message}" for p in problems]
        )
    reasons = approval_reasons(session, flow)
    if reasons and not is_approved(flow):
        raise ApprovalNeeded(f"An owner must approve this draft first: {'; '.join(reasons)}.")
    versions = versions_of(session, flow)
    for old in versions:
        old.weight = 0
    version = RetainFlowVersion(
        workspace_id=flow.workspace_id,
        flow_id=flow.id,
        number=(versions[-1].number + 1) if versions else 1,
        definition=flow.draft,
        weight=100,
        published_by_id=actor_id,
    )
    session.add(version)
    session.flush()
    approved_by = flow.approved_by_id if reasons else None
    _audit(
        session,
        flow,
        "publish",
        actor_id,
        actor_label,
        version=version.number,
        approved_by=approved_by,
    )
    log.info(
        "retain.flow_published workspace=%s flow=%s version=%s",
        flow.workspace_id,
        flow.id,
        version.number,
    )
    return version


def set_weights(session: Session, flow: RetainFlow, weights: dict[int, int]) -> None:
    """Split the flow's traffic across its versions (version number -> percent)."""
    versions = {v.number: v for v in versions_of(session, flow)}
    unknown = set(weights) - set(versions)
    if unknown:
        raise Refusal(f"There is no version {min(unknown)}.")
    full = {number: weights.get(number, 0) for number in versions}
    problem = policy.weights_problem(full)
    if problem:
        raise Refusal(problem)
    for number, version in versions.items():
        version.weight = full[number]
    session.flush()


def set_targeting(
    session: Session,
    flow: RetainFlow,
    *,
    is_default: bool,
    price_ids: list[str],
    share_percent: int,
) -> None:
    if not 1 <= share_percent <= 100:
        raise Refusal("The share of customers is a whole percent from 1 to 100.")
    if is_default:
        for other in flows_of(session, flow.workspace_id):
            other.is_default = other.id == flow.id
    else:
        flow.is_default = False
    flow.price_ids = sorted(set(price_ids))
    flow.share_percent = share_percent
    session.flush()


def archive(
    session: Session, flow: RetainFlow, *, actor_id: int, actor_label: str, now: dt.datetime
) -> None:
    """No customer starts this flow any more (sessions under way finish on their version)."""
    if flow.status == "archived":
        return
    was_default = flow.is_default
    flow.status = "archived"
    flow.archived_at = now
    flow.is_default = False
    if was_default:  # the oldest flow left takes over, so nobody loses their flow
        successor = next(iter(flows_of(session, flow.workspace_id)), None)
        if successor is not None:
            successor.is_default = True
    session.flush()
    _audit(session, flow, "archive", actor_id, actor_label)


def _audit(
    session: Session,
    flow: RetainFlow,
    verb: str,
    actor_id: int | None,
    actor_label: str,
    **details: Any,
) -> None:
    audit.record(
        session,
        actor_id=actor_id,
        actor_label=actor_label,
        action=f"retain.flow.{verb}",
        target_type="retain_flow",
        target_id=str(flow.id),
        workspace_id=flow.workspace_id,
        **details,
    )


def route(
    session: Session, workspace_id: int, *, price_ids: set[str], customer_id: str
) -> RetainFlowVersion | None:
    """The published version a customer on ``price_ids`` sees, or None when the
    workspace has no live flow for them."""
    flows = flows_of(session, workspace_id)
    live: dict[int, list[policy.Arm]] = {}
    versions: dict[int, RetainFlowVersion] = {}
    for flow in flows:
        for version in versions_of(session, flow):
            versions[version.id] = version
            live.setdefault(flow.id, []).append(policy.Arm(version.id, version.weight))
    targets = [
        policy.FlowTarget(f.id, f.is_default, tuple(f.price_ids or ()), f.share_percent)
        for f in flows
        if any(a.weight > 0 for a in live.get(f.id, []))
    ]
    flow_id = policy.choose_flow(targets, price_ids=price_ids, customer_id=customer_id)
    if flow_id is None:
        return None
    version_id = policy.pick_arm(live[flow_id], flow_id=flow_id, customer_id=customer_id)
    return versions.get(version_id) if version_id is not None else None
