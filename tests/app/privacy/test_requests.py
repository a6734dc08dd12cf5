"""Workspace exports asked for from a page or the API: one at a time, built once,
a failure recorded on the row (and asking again works)."""

from __future__ import annotations

import datetime as dt

import pytest

from app.errors import Conflict
from app.extensions import db
from app.privacy import requests
from app.privacy.models import WorkspaceExport

from .. import factories as f

NOW = dt.datetime(2026, 5, 10, 12, 0, tzinfo=dt.UTC)


def test_one_at_a_time_until_its_lease_runs_out(ctx) -> None:
    ws = f.workspace()
    first = requests.start(db.session, ws.id, requested_by_id=None, via="api", now=NOW)
    with pytest.raises(Conflict):
        requests.start(db.session, ws.id, requested_by_id=None, via="api", now=NOW)
    later = NOW + requests.LEASE + dt.timedelta(seconds=1)  # its worker never came
    second = requests.start(db.session, ws.id, requested_by_id=None, via="api", now=later)
    assert second.id != first.id
    other = f.workspace()  # another workspace is not held up
    assert requests.start(db.session, other.id, requested_by_id=None, via="api", now=NOW)


def test_built_once_even_if_the_message_comes_twice(ctx) -> None:
    ws = f.workspace()
    row = WorkspaceExport(workspace_id=ws.id, requested_via="api", status="queued")
    db.session.add(row)
    db.session.flush()
    assert (
        requests.build(db.session, row.id, now=lambda: NOW, checkpoint=db.session.flush) == "done"
    )
    assert row.size_bytes > 0 and row.content_zip.startswith(b"PK")
    again = requests.build(db.session, row.id, now=lambda: NOW, checkpoint=db.session.flush)
    assert again is None


def test_a_failed_build_is_recorded(ctx) -> None:
    ws = f.workspace()
    row = WorkspaceExport(workspace_id=ws.id, requested_via="dashboard", status="running")
    db.session.add(row)
    db.session.flush()
    requests.fail(db.session, row.id, "OperationalError: gone", now=NOW)
    assert (row.status, row.error, row.finished_at) == ("failed", "OperationalError: gone", NOW)
    assert requests.start(db.session, ws.id, requested_by_id=None, via="api", now=NOW)
