"""Settings → Emails → subject tests: each running A/B test's results beside its touch,
the finished tests below, and promoting a subject (owners and admins; audited)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import flash, redirect, request, url_for
from flask_login import current_user

from ..accounts.access import current_workspace, require_role
from ..dunning import config as dunning_config
from ..dunning import subject_tests
from ..dunning.models import SubjectTest
from ..extensions import db
from ..tenancy import get_or_404
from .chrome import feature_blueprint

bp = feature_blueprint("subject_tests", __name__)


def context(workspace_id: int) -> dict[str, Any]:
    """The page's results: ``running`` by touch, and the ``finished`` tests."""
    return {
        "running": {
            touch: subject_tests.results(db.session, test)
            for touch, test in subject_tests.running(db.session, workspace_id).items()
        },
        "finished": [
            subject_tests.results(db.session, test)
            for test in subject_tests.ended(db.session, workspace_id)
        ],
    }


@bp.post("/settings/emails/subject-tests/<int:test_id>/promote")
@require_role("owner", "admin")
def promote(test_id: int):
    workspace = current_workspace()
    test = get_or_404(SubjectTest, workspace.id, id=test_id)
    arm = request.form.get("arm", "")
    found = subject_tests.promote(
        db.session,
        dunning_config.settings_for(db.session, workspace.id),
        test,
        arm,
        actor_id=current_user.id,
        actor_label=current_user.email,
        now=dt.datetime.now(dt.UTC),
    )
    flash(
        f"Subject {arm.upper()} is now the only subject of {test.touch}. The test ended with "
        f"{found.a[1] + found.b[1]} ended campaigns; its results stay below.",
        "success",
    )
    return redirect(url_for("emails.show") + f"#touch-{test.touch}")
