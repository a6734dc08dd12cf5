"""What the texts say: short (one 160-character SMS where the link allows), the
merchant's name, the amount, the card-update link and how to opt out. Our wording is
marked with ``N_`` and translated into the customer's language by the caller's
``translate`` (Settings → Languages can reword it); placeholders are ``{name}``."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ..dunning.copy import fill
from ..i18n import N_

MAX_MERCHANT = 30

FIRST = N_("{merchant}: {amount} payment failed. Update your card: {link} Reply STOP to opt out.")
LATER = N_("{merchant}: {amount} still due. Update your card: {link} Reply STOP to opt out.")
HELP = N_("{merchant}: for help with your billing, contact {contact}. Reply STOP to opt out.")
HELP_NO_CONTACT = N_("{merchant}: billing reminders. Reply STOP to opt out.")
TEST = N_("{merchant}: this is a test text from Backstop. Reply STOP to opt out.")

#: Typography that would push a text out of GSM-7 (and so to 70 characters a part).
_PLAIN = str.maketrans(
    {
        "\u00a0": " ",
        "\u202f": " ",
        "\u2009": " ",
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
    }
)


def plain(text: str) -> str:
    """``text`` with typographic spaces, quotes and dashes made plain (GSM-7)."""
    return " ".join(text.translate(_PLAIN).split())


def merchant_name(name: str) -> str:
    name = plain(name)
    return name if len(name) <= MAX_MERCHANT else name[: MAX_MERCHANT - 1].rstrip() + "."


def reminder(
    *,
    merchant: str,
    amount: str,
    link: str,
    is_first: bool,
    translate: Callable[[str], str] = str,
) -> str:
    """A dunning text: the first says the payment failed, later ones that it is due."""
    return _render(FIRST if is_first else LATER, translate, merchant, amount=amount, link=link)


def help_reply(*, merchant: str, contact: str | None, translate: Callable[[str], str] = str) -> str:
    if contact:
        return _render(HELP, translate, merchant, contact=contact)
    return _render(HELP_NO_CONTACT, translate, merchant)


def trial_text(*, merchant: str, translate: Callable[[str], str] = str) -> str:
    return _render(TEST, translate, merchant)


def _render(message: str, translate: Callable[[str], str], merchant: str, **values: str) -> str:
    filled: Mapping[str, str] = {"merchant": merchant_name(merchant), **values}
    return plain(fill(translate(message), {k: plain(v) for k, v in filled.items()}))
