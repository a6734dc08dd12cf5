"""Settings → Languages: the language a workspace's customers get by default, and its
own wording of any of our customer-facing strings, per language (``app/i18n``)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..accounts.access import current_workspace, require_role
from ..errors import Refusal
from ..extensions import db
from ..i18n import catalogues
from ..i18n import services as i18n
from ..i18n.locales import NATIVE_NAMES, SUPPORTED
from .chrome import feature_blueprint, on_refusal

bp = feature_blueprint("languages", __name__)


def _locale(value: str | None) -> str:
    return value if value in SUPPORTED else SUPPORTED[1]


def _page(locale: str, query: str, errors: list[str] | None = None, edited: dict | None = None):
    workspace = current_workspace()
    overrides = i18n.all_overrides(db.session, workspace.id)
    messages = [m for m in catalogues.messages() if not query or m.matches(query)]
    return render_template(
        "dashboard/languages.html",
        default_locale=i18n.default_locale(db.session, workspace.id),
        locale=locale,
        query=query,
        languages=[(code, NATIVE_NAMES[code]) for code in SUPPORTED],
        messages=messages,
        total=len(catalogues.messages()),
        overrides={msgid: text for (loc, msgid), text in overrides.items() if loc == locale},
        counts={code: sum(1 for loc, _ in overrides if loc == code) for code in SUPPORTED},
        errors=errors or [],
        edited=edited or {},
    )


@bp.get("/settings/languages")
def show():
    return _page(_locale(request.args.get("locale")), request.args.get("q", "").strip()[:200])


@bp.post("/settings/languages/default")
@require_role("owner", "admin")
def save_default():
    locale = request.form.get("default_locale", "")
    on_refusal(lambda refusal: _page(_locale(None), "", refusal.errors))
    i18n.set_default_locale(
        db.session,
        current_workspace().id,
        locale,
        actor_id=current_user.id,
        actor_label=current_user.email,
    )
    flash(f"Customers now get {NATIVE_NAMES[locale]} when nothing else says.", "success")
    return redirect(url_for("languages.show"))


@bp.post("/settings/languages/override")
@require_role("owner", "admin")
def save_override():
    form = request.form
    locale, msgid, text = form.get("locale", ""), form.get("msgid"), form.get("text")
    query = form.get("q", "").strip()[:200]
    if msgid is None or text is None:
        raise Refusal("Send the string and its text.")
    edited = {"msgid": msgid, "text": text}
    on_refusal(lambda refusal: _page(_locale(locale), query, refusal.errors, edited))
    i18n.set_override(
        db.session,
        current_workspace().id,
        locale,
        msgid,
        text,
        actor_id=current_user.id,
        actor_label=current_user.email,
    )
    name = NATIVE_NAMES[locale]
    flash(f"Saved: your {name} wording." if text.strip() else f"Back to our {name}.", "success")
    return redirect(url_for("languages.show", locale=locale, q=query or None))
