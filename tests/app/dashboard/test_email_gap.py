"""Settings → Emails: the least gap between two emails of one campaign."""

from __future__ import annotations

from html import unescape

import pytest
from sqlalchemy import select

from app.dunning import config
from app.dunning.models import DunningSettings
from app.extensions import db

from .. import factories as f
from ..forms import submit

FORM = {"sequence": "standard", "from_name": "", "reply_to": "", "pause_days": ""}


@pytest.fixture
def shop(web, ctx):
    owner = f.user("owner@gap.example")
    ws = f.workspace(owner, "Gap Shop")
    db.session.commit()
    f.login(web, owner)
    return ws


def stored(ws) -> DunningSettings | None:
    db.session.expire_all()
    return db.session.execute(
        select(DunningSettings).where(DunningSettings.workspace_id == ws.id)
    ).scalar_one_or_none()


def test_the_page_shows_the_gap_and_saves_a_new_one(web, shop) -> None:
    html = unescape(web.get("/settings/emails").get_data(as_text=True))
    assert 'name="gap_hours" value="24" min="12" max="168"' in html
    assert submit(web, "/settings/emails", {**FORM, "gap_hours": "48"}).status_code == 302
    assert stored(shop).gap_hours == 48
    assert config.message_gap(db.session, shop.id).total_seconds() == 48 * 3600


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("6", "leave 12 to 168 hours between two emails of one campaign"),
        ("500", "leave 12 to 168 hours between two emails of one campaign"),
        ("a day", "the gap between two emails must be a whole number of hours"),
    ],
)
def test_a_gap_out_of_bounds_is_refused_and_nothing_changes(web, shop, typed, error) -> None:
    response = submit(web, "/settings/emails", {**FORM, "gap_hours": typed})
    assert response.status_code == 400
    html = unescape(response.get_data(as_text=True))
    assert error[:1].upper() + error[1:] in html
    assert f'name="gap_hours" value="{typed}"' in html  # what they typed, to fix
    assert stored(shop) is None


def test_a_form_without_the_field_keeps_the_gap(web, shop) -> None:
    assert submit(web, "/settings/emails", {**FORM, "gap_hours": "36"}).status_code == 302
    assert submit(web, "/settings/emails", FORM).status_code == 302
    assert stored(shop).gap_hours == 36
