"""A workspace's languages on the database: its default, its own wording (applied,
validated, audited, and never seen by another workspace), and the language a customer
is written to in."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from flask import render_template_string
from sqlalchemy import event, select

from app.audit.models import AuditEntry
from app.errors import Refusal
from app.extensions import db
from app.i18n import gettext, services, use_customer
from app.i18n.models import StringOverride
from app.retain import pages
from app.stripe import mirror

from .. import factories as f


def _override(ws, locale, msgid, text):
    services.set_override(db.session, ws.id, locale, msgid, text, actor_id=None, actor_label="t")


def test_the_default_language_is_english_until_chosen(ctx) -> None:
    ws = f.workspace(name="A")
    assert services.default_locale(db.session, ws.id) == "en"
    services.set_default_locale(db.session, ws.id, "fr", actor_id=None, actor_label="jo")
    services.set_default_locale(db.session, ws.id, "fr", actor_id=None, actor_label="jo")
    assert services.default_locale(db.session, ws.id) == "fr"
    entries = db.session.execute(select(AuditEntry)).scalars().all()
    assert [(e.action, e.details) for e in entries] == [
        ("languages.default", {"before": "en", "after": "fr"})
    ]


@pytest.mark.parametrize("locale", ["pt", "", "DE", "de-DE"])
def test_only_our_languages_can_be_the_default(ctx, locale) -> None:
    ws = f.workspace(name="A")
    with pytest.raises(Refusal):
        services.set_default_locale(db.session, ws.id, locale, actor_id=None, actor_label="t")


def test_an_override_is_set_changed_removed_and_audited(ctx) -> None:
    ws = f.workspace(name="A")
    _override(ws, "de", "Save card", "Karte sichern")
    _override(ws, "de", "Save card", "  Karte merken ")
    assert services.overrides_for(db.session, ws.id, "de") == {"Save card": "Karte merken"}
    _override(ws, "de", "Save card", "   ")
    assert services.overrides_for(db.session, ws.id, "de") == {}
    _override(ws, "de", "Save card", "")  # nothing to remove: no audit entry
    actions = db.session.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars()
    assert list(actions) == [
        "languages.override",
        "languages.override",
        "languages.override_removed",
    ]


@pytest.mark.parametrize(
    ("locale", "msgid", "text", "problem"),
    [
        ("pt", "Save card", "x", "Choose one of the languages"),
        ("de", "Not one of ours", "x", "not one of ours"),
        ("de", "Save card and pay %(amount)s", "Zahlen: %(betrag)s", "Unknown placeholder"),
        ("fr", "Save card", "100% sûr", "Write a percent sign"),
    ],
)
def test_bad_overrides_are_refused_and_change_nothing(ctx, locale, msgid, text, problem) -> None:
    ws = f.workspace(name="A")
    with pytest.raises(Refusal) as refused:
        _override(ws, locale, msgid, text)
    assert any(problem in e for e in refused.value.errors), refused.value.errors
    assert db.session.execute(select(StringOverride)).first() is None


def test_overrides_apply_in_their_workspace_and_language_only(app, ctx) -> None:
    mine, theirs = f.workspace(name="Mine"), f.workspace(name="Theirs")
    _override(mine, "de", "Save card", "Karte sichern")
    _override(mine, "en", "Save card", "Keep this card")
    db.session.commit()
    template = "{{ _('Save card') }}|{{ _('Cancel anyway') }}"
    for workspace, locale, expected in [
        (mine, "de", "Karte sichern|Trotzdem kündigen"),
        (mine, "en", "Keep this card|Cancel anyway"),
        (mine, "fr", "Enregistrer la carte|Résilier quand même"),
        (theirs, "de", "Karte speichern|Trotzdem kündigen"),
        (theirs, "en", "Save card|Cancel anyway"),
    ]:
        with app.test_request_context("/", headers={"Accept-Language": locale}):
            use_customer(workspace, None)
            assert render_template_string(template) == expected, (workspace.name, locale)


def test_the_overrides_are_read_once_per_request(app, ctx) -> None:
    ws = f.workspace(name="A")
    _override(ws, "de", "Save card", "Karte sichern")
    db.session.commit()
    queries = []

    def count(conn, cursor, statement, *args):
        if "string_override" in statement:
            queries.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        with app.test_request_context("/", headers={"Accept-Language": "de"}):
            use_customer(ws, {"preferred_locales": ["de"]})
            for _ in range(20):
                assert gettext("Save card") == "Karte sichern"
                render_template_string("{{ _('Cancel anyway') }}")
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(queries) == 1


def test_our_defaults_on_the_cancel_page_are_translated_the_merchants_are_not(app, ctx) -> None:
    session = SimpleNamespace(
        outcome="saved",
        offer={"type": "pause", "resumes_at": "2026-09-01T00:00:00+00:00"},
        customer_name=None,
        plan_name=None,
        amount_minor=2900,
        currency="usd",
        interval="month",
        interval_count=3,
        ends_at=None,
        period_end=None,
    )
    with app.test_request_context("/", headers={"Accept-Language": "es"}):
        use_customer(None, None)
        title, body = pages.outcome_copy({"success": {}}, session)
        assert title == "Todo listo"
        assert body.startswith("Tu suscripción está en pausa hasta el 1 de septiembre de 2026")
        title, _ = pages.outcome_copy(
            {"success": {"saved_title": "¡Genial, {customer_name}!"}}, session
        )
        assert title == "¡Genial, cliente!"  # the merchant's words; our stand-in for the name
        assert pages.price_text(2900, "usd", "month", 3) == "29,00\xa0US$ / 3 meses"
        assert pages.offer_summary({"type": "free_months", "months": 1}) == "1 mes gratis"


def test_a_customers_language_for_email(ctx) -> None:
    ws = f.workspace(name="A")
    mirror.upsert(
        db.session, ws.id, {"id": "cus_fr", "object": "customer", "preferred_locales": ["fr-CA"]}, 1
    )
    mirror.upsert(
        db.session, ws.id, {"id": "cus_pt", "object": "customer", "preferred_locales": ["pt"]}, 1
    )
    other = f.workspace(name="B")
    mirror.upsert(
        db.session, other.id, {"id": "cus_de", "object": "customer", "preferred_locales": ["de"]}, 1
    )
    services.set_default_locale(db.session, ws.id, "es", actor_id=None, actor_label="t")
    assert services.customer_locale(db.session, ws.id, "cus_fr") == "fr"
    assert services.customer_locale(db.session, ws.id, "cus_pt") == "es"
    assert services.customer_locale(db.session, ws.id, None) == "es"
    # Another workspace's customer of the same id is not this one's.
    assert services.customer_locale(db.session, ws.id, "cus_de") == "es"


def test_a_translator_formats_like_templates() -> None:
    german = services.translator("de", {"Save card": "100%% sicher"})
    assert german.gettext("Save card") == "100% sicher"
    assert german.translate("Save card") == "100% sicher"  # marked strings read the same
    assert german.translate("Stripe says 5% off") == "Stripe says 5% off"  # not ours: as is
    assert (
        german.ngettext("Pause for %(num)d day", "Pause for %(num)d days", 3) == "3 Tage pausieren"
    )
    assert german.money(123456, "eur") == "1.234,56\xa0€"
    assert services.translator().gettext("Save card") == "Save card"
