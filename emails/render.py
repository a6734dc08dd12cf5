from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from premailer import Premailer

TEMPLATES = Path(__file__).resolve().parent / "templates"

_env = Environment(
    loader=FileSystemLoader(str(TEMPLATES)),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    keep_trailing_newline=False,
)
# premailer logs every CSS property mail clients may not support; that is noise here.
logging.getLogger("premailer").setLevel(logging.ERROR)

DEFAULT_BRAND = {"name": "Backstop", "color": "#4f46e5", "logo_url": None, "address": None}


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def message_names() -> list[str]:
    return sorted(
        p.name for p in TEMPLATES.iterdir() if p.is_dir() and (p / "subject.txt").exists()
    )


def render(name: str, context: dict[str, Any]) -> Rendered:
    """Render message ``name`` with ``context`` (``brand`` defaults to Backstop's own)."""
    if name not in message_names():
        raise LookupError(f"no email template named {name!r}")
    ctx = {**context, "brand": {**DEFAULT_BRAND, **(context.get("brand") or {})}}
    subject = _env.get_template(f"{name}/subject.txt").render(ctx).strip()
    text = _env.get_template(f"{name}/body.txt").render(ctx).strip() + "\n"
    raw_html = _env.get_template(f"{name}/body.html").render(ctx)
    html = Premailer(
        raw_html,
        remove_classes=False,
        keep_style_tags=False,
        cssutils_logging_level=logging.CRITICAL,
        disable_validation=True,
    ).transform()
    return Rendered(subject=" ".join(subject.split()), text=text, html=html)
