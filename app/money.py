"""Money is integer minor units plus an ISO currency; this turns it into text."""

from __future__ import annotations

# ISO 4217 currencies Stripe counts in whole units, or in thousandths.
_ZERO_DECIMAL = frozenset(
    [
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    ]
)
_THREE_DECIMAL = frozenset(["bhd", "jod", "kwd", "omr", "tnd"])


def minor_digits(currency: str | None) -> int:
    """How many decimal digits the currency's minor unit has (Stripe's rules)."""
    code = (currency or "").lower()
    return 0 if code in _ZERO_DECIMAL else 3 if code in _THREE_DECIMAL else 2


def format_money(minor: int, currency: str | None) -> str:
    """``format_money(123456, "usd") == "1,234.56 USD"`` (integer arithmetic only)."""
    code = (currency or "").lower()
    digits = minor_digits(code)
    whole, part = divmod(abs(minor), 10**digits)
    text = f"{whole:,}" + (f".{part:0{digits}d}" if digits else "")
    return f"{'-' if minor < 0 else ''}{text} {code.upper()}"


def decimal_text(minor: int, currency: str | None) -> str:
    """``decimal_text(123456, "usd") == "1234.56"``: major units, no separators (for CSV)."""
    digits = minor_digits(currency)
    whole, part = divmod(abs(minor), 10**digits)
    return f"{'-' if minor < 0 else ''}{whole}" + (f".{part:0{digits}d}" if digits else "")
