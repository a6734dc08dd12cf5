"""Settings → Embed: the secret (owners and admins see it, viewers see it masked),
rotation, the require-signature switch, the snippets merchants copy, and tenancy."""

from __future__ import annotations

import re
import shutil
import subprocess
from html import unescape

import pytest

from app.accounts.models import Workspace
from app.api import embed_secrets
from app.api.signing import sign
from app.crypto import decrypt, encrypt
from app.extensions import db

from .. import factories as f
from ..forms import csrf_token, submit

PAGE = "/settings/embed"
ROTATE = "/settings/embed/rotate"
SWITCH = "/settings/embed/signature"
SECRET = re.compile(r"bk_embed_[A-Za-z0-9_-]{43}")


@pytest.fixture
def shop(web, ctx):
    owner = f.user("owner@embed.example")
    ws = f.workspace(owner, "Embed Shop")
    admin = f.member(ws, "admin", "admin@embed.example")
    viewer = f.member(ws, "viewer", "viewer@embed.example")
    db.session.commit()
    f.login(web, owner)
    return {"ws": ws, "owner": owner, "admin": admin, "viewer": viewer}


def html(web, url: str = PAGE, status: int = 200) -> str:
    response = web.get(url)
    assert response.status_code == status, (url, response.status_code)
    return unescape(response.get_data(as_text=True))


def workspace(shop) -> Workspace:
    db.session.expire_all()
    return db.session.get(Workspace, shop["ws"].id)


def stored_secret(shop) -> str | None:
    return embed_secrets.read(workspace(shop))


def snippet(page: str, name: str) -> str:
    match = re.search(rf'<code id="snippet-{name}">(.*?)</code>', page, re.S)
    assert match, name
    return match.group(1)


# -- the secret -------------------------------------------------------------------------------


def make_secret(web) -> None:
    assert submit(web, ROTATE, {}, page=PAGE).status_code == 302


def test_one_click_makes_the_secret_and_stores_it_encrypted(web, shop) -> None:
    assert workspace(shop).embed_secret_enc is None
    page = html(web)
    assert "No secret yet" in page and "Make the embed secret" in page
    assert not SECRET.findall(page)
    assert workspace(shop).embed_secret_enc is None  # looking makes nothing
    make_secret(web)
    page = html(web)
    assert "Embed secret made" in page
    [shown] = set(SECRET.findall(page))
    stored = workspace(shop).embed_secret_enc
    assert stored and shown not in stored
    assert decrypt(stored) == shown
    assert SECRET.findall(html(web)) == [shown]  # the same one next time


def test_admins_see_the_secret_too(web, shop) -> None:
    make_secret(web)
    f.login(web, shop["admin"])
    page = html(web)
    assert SECRET.findall(page) == [stored_secret(shop)]
    assert "Rotate secret" in page and "Require signatures" in page


def test_viewers_see_it_masked_and_cannot_act(web, shop) -> None:
    make_secret(web)
    secret = stored_secret(shop)
    f.login(web, shop["viewer"])
    page = html(web)
    assert secret not in page and not SECRET.findall(page)
    assert embed_secrets.mask(secret) in page and secret[-4:] in page
    assert "Rotate secret" not in page and "Require signatures" not in page
    assert "Only owners and admins" in page
    token = csrf_token(web, PAGE)
    assert web.post(ROTATE, data={"csrf_token": token}).status_code == 403
    assert web.post(SWITCH, data={"csrf_token": token, "required": "1"}).status_code == 403
    assert stored_secret(shop) == secret
    assert workspace(shop).is_embed_signature_required is False


def test_a_viewer_looking_first_makes_nothing(web, shop) -> None:
    f.login(web, shop["viewer"])
    page = html(web)
    assert "No secret yet" in page
    assert workspace(shop).embed_secret_enc is None


def test_rotate_makes_a_new_secret(web, shop) -> None:
    make_secret(web)
    old = SECRET.findall(html(web))[0]
    response = submit(web, ROTATE, {}, page=PAGE)
    assert response.status_code == 302
    new = stored_secret(shop)
    assert new != old and SECRET.fullmatch(new)
    page = html(web)
    assert new in page and old not in page
    assert "New embed secret made" in page


def test_rotate_without_the_form_token_changes_nothing(web, shop) -> None:
    html(web)
    before = stored_secret(shop)
    assert web.post(ROTATE).status_code == 400
    assert web.post(ROTATE, data={"csrf_token": "forged"}).status_code == 400
    assert stored_secret(shop) == before


def test_a_secret_under_a_retired_key_can_be_rotated_away(web, shop, app) -> None:
    from cryptography.fernet import Fernet

    retired = Fernet(Fernet.generate_key()).encrypt(b"bk_embed_old").decode()
    workspace(shop).embed_secret_enc = retired
    db.session.commit()
    page = html(web)
    assert "can't be read" in page and not SECRET.findall(page)
    assert submit(web, ROTATE, {}, page=PAGE).status_code == 302
    assert SECRET.fullmatch(stored_secret(shop))


# -- the require-signature switch -------------------------------------------------------------


def test_the_switch_turns_on_and_off(web, shop) -> None:
    page = html(web)
    assert 'data-required="off"' in page and "Unsigned requests are accepted." in page
    assert submit(web, SWITCH, {"required": "1"}, page=PAGE).status_code == 302
    assert workspace(shop).is_embed_signature_required is True
    page = html(web)
    assert 'data-required="on"' in page and "Unsigned requests are refused from now on." in page
    assert submit(web, SWITCH, {"required": "0"}, page=PAGE).status_code == 302
    assert workspace(shop).is_embed_signature_required is False


@pytest.mark.parametrize("data", [{}, {"required": ""}, {"required": "yes"}, {"required": "on"}])
def test_a_bad_switch_value_is_400_and_changes_nothing(web, shop, data) -> None:
    html(web)
    secret = stored_secret(shop)
    response = submit(web, SWITCH, data, page=PAGE)
    assert response.status_code == 400
    assert "Nothing was changed" in unescape(response.get_data(as_text=True))
    assert workspace(shop).is_embed_signature_required is False
    assert stored_secret(shop) == secret


def test_the_switch_without_the_form_token_changes_nothing(web, shop) -> None:
    assert web.post(SWITCH, data={"required": "1"}).status_code == 400
    assert workspace(shop).is_embed_signature_required is False


def test_live_mode_with_unsigned_requests_is_pointed_out(web, shop) -> None:
    conn = f.connection(shop["ws"])
    conn.livemode = True
    db.session.commit()
    assert "This workspace is in live mode." in html(web)
    submit(web, SWITCH, {"required": "1"}, page=PAGE)
    assert "This workspace is in live mode." not in html(web)


# -- the snippets -----------------------------------------------------------------------------


def test_the_page_snippet_loads_embed_js_for_this_workspace(web, shop) -> None:
    raw = web.get(PAGE).get_data(as_text=True)
    assert "&lt;script src=" in raw and '<script src="http://localhost/hosted' not in raw
    page = unescape(raw)
    code = snippet(page, "page")
    assert '<script src="http://localhost/hosted/static/embed.js"></script>' in code
    assert "Backstop.paymentWall({" in code and f'workspace: "{shop["ws"].slug}"' in code
    assert "customer\\ntimestamp" in page
    assert "http://localhost/api/embed/payment-wall" in page
    nav = re.search(r"<nav>(.*?)</nav>", page, re.S).group(1)
    assert '<a href="/settings/embed" class="on">Embed</a>' in nav


def test_the_python_snippet_signs_what_backstop_verifies(web, shop) -> None:
    code = snippet(html(web), "python")
    scope = {"EMBED_SECRET": "bk_embed_example", "customer_id": "cus_123"}
    exec(code, scope)  # noqa: S102 - the snippet we print, run as a merchant would
    assert scope["signature"] == sign("bk_embed_example", "cus_123", scope["timestamp"])


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_node_snippet_signs_what_backstop_verifies(web, shop) -> None:
    code = snippet(html(web), "node")
    program = (
        'const EMBED_SECRET = "bk_embed_example", customerId = "cus_123";\n'
        + code
        + "\nconsole.log(timestamp + ' ' + signature);"
    )
    out = subprocess.run(
        ["node", "-e", program], capture_output=True, text=True, check=True, timeout=30
    )
    timestamp, signature = out.stdout.split()
    assert signature == sign("bk_embed_example", "cus_123", int(timestamp))


# -- tenancy ----------------------------------------------------------------------------------


def test_another_workspaces_secret_is_never_shown(web, shop) -> None:
    owner = shop["owner"]
    theirs = f.workspace(f.user("other@embed.example"), "Their Shop")
    their_secret = embed_secrets.ensure(db.session, theirs)
    both = f.workspace(owner, "Second Shop")
    second_secret = embed_secrets.ensure(db.session, both)
    db.session.commit()

    make_secret(web)
    page = html(web)
    mine = stored_secret(shop)
    assert SECRET.findall(page) == [mine]
    assert their_secret not in page and second_secret not in page

    web.get(f"/workspaces/{both.slug}/switch")
    page = html(web)
    assert SECRET.findall(page) == [second_secret]
    submit(web, ROTATE, {}, page=PAGE)
    submit(web, SWITCH, {"required": "1"}, page=PAGE)
    db.session.expire_all()
    assert stored_secret(shop) == mine and workspace(shop).is_embed_signature_required is False
    assert embed_secrets.read(db.session.get(Workspace, theirs.id)) == their_secret
    assert db.session.get(Workspace, both.id).is_embed_signature_required is True
    assert web.get(f"/workspaces/{theirs.slug}/switch").status_code == 404


def test_secrets_are_encrypted_with_the_app_keys(ctx) -> None:
    ws = f.workspace(name="Crypto Shop")
    secret = embed_secrets.ensure(db.session, ws)
    assert secret.startswith("bk_embed_") and len(secret) == len("bk_embed_") + 43
    assert ws.embed_secret_enc != encrypt(secret)  # fresh IV every time
    assert embed_secrets.rotate(db.session, ws) != secret
