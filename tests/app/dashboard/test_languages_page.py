"""Settings → Languages: the default language, browsing our strings per language with a
filter, editing the workspace's own wording (empty goes back to ours), roles, CSRF and
bad input."""

from __future__ import annotations

from html import unescape

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.extensions import db
from app.i18n import services as i18n
from app.i18n.models import StringOverride

from .. import factories as f
from ..forms import csrf_token, submit

PAGE = "/settings/languages"
DEFAULT = "/settings/languages/default"
OVERRIDE = "/settings/languages/override"


@pytest.fixture
def shop(web, ctx):
    owner = f.user("owner@lang.example")
    ws = f.workspace(owner, "Lang Shop")
    viewer = f.member(ws, "viewer", "viewer@lang.example")
    admin = f.member(ws, "admin", "admin@lang.example")
    db.session.commit()
    f.login(web, owner)
    return {"ws": ws, "owner": owner, "viewer": viewer, "admin": admin}


def page(web, url: str = PAGE) -> str:
    response = web.get(url)
    assert response.status_code == 200, response.status_code
    return unescape(response.get_data(as_text=True))


def overrides(shop) -> dict:
    db.session.expire_all()
    return i18n.all_overrides(db.session, shop["ws"].id)


def test_the_page_is_in_the_settings_nav_and_lists_our_strings(web, shop) -> None:
    html = page(web)
    assert 'href="/settings/languages"' in html and "<h1>Languages</h1>" in html
    assert "Karte speichern" in html  # German by default (English needs no translating)
    assert "Shows on: Card-update page and payment wall" in html
    french = page(web, PAGE + "?locale=fr")
    assert "Enregistrer la carte" in french and "Karte speichern" not in french


def test_filtering_by_text_in_either_language(web, shop) -> None:
    html = page(web, PAGE + "?locale=de&q=kündigen")
    assert "Trotzdem kündigen" in html and "Karte speichern" not in html
    assert "Cancel anyway" in page(web, PAGE + "?locale=de&q=cancel anyway")
    assert "No string matches" in page(web, PAGE + "?q=zzzz-nothing")


def test_an_owner_sets_the_default_language(web, shop) -> None:
    response = submit(web, DEFAULT, {"default_locale": "es"}, page=PAGE)
    assert response.status_code == 302
    assert i18n.default_locale(db.session, shop["ws"].id) == "es"
    assert '<option value="es" selected>' in page(web)


def test_an_admin_edits_a_string_and_empty_goes_back_to_ours(web, shop) -> None:
    f.login(web, shop["admin"])
    data = {"locale": "de", "msgid": "Save card", "text": "Karte sichern", "q": "card"}
    response = submit(web, OVERRIDE, data, page=PAGE)
    assert response.status_code == 302 and "locale=de" in response.location
    assert overrides(shop) == {("de", "Save card"): "Karte sichern"}
    assert "Karte sichern" in page(web, PAGE + "?locale=de&q=Save card")
    submit(web, OVERRIDE, {**data, "text": ""}, page=PAGE)
    assert overrides(shop) == {}
    actions = db.session.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars()
    assert list(actions) == ["languages.override", "languages.override_removed"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"locale": "de", "msgid": "Save card", "text": "50% Rabatt"}, "percent sign"),
        ({"locale": "de", "msgid": "Back to %(merchant)s", "text": "Zu %(shop)s"}, "placeholder"),
        ({"locale": "xx", "msgid": "Save card", "text": "x"}, "Choose one of the languages"),
        ({"locale": "de", "msgid": "Not ours", "text": "x"}, "not one of ours"),
        ({"locale": "de", "text": "x"}, "Send the string"),
    ],
)
def test_bad_input_is_a_clear_400_and_changes_nothing(web, shop, data, message) -> None:
    response = submit(web, OVERRIDE, data, page=PAGE)
    assert response.status_code == 400
    assert message in unescape(response.get_data(as_text=True))
    assert overrides(shop) == {}


def test_a_bad_default_is_refused(web, shop) -> None:
    response = submit(web, DEFAULT, {"default_locale": "klingon"}, page=PAGE)
    assert response.status_code == 400 and i18n.default_locale(db.session, shop["ws"].id) == "en"


def test_viewers_see_but_cannot_change(web, shop) -> None:
    f.login(web, shop["viewer"])
    html = page(web)
    assert "<textarea" not in html and "disabled" in html
    token = csrf_token(web, PAGE)
    data = {"csrf_token": token, "locale": "de", "msgid": "Save card", "text": "x"}
    assert web.post(OVERRIDE, data=data).status_code == 403
    assert web.post(DEFAULT, data={"csrf_token": token, "default_locale": "de"}).status_code == 403
    assert overrides(shop) == {}


def test_changes_need_the_csrf_token(web, shop) -> None:
    response = web.post(OVERRIDE, data={"locale": "de", "msgid": "Save card", "text": "x"})
    assert response.status_code == 400 and overrides(shop) == {}


def test_signed_out_visitors_are_sent_to_sign_in(web, ctx) -> None:
    assert web.get(PAGE).status_code in (302, 401)


def test_the_page_shows_and_edits_only_the_current_workspace(web, shop) -> None:
    other = f.workspace(f.user("other@lang.example"), "Other")
    i18n.set_override(
        db.session, other.id, "de", "Save card", "Fremd", actor_id=None, actor_label="t"
    )
    db.session.commit()
    assert "Fremd" not in page(web, PAGE + "?locale=de")
    submit(web, OVERRIDE, {"locale": "de", "msgid": "Save card", "text": "Meins"}, page=PAGE)
    assert i18n.overrides_for(db.session, other.id, "de") == {"Save card": "Fremd"}
    assert db.session.execute(select(func.count()).select_from(StringOverride)).scalar_one() == 2
