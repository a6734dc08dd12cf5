"""The custom-CSS sanitiser: what loads or runs something never survives; the rest
is kept as written."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from app.portal.css import MAX_LENGTH, sanitise


def test_plain_rules_are_kept() -> None:
    css = ".subscription { border-color: #ddd; border-radius: 4px !important; }"
    assert sanitise(css).css == (
        ".subscription { border-color: #ddd; border-radius: 4px !important; }"
    )
    assert sanitise(css).removed == []


def test_what_loads_or_runs_something_is_removed_and_said() -> None:
    result = sanitise(
        "@import url(https://evil.example/x.css);"
        ".a { background: url(https://evil.example/p.png); color: red }"
        ".b { width: expression(alert(1)) }"
        ".c { behavior: url(x.htc); -moz-binding: url(x.xml#y) }"
        ".d { background-image: url('//evil.example/p.png') }"
        ".e { content: 'javascript:alert(1)' }"
        "@font-face { src: url(https://evil.example/f.woff) }"
    )
    assert "evil" not in result.css and "expression" not in result.css
    assert "javascript" not in result.css and "@import" not in result.css
    assert "@font-face" not in result.css and "behavior" not in result.css
    assert ".a { color: red; }" in result.css
    assert "@import" in result.removed and "@font-face" in result.removed
    assert len(result.removed) == 8


def test_our_own_paths_and_inline_images_may_be_used() -> None:
    css = (
        '.logo { background: url("/hosted/static/logo.png") }'
        ".dot { background: url(data:image/png;base64,iVBORw0KGgo=) }"
    )
    result = sanitise(css)
    assert result.removed == [] and "/hosted/static/logo.png" in result.css


def test_media_queries_keep_their_rules() -> None:
    result = sanitise("@media (max-width: 500px) { .a { color: red; } @import 'x'; }")
    assert result.css == "@media (max-width: 500px) {\n.a { color: red; }\n}"
    assert result.removed == ["@import"]


def test_nothing_can_close_the_style_element() -> None:
    result = sanitise('a[title="</style><script>alert(1)</script>"] { color: red }')
    assert "<" not in result.css and "</style" not in result.css.lower()


def test_long_css_is_cut() -> None:
    result = sanitise(".a { color: red; }" * 5000)
    assert result.removed[0].startswith("everything after the first")
    assert len(result.css) <= MAX_LENGTH * 2


_DANGER = re.compile(r"@import|expression\s*\(|javascript:|behavior|-moz-binding|<", re.I)
_REMOTE = re.compile(r"url\(\s*['\"]?\s*(https?:|//|\\)", re.I)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                ".a{color:red}",
                "@import 'x';",
                "url(http://x/y)",
                "url(//x/y)",
                "expression(1)",
                "javascript:",
                "</style>",
                "<",
                "{",
                "}",
                ";",
                "'",
                '"',
                "\\",
                "@media screen{",
                "b{background:",
                "behavior:",
                "/*",
                "*/",
                "url(",
                ")",
                "\\75 rl(http://x)",
            ]
        )
        | st.text(max_size=8),
        max_size=30,
    ).map("".join)
)
def test_law_no_output_loads_or_runs_anything(css: str) -> None:
    out = sanitise(css).css
    assert not _DANGER.search(out), out
    assert not _REMOTE.search(out), out
