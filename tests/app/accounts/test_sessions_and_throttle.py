"""Server-side sessions (listed, signed out one by one or everywhere else, ended by a
password change or reset) and the brute-force throttle on log-in, 2FA and reset."""

from __future__ import annotations

import datetime as dt
import re

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from app.accounts import throttle, user_sessions
from app.accounts.models import SignInThrottle, UserSession
from app.audit.models import AuditEntry
from app.extensions import db
from app.models import utcnow
from app.outbox.models import OutboxMessage

from .. import factories as f
from ..forms import submit

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
LAWS = [throttle.ACCOUNT, throttle.ADDRESS, throttle.TWO_FACTOR, throttle.RESET_ACCOUNT]


# -- the delay law --------------------------------------------------------------------------


@given(st.sampled_from(LAWS), st.integers(min_value=0, max_value=10_000))
def test_the_wait_never_passes_the_cap_and_never_shrinks(law, failures) -> None:
    wait = throttle.delay_after(failures, law)
    assert dt.timedelta(0) <= wait <= law.cap
    assert throttle.delay_after(failures + 1, law) >= wait
    if failures <= law.free:
        assert wait == dt.timedelta(0)


@given(st.sampled_from(LAWS), st.integers(min_value=1, max_value=30))
def test_each_failure_past_the_free_ones_doubles_the_wait_until_the_cap(law, extra) -> None:
    before = throttle.delay_after(law.free + extra, law)
    after = throttle.delay_after(law.free + extra + 1, law)
    assert after == min(before * 2, law.cap)


@given(
    st.sampled_from(LAWS),
    st.integers(min_value=0, max_value=1000),
    st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=3)),
)
def test_a_quiet_key_starts_over(law, previous, quiet) -> None:
    count = throttle.failures_after(previous, T0, T0 + quiet, law)
    assert count == (1 if quiet >= law.forget_after else previous + 1)


def test_a_real_user_is_never_locked_out_longer_than_fifteen_minutes() -> None:
    # However many guesses an attacker makes against the account, the wait is capped.
    assert throttle.delay_after(10**9, throttle.ACCOUNT) == dt.timedelta(minutes=15)


# -- log-in throttle over HTTP ------------------------------------------------------------------


def _login(web, password: str):
    return submit(web, "/login", {"email": "jo@example.com", "password": password})


def _failures(key: str) -> SignInThrottle:
    return db.session.execute(select(SignInThrottle).where(SignInThrottle.key == key)).scalar_one()


def _more_failures(key: str, law: throttle.Law, n: int) -> None:
    """Failures that make the wait long enough not to pass while a slow test runs."""
    for _ in range(n):
        throttle.fail(db.session, key, law, utcnow())
    db.session.commit()


def test_login_is_throttled_per_account_with_a_clear_429(web, ctx) -> None:
    user = f.user("jo@example.com")
    f.workspace(user)
    db.session.commit()
    for _ in range(throttle.ACCOUNT.free + 1):
        assert _login(web, "wrong password").status_code == 400
    counted = _failures("login:account:jo@example.com")
    assert counted.failures == throttle.ACCOUNT.free + 1 and counted.blocked_until is not None
    _more_failures("login:account:jo@example.com", throttle.ACCOUNT, 5)
    blocked = _login(web, f.PASSWORD)  # even the right password waits
    assert blocked.status_code == 429
    assert 60 <= int(blocked.headers["Retry-After"]) <= 15 * 60
    assert "Too many attempts" in blocked.get_data(as_text=True)
    # The wait passes: the right password works and clears the account's count.
    db.session.execute(
        SignInThrottle.__table__.update().values(blocked_until=None)  # as if time passed
    )
    db.session.commit()
    assert _login(web, f.PASSWORD).status_code == 302
    keys = set(db.session.execute(select(SignInThrottle.key)).scalars())
    assert keys == {"login:ip:127.0.0.1"}


def test_login_is_throttled_per_address_across_accounts(web, ctx) -> None:
    for n in range(3):
        submit(web, "/login", {"email": f"guess{n}@example.com", "password": "wrong password"})
    assert _failures("login:ip:127.0.0.1").failures == 3
    _more_failures("login:ip:127.0.0.1", throttle.ADDRESS, throttle.ADDRESS.free + 5)
    response = submit(web, "/login", {"email": "another@example.com", "password": "whatever1"})
    assert response.status_code == 429


def test_password_reset_requests_are_throttled_without_revealing_accounts(web, ctx) -> None:
    user = f.user("jo@example.com")
    f.workspace(user)
    db.session.commit()
    for email in ("jo@example.com", "nobody@example.com"):
        answers = [
            submit(web, "/password/forgot", {"email": email}).status_code
            for _ in range(throttle.RESET_ACCOUNT.free + 2)
        ]
        assert answers[: throttle.RESET_ACCOUNT.free + 1] == [302] * (
            throttle.RESET_ACCOUNT.free + 1
        )
        assert answers[-1] == 429
    sent = db.session.execute(select(OutboxMessage)).scalars().all()
    assert len(sent) == throttle.RESET_ACCOUNT.free + 1
    assert all(m.to_email == "jo@example.com" for m in sent)


# -- sessions ---------------------------------------------------------------------------------


def test_log_in_records_a_session_and_log_out_ends_it(web, ctx) -> None:
    user = f.user("jo@example.com")
    f.workspace(user)
    db.session.commit()
    _login(web, f.PASSWORD)
    record = db.session.execute(select(UserSession)).scalar_one()
    assert record.user_id == user.id and record.ip == "127.0.0.1" and record.revoked_at is None
    page = web.get("/settings/security").get_data(as_text=True)
    assert "This device" in page
    submit(web, "/logout", {}, page="/dashboard")
    db.session.refresh(record)
    assert record.revoked_at is not None


def test_sign_out_one_browser_and_everywhere_else(web, ctx, app) -> None:
    user = f.user("jo@example.com")
    f.workspace(user)
    db.session.commit()
    mine = f.login(web, user)
    phone, laptop = app.test_client(), app.test_client()
    phone_id, laptop_id = f.login(phone, user), f.login(laptop, user)
    page = "/settings/security"
    listed = web.get(page).get_data(as_text=True)
    assert listed.count("data-session=") == 3 and listed.count("This device") == 1
    assert (
        submit(web, f"/settings/security/sessions/{phone_id}/revoke", {}, page=page).status_code
        == 302
    )
    assert phone.get("/dashboard").status_code == 302  # signed out on its next request
    assert laptop.get("/dashboard").status_code == 200
    # Someone else's session, or this one: refused, nothing changed.
    other = f.user()
    theirs = user_sessions.start(db.session, other, ip=None, user_agent=None, now=T0)
    db.session.commit()
    assert (
        submit(web, f"/settings/security/sessions/{theirs.id}/revoke", {}, page=page).status_code
        == 404
    )
    assert (
        submit(web, f"/settings/security/sessions/{mine}/revoke", {}, page=page).status_code == 400
    )
    assert (
        submit(web, "/settings/security/sessions/revoke-others", {}, page=page).status_code == 302
    )
    assert laptop.get("/dashboard").status_code == 302
    assert web.get("/dashboard").status_code == 200
    db.session.refresh(theirs)
    assert theirs.revoked_at is None
    assert laptop_id != mine


def test_password_change_signs_out_the_other_browsers(web, ctx, app) -> None:
    user = f.user("jo@example.com")
    f.workspace(user)
    db.session.commit()
    f.login(web, user)
    other = app.test_client()
    f.login(other, user)
    page = "/settings/security"
    wrong = submit(
        web,
        "/settings/security/password",
        {"current_password": "nope nope", "new_password": "a new password 1"},
        page=page,
    )
    assert wrong.status_code == 400
    assert other.get("/dashboard").status_code == 200
    done = submit(
        web,
        "/settings/security/password",
        {"current_password": f.PASSWORD, "new_password": "a new password 1"},
        page=page,
    )
    assert done.status_code == 302
    assert other.get("/dashboard").status_code == 302
    assert web.get("/dashboard").status_code == 200
    assert db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "user.password_changed")
    ).scalar_one()


def test_activity_is_noted_at_most_once_a_minute(web, ctx) -> None:
    user = f.user("jo@example.com")
    f.workspace(user)
    db.session.commit()
    sid = f.login(web, user)
    record = db.session.get(UserSession, sid)
    earlier = utcnow() - dt.timedelta(minutes=5)
    record.last_seen_at = earlier
    db.session.commit()
    web.get("/dashboard")
    db.session.refresh(record)
    seen = record.last_seen_at
    assert seen > earlier
    web.get("/dashboard")
    db.session.refresh(record)
    assert record.last_seen_at == seen


def test_a_cookie_without_a_live_session_is_signed_out(web, ctx) -> None:
    user = f.user("jo@example.com")
    f.workspace(user)
    db.session.commit()
    with web.session_transaction() as s:
        s["_user_id"] = str(user.id)  # the old cookie shape, no session row
    assert web.get("/dashboard").status_code == 302


def test_webhooks_never_touch_sessions(web, ctx) -> None:
    user = f.user("jo@example.com")
    f.workspace(user)
    db.session.commit()
    sid = f.login(web, user)
    record = db.session.get(UserSession, sid)
    record.last_seen_at = T0
    db.session.commit()
    web.post("/webhooks/stripe", data="{}", headers={"Stripe-Signature": "t=1,v1=x"})
    db.session.refresh(record)
    assert record.last_seen_at == T0


# -- password reset -----------------------------------------------------------------------------


def _reset_link(web, email: str = "jo@example.com") -> str:
    submit(web, "/password/forgot", {"email": email})
    message = db.session.execute(
        select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(1)
    ).scalar_one()
    return re.search(r"http://localhost(/password/reset/\S+)", message.body_text).group(1)


def test_reset_voids_older_links_signs_out_everywhere_and_is_audited(web, ctx, app) -> None:
    user = f.user("jo@example.com")
    f.workspace(user)
    db.session.commit()
    signed_in = app.test_client()
    f.login(signed_in, user)
    older, newer = _reset_link(web), _reset_link(web)
    assert submit(web, newer, {"password": "a brand new password"}).status_code == 302
    assert signed_in.get("/dashboard").status_code == 302
    submit(web, "/logout", {}, page="/dashboard")
    assert web.get(older).status_code == 400  # issued before the change: void
    assert web.get(newer).status_code == 400  # used
    actions = list(db.session.execute(select(AuditEntry.action)).scalars())
    assert actions.count("user.password_reset.requested") == 2
    assert "user.password_reset" in actions


def test_reset_link_expires(web, ctx, app, monkeypatch) -> None:
    import itsdangerous.timed

    from app.accounts import services

    user = f.user("jo@example.com")
    db.session.commit()
    with monkeypatch.context() as m:
        m.setattr(itsdangerous.timed.time, "time", lambda: 1_000_000)  # signed long ago
        token = services.reset_token(user, app.config["SECRET_KEY"])
    response = web.get(f"/password/reset/{token}")
    assert response.status_code == 400 and "expired" in response.get_data(as_text=True)


def test_browsers_are_named_as_people_name_them() -> None:
    mac_firefox = (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.1; rv:121.0) Gecko/20100101 Firefox/121.0"
    )
    iphone = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
    )
    edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36 Edg/120.0"
    assert user_sessions.describe_agent(mac_firefox) == "Firefox on macOS"
    assert user_sessions.describe_agent(iphone) == "Safari on iPhone"
    assert user_sessions.describe_agent(edge) == "Edge on Windows"
    assert user_sessions.describe_agent(None) == "A browser"


def test_a_session_idle_for_thirty_days_is_over(web, ctx) -> None:
    user = f.user("jo@example.com")
    f.workspace(user)
    db.session.commit()
    sid = f.login(web, user)
    record = db.session.get(UserSession, sid)
    record.last_seen_at = utcnow() - user_sessions.IDLE_LIMIT - dt.timedelta(minutes=1)
    db.session.commit()
    assert web.get("/dashboard").status_code == 302


def test_a_deactivated_account_is_signed_out_on_its_next_request(web, ctx) -> None:
    user = f.user("jo@example.com")
    f.workspace(user)
    db.session.commit()
    f.login(web, user)
    assert web.get("/dashboard").status_code == 200
    user.is_active_user = False
    db.session.commit()
    assert web.get("/dashboard").status_code == 302


def test_static_files_load_no_user(web, ctx) -> None:
    user = f.user("jo@example.com")
    f.workspace(user)
    db.session.commit()
    sid = f.login(web, user)
    record = db.session.get(UserSession, sid)
    record.last_seen_at = earlier = utcnow() - dt.timedelta(minutes=5)
    db.session.commit()
    response = web.get("/static/app.css")
    response.close()  # the file handle
    assert response.status_code == 200
    db.session.refresh(record)
    assert record.last_seen_at == earlier


# -- housekeeping ---------------------------------------------------------------------------


def test_ended_sessions_and_quiet_counters_are_forgotten_live_ones_kept(ctx) -> None:
    from workers import account_tasks

    u = f.user("keep@example.com")
    now = utcnow()
    long_ago = now - user_sessions.IDLE_LIMIT - user_sessions.KEEP_ENDED - dt.timedelta(days=1)

    def started(at, revoked_at=None):
        record = user_sessions.start(db.session, u, ip="10.0.0.1", user_agent="t", now=at)
        record.revoked_at = revoked_at
        return record.id

    live = started(now - dt.timedelta(days=2))
    signed_out_lately = started(now - dt.timedelta(days=5), now - dt.timedelta(days=3))
    signed_out_long_ago = started(now - dt.timedelta(days=90), now - dt.timedelta(days=40))
    idle_long_ago = started(long_ago)
    db.session.add_all(
        [
            SignInThrottle(
                key="login:ip:quiet", failures=9, last_failure_at=now - dt.timedelta(days=3)
            ),
            SignInThrottle(
                key="login:ip:recent", failures=9, last_failure_at=now - dt.timedelta(hours=1)
            ),
            SignInThrottle(
                key="login:ip:blocked",
                failures=9,
                last_failure_at=now - dt.timedelta(days=3),
                blocked_until=now + dt.timedelta(minutes=5),
            ),
        ]
    )
    db.session.commit()

    assert account_tasks.forget_stale_sign_ins() == {"sessions": 2, "throttles": 1}

    kept = set(db.session.execute(select(UserSession.id)).scalars())
    assert {live, signed_out_lately} <= kept
    assert not {signed_out_long_ago, idle_long_ago} & kept
    keys = set(db.session.execute(select(SignInThrottle.key)).scalars())
    assert keys == {"login:ip:recent", "login:ip:blocked"}
    assert account_tasks.forget_stale_sign_ins() == {"sessions": 0, "throttles": 0}
