"""A merchant's custom CSS for the hosted pages, sanitised.

The stylesheet is parsed with tinycss2 (the CSS Syntax Level 3 parser WeasyPrint is
built on) and written back from what survives: style rules, and ``@media`` /
``@supports`` / ``@keyframes`` blocks of them. Everything that could load or run
something is dropped, each with a note the settings page shows the merchant:
``@import`` and every other at-rule, ``url()`` to anything but our own paths or an
inline image, ``expression()``, ``behavior`` / ``-moz-binding``, ``javascript:``.
The result is safe inside a ``<style>`` element (no ``<`` survives).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import tinycss2
from tinycss2 import ast

MAX_LENGTH = 20_000
NESTED_AT_RULES = frozenset({"media", "supports"})
_BANNED_PROPERTIES = frozenset({"behavior", "-moz-binding", "-ms-behavior"})
_BANNED_FUNCTIONS = frozenset({"expression", "-moz-element", "element"})
#: Text no kept selector or value may contain, however it was spelled in tokens.
_BAD_TEXT = re.compile(r"javascript:|expression\s*\(|@import|behavior|-moz-binding", re.I)
_URL_TEXT = re.compile(r"url\(\s*['\"]?([^'\")]*)", re.I)
_INLINE_IMAGE = re.compile(r"^data:image/(png|gif|jpeg|webp);base64,[a-z0-9+/=\s]+$", re.I)


@dataclass
class Sanitised:
    css: str
    removed: list[str] = field(default_factory=list)


def _url_allowed(target: str) -> bool:
    target = target.strip()
    if _INLINE_IMAGE.match(target):
        return True
    # Our own absolute paths only: "/hosted/static/x.png", never "//other.host/x".
    return target.startswith("/") and not target.startswith("//") and "\\" not in target


def _text_problem(text: str) -> str | None:
    """The serialised text's own check, whatever tokens it came from."""
    found = _BAD_TEXT.search(text)
    if found:
        return f"“{found.group(0)}”"
    bad = [u for u in _URL_TEXT.findall(text) if not _url_allowed(u)]
    return f"url({bad[0]}) (only our own paths or inline images)" if bad else None


def _value_problem(tokens: list[ast.Node]) -> str | None:
    for token in tokens:
        if isinstance(token, ast.URLToken):
            if not _url_allowed(token.value):
                return f"url({token.value}) (only our own paths or inline images)"
        elif isinstance(token, ast.FunctionBlock):
            name = token.lower_name
            if name in _BANNED_FUNCTIONS:
                return f"{name}()"
            if name in ("url", "image-set", "image", "src"):
                strings = [a.value for a in token.arguments if isinstance(a, ast.StringToken)]
                if not strings:  # url(\75 ...) and other spellings: judge the text itself
                    strings = [tinycss2.serialize(token.arguments)]
                bad = [s for s in strings if not _url_allowed(s)]
                if bad:
                    return f"{name}({bad[0]}) (only our own paths or inline images)"
            problem = _value_problem(token.arguments)
            if problem:
                return problem
        elif isinstance(token, ast.StringToken) and "javascript:" in token.value.lower():
            return "a javascript: address"
        elif isinstance(
            token, (ast.SquareBracketsBlock, ast.ParenthesesBlock, ast.CurlyBracketsBlock)
        ):
            problem = _value_problem(token.content)
            if problem:
                return problem
    return None


def _declarations(content: list[ast.Node], removed: list[str]) -> str:
    kept = []
    for item in tinycss2.parse_blocks_contents(content, skip_comments=True, skip_whitespace=True):
        if isinstance(item, ast.Declaration):
            if item.lower_name in _BANNED_PROPERTIES:
                removed.append(f"the {item.lower_name} property")
                continue
            problem = _value_problem(item.value)
            if problem:
                removed.append(f"{item.lower_name}: {problem}")
                continue
            value = tinycss2.serialize(item.value).strip()
            if not value:
                continue
            problem = _text_problem(f"{item.name}: {value}")
            if problem:
                removed.append(f"{item.lower_name}: {problem}")
                continue
            kept.append(f"{item.name}: {value}{' !important' if item.important else ''};")
        elif isinstance(item, ast.ParseError):
            removed.append(f"something that is not CSS ({item.message})")
        else:
            removed.append("a nested rule inside a declaration block")
    return " ".join(kept)


def _rules(rules: list[ast.Node], removed: list[str], depth: int = 0) -> list[str]:
    out = []
    for rule in rules:
        if isinstance(rule, ast.QualifiedRule):
            selector = tinycss2.serialize(rule.prelude).strip()
            problem = _value_problem(rule.prelude) or _text_problem(selector)
            if problem or not selector:
                removed.append(f"a rule with {problem or 'no selector'}")
                continue
            out.append(f"{selector} {{ {_declarations(rule.content or [], removed)} }}")
        elif isinstance(rule, ast.AtRule):
            name = rule.lower_at_keyword
            if name in NESTED_AT_RULES and rule.content is not None and depth < 3:
                inner = tinycss2.parse_rule_list(
                    rule.content, skip_comments=True, skip_whitespace=True
                )
                prelude = tinycss2.serialize(rule.prelude).strip()
                body = "\n".join(_rules(inner, removed, depth + 1))
                out.append(f"@{name} {prelude} {{\n{body}\n}}")
            elif name == "keyframes" and rule.content is not None:
                inner = tinycss2.parse_rule_list(
                    rule.content, skip_comments=True, skip_whitespace=True
                )
                prelude = tinycss2.serialize(rule.prelude).strip()
                body = "\n".join(_rules(inner, removed, depth + 1))
                out.append(f"@keyframes {prelude} {{\n{body}\n}}")
            else:
                removed.append(f"@{name}")
        elif isinstance(rule, ast.ParseError):
            removed.append(f"something that is not CSS ({rule.message})")
    return out


def sanitise(css: str) -> Sanitised:
    """Keep what is safe of ``css``; say what went (at most ``MAX_LENGTH`` characters)."""
    removed: list[str] = []
    if len(css) > MAX_LENGTH:
        removed.append(f"everything after the first {MAX_LENGTH:,} characters")
        css = css[:MAX_LENGTH]
    rules = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
    text = "\n".join(_rules(rules, removed))
    # A "</style>" inside a string or selector must not end the element: escape every
    # "<" the CSS way (a valid escape in strings and identifiers alike).
    return Sanitised(text.replace("<", "\\3c "), removed)
