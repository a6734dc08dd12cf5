"""Every dunning touch renders, in HTML and plain text, for every decline class and
every sequence, with the copy that class needs."""

from __future__ import annotations

import datetime as dt

import pytest

import emails
from app.accounts.models import Workspace
from app.dunning.copy import EXPLANATIONS, VARIANTS
from app.dunning.sequences import SEQUENCES, touch_keys
from app.dunning.touches import TEMPLATE, context_for
from app.recovery.models import Campaign

NOW = dt.datetime(2026, 7, 1, 10, 0, tzinfo=dt.UTC)
CODES = {
    "insufficient_funds": ("scheduled", "insufficient_funds"),
    "expired_card": ("customer_action", "expired_card"),
    "authentication_required": ("customer_action", "authentication_required"),
    "no_recovery": ("no_recovery", "stolen_card"),
    "generic": ("immediate", "processing_error"),
}
WORKSPACE = Workspace(
    id=1, name="Acme <Yoga>", brand_color="#ff5500", postal_address="1 Main St, Springfield"
)


def render(variant: str, sequence: str, key: str, **kw):
    cls, code = CODES[variant]
    campaign = Campaign(
        workspace_id=1,
        amount_minor=4900,
        currency="eur",
        decline_class=cls,
        decline_code=code,
        customer_tz="Europe/Paris",
        opened_at=NOW,
        window_ends_at=NOW + dt.timedelta(days=30),
    )
    context = context_for(
        WORKSPACE,
        campaign,
        key=key,
        sequence=sequence,
        overrides={},
        customer_name="Jo Lee",
        link_url="https://pay.example/update-card/tok",
        at=NOW,
        **kw,
    )
    context["unsubscribe_url"] = "https://pay.example/unsubscribe/u"
    return context, emails.render(TEMPLATE, context)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize(("sequence", "key"), [(s, k) for s in SEQUENCES for k in touch_keys(s)])
def test_every_touch_renders_for_every_decline(variant, sequence, key) -> None:
    _, rendered = render(variant, sequence, key)
    explanation = EXPLANATIONS[variant]
    assert rendered.subject and "\n" not in rendered.subject and "{" not in rendered.subject
    for part in (rendered.text, rendered.html):
        assert "https://pay.example/update-card/tok" in part
        assert "https://pay.example/unsubscribe/u" in part
        assert "€49.00" in part and "{" not in part.replace("{ ", "")
    assert explanation.headline in rendered.text and explanation.button in rendered.html
    assert "Acme &lt;Yoga&gt;" in rendered.html and "<Yoga>" not in rendered.html  # escaped
    assert "1 Main St, Springfield" in rendered.html and "<style" not in rendered.html
    assert "Hi Jo," in rendered.text


def test_the_last_touch_names_the_deadline_in_the_customers_timezone() -> None:
    _, rendered = render("generic", "standard", "d14")
    assert rendered.subject.startswith("Last reminder")
    assert "by July 31" in rendered.text  # 30 days after 12:00 Paris on July 1


def test_the_extended_sequence_offers_and_then_announces_a_pause() -> None:
    context, rendered = render("insufficient_funds", "extended", "d7", pause_days=30)
    assert (
        context["offers_pause"] and "pause your subscription for 30 days" in rendered.text.lower()
    )
    paused = NOW + dt.timedelta(days=60)
    _, last = render("insufficient_funds", "extended", "d30", pause_days=30, paused_until=paused)
    assert last.subject == "Your Acme <Yoga> subscription is paused"
    assert "paused until August 30, 2026" in last.text and "will end" not in last.text
    _, early = render("insufficient_funds", "extended", "d3", pause_days=30)
    assert "Pause your subscription" not in early.html
