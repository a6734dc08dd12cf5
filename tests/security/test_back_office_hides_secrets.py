"""The back office shows no secret (DESIGN §9): no view lists, details, exports,
searches, filters or edits a column that holds an encrypted secret or a hash, and the
audit of a staff edit never copies one."""

from __future__ import annotations

from typing import Any

from wtforms.fields.core import UnboundField

from admin.base import _changes
from app.crypto import ENCRYPTED_SUFFIXES, SECRET_SUFFIXES
from app.extensions import db
from app.secrets_at_rest import ENCRYPTED_COLUMNS

from ..app import factories as f


def _model_views(app) -> list[Any]:
    [admin] = app.extensions["admin"]
    return [view for view in admin._views if getattr(view, "model", None) is not None]


def _form_fields(form_class: Any) -> set[str]:
    return {name for name in dir(form_class) if isinstance(getattr(form_class, name), UnboundField)}


def _secretish(name: str) -> bool:
    return name.split(".")[-1].endswith(SECRET_SUFFIXES)


def test_no_view_offers_a_secret_column_anywhere(app) -> None:
    assert set(ENCRYPTED_SUFFIXES) <= set(SECRET_SUFFIXES)
    views = _model_views(app)
    assert len(views) >= 20
    offered: dict[str, set[str]] = {}
    with app.test_request_context():
        for view in views:
            names = {
                *(name for name, _ in view._list_columns),
                *(name for name, _ in view._details_columns),
                *(name for name, _ in view._export_columns),
                *view._sortable_columns,
                *(str(c) for c in view.column_searchable_list or ()),
                *(getattr(flt, "column", flt).__str__() for flt in view._filters or ()),
                *_form_fields(view._create_form_class),
                *_form_fields(view._edit_form_class),
            }
            offered[view.endpoint] = {n for n in names if _secretish(n)}
    assert offered == {endpoint: set() for endpoint in offered}


def test_every_model_with_a_secret_and_a_view_hides_it(app) -> None:
    """The views over models that do hold secrets (workspaces, users, connections, portal
    links) are the ones that matter most: each is there and hides them."""
    hold = {column.model for column in ENCRYPTED_COLUMNS}
    viewed = {view.model for view in _model_views(app)}
    with app.test_request_context():
        for view in _model_views(app):
            if view.model in hold:
                details = {name for name, _ in view._details_columns}
                assert not {c.attr for c in ENCRYPTED_COLUMNS if c.model is view.model} & details
    assert hold & viewed  # the check above did look at some


def test_the_audit_of_an_edit_never_copies_a_secret(ctx) -> None:
    ws = f.workspace(name="Audited")
    db.session.commit()
    ws.name, ws.embed_secret_enc = "Renamed", "gAAAA-not-a-real-token"
    changes = _changes(ws)
    assert changes["name"][1] == "Renamed" and "embed_secret_enc" not in changes
    db.session.rollback()
