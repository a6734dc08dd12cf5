"""Settings → Audit log: owners and admins read their workspace's entries newest first,
a page at a time, filtered by who and what; never another workspace's; viewers get 403
and no menu entry; a bad page cursor is a 400."""

from __future__ import annotations

from html import unescape

import pytest

from app.audit import services as audit
from app.extensions import db

from .. import factories as f

URL = "/settings/audit-log"


@pytest.fixture
def shop(web, ctx):
    owner = f.user("owner@log.example")
    ws = f.workspace(owner, "Log Shop")
    viewer = f.member(ws, "viewer", "viewer@log.example")
    other = f.workspace(f.user("them@other.example"), "Other Shop")
    for n in range(3):
        audit.record(db.session, actor_id=owner.id, actor_label=owner.email,
                     action="team.role_changed", target_type="membership", target_id=str(n),
                     workspace_id=ws.id, role="admin")  # fmt: skip
    audit.record(db.session, actor_id=None, actor_label="API key bk_live_ab… (ci)",
                 action="recovery.campaign.pause", target_type="campaign", target_id="77",
                 workspace_id=ws.id, changed=True)  # fmt: skip
    audit.record(db.session, actor_id=None, actor_label="them@other.example",
                 action="secret.thing", workspace_id=other.id, note="not yours")  # fmt: skip
    db.session.commit()
    return {"ws": ws, "owner": owner, "viewer": viewer}


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def test_the_owner_reads_the_log_newest_first_and_only_their_own(web, shop) -> None:
    f.login(web, shop["owner"])
    page = text(web.get(URL))
    assert page.index("recovery.campaign.pause") < page.index("team.role_changed")
    assert page.count("team.role_changed") >= 3 and "API key bk_live_ab… (ci)" in page
    assert "changed:</span> yes" in page and "role:</span> admin" in page
    assert "secret.thing" not in page and "not yours" not in page
    assert 'href="/settings/audit-log"' in page  # in the settings menu


def test_filters_by_who_and_what(web, shop) -> None:
    f.login(web, shop["owner"])
    by_key = text(web.get(URL, query_string={"who": "API key bk_live_ab… (ci)"}))
    assert "recovery.campaign.pause</code>" in by_key and "team.role_changed</code>" not in by_key
    by_action = text(web.get(URL, query_string={"what": "team.role_changed"}))
    assert by_action.count("team.role_changed</code>") == 3
    assert "No entries match." in text(web.get(URL, query_string={"what": "secret.thing"}))


def test_pages_go_back_in_time_without_shifting(web, shop, monkeypatch) -> None:
    from app.dashboard import audit_log

    monkeypatch.setattr(audit_log, "PAGE", 2)
    f.login(web, shop["owner"])
    first = text(web.get(URL))
    assert first.count("<tr>") == 3  # the header and two entries
    older = first.split('href="/settings/audit-log?before=')[1].split('"')[0]
    second = text(web.get(f"{URL}?before={older}"))
    assert second.count("<tr>") == 3 and "Older" not in second and "Newest" in second
    assert "target_id" not in second and "membership <code>0</code>" in second


@pytest.mark.parametrize("before", ["0", "-3", "abc", ""])
def test_a_bad_cursor_is_a_400(web, shop, before) -> None:
    f.login(web, shop["owner"])
    assert web.get(URL, query_string={"before": before}).status_code == 400


def test_a_viewer_may_not_read_it_nor_sees_it_in_the_menu(web, shop) -> None:
    f.login(web, shop["viewer"])
    assert web.get(URL).status_code == 403
    assert 'href="/settings/audit-log"' not in web.get("/settings/team").get_data(as_text=True)


def test_details_read_as_words() -> None:
    from app.audit.queries import described

    shown = described({"changed": False, "approved_by": None, "codes": [1, 2], "n": 3})
    assert shown == [("approved by", "—"), ("changed", "no"), ("codes", "[1, 2]"), ("n", "3")]
    assert described({"long": "x" * 500})[0][1].endswith("…")
