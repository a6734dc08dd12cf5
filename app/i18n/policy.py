"""What a merchant may write in place of one of our strings. Pure rules.

Our strings are ``%``-format strings (``%(merchant)s``, ``%(num)d``; a literal percent
sign is ``%%``), and our default dunning copy also has ``{name}``-style merge fields.
An override may drop a placeholder, move it or repeat it, but not invent one: a
placeholder the page cannot fill would break it.
"""

from __future__ import annotations

import re

MAX_OVERRIDE = 2000
#: ``%(name)s`` / ``%(num)d`` / ``%(month)02d``, ``%%``, or a lone ``%`` (a mistake).
_PERCENT = re.compile(r"%\((?P<name>\w+)\)[-#0 +]*\d*(?:\.\d+)?(?P<kind>[sdif])|%%|%")
_BRACES = re.compile(r"\{([a-z_]+)\}")


def percent_names(text: str) -> set[str] | None:
    """The ``%(name)s`` placeholders of ``text``; None when a ``%`` stands alone."""
    names = set()
    for match in _PERCENT.finditer(text):
        if match.group(0) == "%":
            return None
        if match.group("name"):
            names.add(match.group("name"))
    return names


def numeric_names(text: str) -> set[str]:
    """The placeholders ``text`` formats as numbers (``%(num)d``)."""
    return {m.group("name") for m in _PERCENT.finditer(text) if m.group("kind") in ("d", "i", "f")}


def brace_names(text: str) -> set[str]:
    return set(_BRACES.findall(text))


def override_problems(msgid: str, text: str) -> list[str]:
    """What is wrong with ``text`` as the merchant's wording of ``msgid`` (empty: fine)."""
    problems = []
    if len(text) > MAX_OVERRIDE:
        problems.append(f"the text is {len(text)} characters; keep it under {MAX_OVERRIDE}")
    allowed = percent_names(msgid) or set()
    used = percent_names(text)
    if used is None:
        problems.append('write a percent sign as "%%"')
    elif used - allowed:
        unknown = ", ".join(f"%({name})s" for name in sorted(used - allowed))
        known = ", ".join(f"%({name})s" for name in sorted(allowed)) or "none"
        problems.append(f"unknown placeholder {unknown}; this text can use {known}")
    else:
        wrong = numeric_names(text) - numeric_names(msgid)
        if wrong:
            fix = ", ".join(f"%({name})s" for name in sorted(wrong))
            problems.append(f"{fix} is text, not a number: write {fix}")
    allowed_braces = brace_names(msgid)
    if allowed_braces and brace_names(text) - allowed_braces:
        unknown = ", ".join("{" + n + "}" for n in sorted(brace_names(text) - allowed_braces))
        known = ", ".join("{" + n + "}" for n in sorted(allowed_braces))
        problems.append(f"unknown placeholder {unknown}; this text can use {known}")
    return problems
