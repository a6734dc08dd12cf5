"""What a merchant may write in place of one of our strings."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.i18n.policy import MAX_OVERRIDE, override_problems, percent_names

MSGID = "Questions? Write to %(merchant)s at %(address)s."


@pytest.mark.parametrize(
    "text",
    [
        "Fragen? Schreiben Sie uns an %(address)s.",  # drops a placeholder
        "%(merchant)s: %(address)s, %(address)s",  # repeats one
        "100%% satisfied? Write to %(address)s",  # a percent sign, escaped
        "No placeholders at all",
    ],
)
def test_fine_overrides(text) -> None:
    assert override_problems(MSGID, text) == []


@pytest.mark.parametrize(
    ("msgid", "text", "problem"),
    [
        (MSGID, "100% sure: %(address)s", 'write a percent sign as "%%"'),
        (MSGID, "Hi %(name)s", "unknown placeholder %(name)s; this text can use"),
        ("Close", "%(merchant)s", "this text can use none"),
        (MSGID, "x" * (MAX_OVERRIDE + 1), "keep it under"),
        ("Hi {name}, your {merchant} payment", "Hola {nombre}", "unknown placeholder {nombre}"),
        (MSGID, "%(address)", 'write a percent sign as "%%"'),
        (MSGID, "%(merchant)d", "is text, not a number: write %(merchant)s"),
    ],
)
def test_refused_overrides(msgid, text, problem) -> None:
    problems = override_problems(msgid, text)
    assert any(problem in p for p in problems), problems


def test_braces_are_literal_where_our_string_has_none() -> None:
    assert override_problems("Close", "Close {now}") == []


PLURAL = "It works for %(num)d days at %(merchant)s."
pieces = st.sampled_from(["%(num)d", "%(num)s", "%(merchant)s", "%(merchant)d", "%%", "%", "{x}"])


@given(st.sampled_from([MSGID, PLURAL]), st.lists(st.one_of(st.text(max_size=8), pieces)))
def test_an_accepted_override_always_formats(msgid, parts) -> None:
    """Whatever passes the rules %-formats with the values the page has for the
    msgid: a merchant's wording never breaks a page."""
    text = "".join(parts)
    if override_problems(msgid, text):
        return
    values = {name: 3 if name == "num" else "v" for name in percent_names(msgid) or ()}
    assert isinstance(text % values, str)
