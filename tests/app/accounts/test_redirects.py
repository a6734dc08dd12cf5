"""Open redirects: every ``next=`` only leads to a path on this site."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.accounts import two_factor
from app.accounts.redirects import local_path
from app.extensions import db
from app.models import utcnow

from .. import factories as f
from ..forms import submit

HOSTILE = [
    "//evil.example",
    "//evil.example/x",
    "https://evil.example",
    "http://evil.example/dashboard",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "/%2F%2Fevil.example",
    "%2F%2Fevil.example",
    "/%5Cevil.example",
    "/%252F%252Fevil.example",
    "https:%2F%2Fevil.example",
    "/\t/evil.example",
    "/%09/evil.example",
    " //evil.example",
    "/\r\n/evil.example",
    "data:text/html,hi",
    "evil.example",
    "",
]
FALLBACK = "/dashboard"


@pytest.mark.parametrize("target", HOSTILE)
def test_hostile_targets_fall_back(target: str) -> None:
    assert local_path(target, FALLBACK) == FALLBACK


@pytest.mark.parametrize("target", ["/settings/team", "/customers?q=jo&page=2", "/recovery#x"])
def test_local_paths_pass(target: str) -> None:
    assert local_path(target, FALLBACK) == target


@given(st.text(max_size=60))
def test_whatever_comes_in_the_answer_stays_on_this_site(target: str) -> None:
    answer = local_path(target, FALLBACK)
    parts = urlsplit(answer)
    assert answer.startswith("/") and not answer.startswith("//")
    assert not parts.scheme and not parts.netloc and "\\" not in answer


def _is_local(location: str) -> bool:
    parts = urlsplit(location)
    return (
        parts.netloc in ("", "localhost")
        and parts.path.startswith("/")
        and not parts.path.startswith("//")
    )


@pytest.mark.parametrize("target", HOSTILE)
def test_login_two_factor_and_switch_stay_local(web, ctx, target: str) -> None:
    user = f.user("jo@example.com")
    ws = f.workspace(user)
    db.session.commit()
    encoded = quote(target, safe="")
    response = submit(
        web, f"/login?next={encoded}", {"email": "jo@example.com", "password": f.PASSWORD}
    )
    assert response.status_code == 302 and _is_local(response.location), response.location
    assert response.location.endswith("/dashboard")
    switched = web.get(f"/workspaces/{ws.slug}/switch?next={encoded}")
    assert switched.status_code == 302 and switched.location.endswith("/dashboard")

    # With 2FA on, the target rides through the code step and is checked again.
    secret = two_factor.begin_enrolment(user)
    two_factor.confirm_enrolment(db.session, user, two_factor.code_at(secret, utcnow()), utcnow())
    db.session.commit()
    submit(web, "/logout", {}, page="/dashboard")
    submit(web, f"/login?next={encoded}", {"email": "jo@example.com", "password": f.PASSWORD})
    import datetime as dt

    code = two_factor.code_at(secret, utcnow() + dt.timedelta(seconds=30))
    done = submit(web, "/login/two-factor", {"code": code})
    assert done.status_code == 302 and done.location.endswith("/dashboard"), done.location


def test_a_local_next_is_followed(web, ctx) -> None:
    user = f.user("jo@example.com")
    ws = f.workspace(user)
    db.session.commit()
    response = submit(
        web, "/login?next=/settings/team", {"email": "jo@example.com", "password": f.PASSWORD}
    )
    assert response.location.endswith("/settings/team")
    switched = web.get(f"/workspaces/{ws.slug}/switch?next=/customers")
    assert switched.location.endswith("/customers")
