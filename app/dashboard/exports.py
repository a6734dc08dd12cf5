"""Exports: CSV files of the recovery campaigns, cancel sessions and win-back campaigns
of a range of days, built by a worker (owners and admins start them, every member may
download), and the monthly summary email's switch."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from ..accounts.access import current_workspace, require_role
from ..accounts.masking import mask_csv, sees_customer_emails
from ..extensions import db
from ..insights import exports, summary
from ..insights.figures import today_for
from ..insights.models import InsightExport
from .chrome import feature_blueprint, on_refusal

bp = feature_blueprint("exports", __name__)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _status(row: InsightExport, now: dt.datetime) -> dict[str, Any]:
    return {
        "id": row.id,
        "status": row.status,
        "stale": exports.is_stale(row, now),
        "rows_written": row.rows_written,
        "total_rows": row.total_rows,
        "percent": exports.percent(row),
        "note": row.note,
        "error": row.error,
    }


def _page(form: dict[str, str] | None = None, errors: list[str] | None = None) -> str:
    workspace = current_workspace()
    now = _now()
    first, last = exports.default_range(today_for(workspace.timezone, now))
    rows = exports.recent(db.session, workspace.id)
    return render_template(
        "dashboard/exports.html",
        kinds=exports.KINDS,
        rows=rows,
        statuses={row.id: _status(row, now) for row in rows},
        form=form or {"kind": "recovery", "first": first.isoformat(), "last": last.isoformat()},
        errors=errors or [],
        summary_on=summary.is_enabled(db.session, workspace.id),
        filename=exports.filename,
    )


@bp.get("/exports")
def index():
    return _page()


@bp.post("/exports")
@require_role("owner", "admin")
def start():
    form = {k: request.form.get(k, "") for k in ("kind", "first", "last")}
    on_refusal(lambda refusal: _page(form, refusal.errors))
    kind, first, last = exports.parse_request(form["kind"], form["first"], form["last"])
    exports.start(
        db.session,
        current_workspace().id,
        kind,
        first,
        last,
        requested_by_id=current_user.id,
        now=_now(),
    )
    flash("Export started: it appears below when it is ready.", "success")
    return redirect(url_for("exports.index"))


@bp.get("/exports/status")
def status():
    """The page's poll: every listed export's progress."""
    now = _now()
    rows = exports.recent(db.session, current_workspace().id)
    return jsonify({"exports": [_status(row, now) for row in rows]})


def _export(export_id: int) -> InsightExport:
    row = exports.of_workspace(db.session, current_workspace().id, export_id)
    if row is None:
        abort(404)
    return row


@bp.get("/exports/<int:export_id>/download")
def download(export_id: int):
    row = _export(export_id)
    if row.status != exports.DONE:
        abort(404)
    data = exports.csv_bytes(row)
    return Response(
        data if sees_customer_emails() else mask_csv(data),
        mimetype="text/csv",
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{exports.filename(row)}"'},
    )


@bp.post("/exports/<int:export_id>/restart")
@require_role("owner", "admin")
def restart(export_id: int):
    """Start a failed or stalled export again (its worker died or its message was lost)."""
    exports.restart(db.session, _export(export_id), now=_now())
    flash("Export started again.", "success")
    return redirect(url_for("exports.index"))


@bp.post("/exports/summary")
@require_role("owner", "admin")
def monthly_summary():
    on = request.form.get("monthly_summary") == "1"
    summary.set_enabled(db.session, current_workspace().id, on)
    flash("Monthly summary email turned " + ("on." if on else "off."), "success")
    return redirect(url_for("exports.index"))
