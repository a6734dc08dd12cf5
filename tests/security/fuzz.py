"""Hypothesis strategies for hostile input: text with NULs, controls, other scripts and
sheer size, numbers that are not numbers, fields repeated or of the wrong shape."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

#: Modest example counts keep the module fast; the point is breadth across endpoints.
FUZZ = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


class Huge(str):
    """A very long value that reports itself briefly (hypothesis prints failing examples)."""

    def __repr__(self) -> str:
        return f"{self[:1]!r} * {len(self)}"


TRICKY = [
    "",
    " ",
    "0",
    "-1",
    "1e309",
    "NaN",
    "Infinity",
    "99999999999999999999999999",
    "-9223372036854775809",
    "3.5",
    "true",
    "null",
    "on",
    "\x00",
    "a\x00b",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "%00",
    "'; DROP TABLE workspace; --",
    "{{7*7}}",
    "https://",
    "http://127.0.0.1:1/x",
    "javascript:alert(1)",
    "\u202e\u200b\ufeff",
    "😀" * 50,
    Huge("x" * 5000),
    "9" * 400,
]

text_values = st.one_of(
    st.sampled_from(TRICKY),
    st.text(max_size=40),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.just(Huge("A" * 200_000)),
)
#: A form field: one value, or the same name several times.
field_values = st.one_of(text_values, st.lists(text_values, min_size=2, max_size=3))

_NAME = re.compile(r'\bname="([^"]+)"')


def field_names(html: str) -> set[str]:
    return set(_NAME.findall(html)) - {"csrf_token"}


def forms(names: list[str]):
    """Form bodies: some of the page's real fields (and a stray one), hostile values."""
    keys = st.sampled_from(sorted(names)) if names else st.text(min_size=1, max_size=12)
    return st.dictionaries(
        st.one_of(keys, keys, st.text(min_size=1, max_size=12)), field_values, max_size=12
    )


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    text_values,
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


def json_objects(keys: list[str]):
    """JSON bodies: the endpoint's own keys (and stray ones) with any JSON value."""
    return st.dictionaries(
        st.one_of(st.sampled_from(keys), st.text(max_size=12)), json_values, max_size=8
    )


raw_bodies = st.one_of(
    st.binary(max_size=200),
    st.just(b"{" * 5000),
    st.just(b'{"a": ' + b"[" * 3000 + b"]" * 3000 + b"}"),
    st.just(b"x" * 1_100_000),
    json_values.map(lambda v: json.dumps(v).encode()),
)


class _FormReader(HTMLParser):
    """The fields a browser would submit for each form of a page, keyed by its action."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, dict[str, list[str]]] = {}
        self._fields: dict[str, list[str]] | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "get").lower() == "post":
            self._fields = self.forms.setdefault(a.get("action", "").split("?")[0], {})
        elif self._fields is None or ("name" not in a and tag != "option"):
            return
        elif tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button", "file"):
                self._fields.setdefault(a["name"], []).append(a.get("value", ""))
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select is not None:
            values = self._fields.setdefault(self._select, [])
            if not values or "selected" in a:
                self._fields[self._select] = [a.get("value", "")]
        elif tag == "textarea":
            self._textarea = a["name"]
            self._fields.setdefault(a["name"], []).append("")

    def handle_data(self, data: str) -> None:
        if self._fields is not None and self._textarea is not None:
            self._fields[self._textarea][-1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._fields = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def page_forms(html: str) -> dict[str, dict[str, list[str]]]:
    """Each POST form of ``html``: its action path -> the fields as submitted."""
    reader = _FormReader()
    reader.feed(html)
    return reader.forms


def mutations(valid: dict[str, list[str]], names: list[str]):
    """A valid form (as its page fills it) with some fields made hostile, dropped or
    repeated, and a stray field or two; with no valid form known, hostile forms."""
    if not valid:
        return forms(names)
    keys = sorted(valid)

    def apply(changes: dict, dropped: list[str]) -> dict:
        body: dict = {k: v if len(v) > 1 else v[0] for k, v in valid.items() if k not in dropped}
        return {k: v for k, v in {**body, **changes}.items() if k != "csrf_token"}

    return st.builds(
        apply,
        st.dictionaries(
            st.one_of(
                st.sampled_from(keys), st.sampled_from(keys), st.text(min_size=1, max_size=8)
            ),
            field_values,
            max_size=4,
        ),
        st.lists(st.sampled_from(keys), max_size=2),
    )
