"""What the leak tests share: every log record at DEBUG, captured by a handler of our
own on the root logger, and the telltale fragments of a secret to look for."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

#: Attributes every LogRecord has; anything else was passed in ``extra=``.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
#: Known prefixes: the part after one is the secret's body, a leak on its own.
_PREFIX = re.compile(r"^(?:[a-z]+_(?:test_|live_)?)")
#: Shorter runs are too common to mean anything (hints show the last 4 characters).
SHORTEST_FRAGMENT = 10


class _Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        text = self.format(record)  # the message, its arguments, any traceback
        extra = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        self.texts.append(f"{text} {extra!r}" if extra else text)


@contextmanager
def every_log_record() -> Iterator[list[str]]:
    """Everything logged at DEBUG and above, by any logger, while the block runs."""
    root = logging.getLogger()
    handler, level = _Everything(), root.level
    # Loggers that set their own level (or were disabled) would hide records from us.
    quiet = {
        name: (lg.level, lg.disabled)
        for name, lg in logging.Logger.manager.loggerDict.items()
        if isinstance(lg, logging.Logger)
    }
    for name in quiet:
        lg = logging.getLogger(name)
        lg.setLevel(logging.NOTSET)
        lg.disabled = False
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler.texts
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        for name, (lvl, disabled) in quiet.items():
            lg = logging.getLogger(name)
            lg.setLevel(lvl)
            lg.disabled = disabled


def fragments(secret: str) -> set[str]:
    """The secret, its body after a known prefix (``sk_test_``, ``whsec_``, ``bk_``...)
    and the first and last stretch of that body: any of them on a page or in a log is a
    leak (an ellipsis in the middle does not make a secret safe)."""
    found = {secret}
    body = _PREFIX.sub("", secret)
    if "/" in body:  # a URL whose last segment is the token (Slack, Discord)
        body = body.rstrip("/").rsplit("/", 1)[1]
    found.add(body)
    if len(body) >= 2 * SHORTEST_FRAGMENT:
        found |= {body[:SHORTEST_FRAGMENT], body[-SHORTEST_FRAGMENT:]}
    return {f for f in found if len(f) >= SHORTEST_FRAGMENT}


@dataclass
class Leaks:
    """Where any fragment of any named secret was seen."""

    secrets: dict[str, str]
    whole_only: dict[str, str] = field(default_factory=dict)
    found: list[str] = field(default_factory=list)

    def scan(self, where: str, text: str, *, allowed: Iterable[str] = ()) -> None:
        wanted = [(name, fragments(secret)) for name, secret in self.secrets.items()]
        wanted += [(name, {secret}) for name, secret in self.whole_only.items()]
        for name, telltales in wanted:
            if name in allowed:
                continue
            for fragment in telltales:
                if fragment in text:
                    at = text.index(fragment)
                    context = text[max(0, at - 60) : at + len(fragment) + 20]
                    self.found.append(f"{name} in {where}: …{context!r}…")
                    break
