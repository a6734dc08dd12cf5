"""Rendering a message: subject, plain text and inlined HTML, in the recipient's
language (``locale``), with the merchant's own wording where they changed ours."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from premailer import Premailer

from .i18n import template_functions, translations_for

TEMPLATES = Path(__file__).resolve().parent / "templates"

_env = Environment(
    loader=FileSystemLoader(str(TEMPLATES)),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    keep_trailing_newline=False,
    extensions=["jinja2.ext.i18n"],
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


def render(
    name: str,
    context: dict[str, Any],
    *,
    locale: str = "en",
    overrides: Mapping[str, str] | None = None,
) -> Rendered:
    """Render message ``name`` with ``context`` (``brand`` defaults to Backstop's own)
    in ``locale``, with ``overrides`` ({msgid: text}, the merchant's wording in that
    language) over our catalogue. Values in ``context`` arrive formatted already."""
    if name not in message_names():
        raise LookupError(f"no email template named {name!r}")
    translations = translations_for(locale, overrides)
    ctx = {
        **context,
        **template_functions(lambda: translations),
        "lang": locale,
        "brand": {**DEFAULT_BRAND, **(context.get("brand") or {})},
    }
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
