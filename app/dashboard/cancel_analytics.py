"""Cancel flows → Results: how many customers each flow, version, reason and offer kept,
the MRR that is, the customers' own words, and who cancelled outside Backstop; CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io

from flask import Response, render_template, request, stream_with_context

from ..accounts.access import current_workspace
from ..extensions import db
from ..retain import analytics
from .chrome import feature_blueprint

bp = feature_blueprint("cancel_analytics", __name__)

PERIODS = {"30": "Last 30 days", "90": "Last 90 days", "365": "Last 12 months"}


def _since() -> tuple[str, dt.date]:
    period = request.args.get("days", "30")
    if period not in PERIODS:
        period = "30"
    return period, dt.datetime.now(dt.UTC).date() - dt.timedelta(days=int(period) - 1)


@bp.get("/cancel-flows/results")
def show():
    workspace = current_workspace()
    period, since = _since()
    now = dt.datetime.now(dt.UTC)
    return render_template(
        "dashboard/cancel_flows/results.html",
        period=period,
        periods=PERIODS,
        results=analytics.results(db.session, workspace.id, since=since),
        comments=analytics.comments(db.session, workspace.id, since=since),
        outside=analytics.outside_cancels(db.session, workspace.id, now=now),
    )


@bp.get("/cancel-flows/results.csv")
def export() -> Response:
    workspace = current_workspace()
    workspace_id = workspace.id  # the stream runs after the request's session is done
    _period, since = _since()

    def rows():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(analytics.CSV_COLUMNS)
        for row in analytics.export_rows(db.session, workspace_id, since=since):
            writer.writerow(row)
            if buffer.tell() > 64_000:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    name = f"cancel-sessions-{workspace.slug}-{since.isoformat()}.csv"
    return Response(
        stream_with_context(rows()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
