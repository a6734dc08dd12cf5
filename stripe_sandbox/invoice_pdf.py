"""The invoice PDF behind ``invoice_pdf``: a small PDF written by hand (PDF 1.4, the
standard Helvetica fonts, one or more Letter pages) with the invoice's number, dates,
the customer, each line and the totals.

:func:`render` is pure: an invoice (as the API shows it) in, the file's bytes out.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

#: Currencies without minor units (Stripe's list): amounts are whole units.
ZERO_DECIMAL = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga"}
    | {"pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"}
)

PAGE_WIDTH, PAGE_HEIGHT = 612, 792  # US Letter, in points
LEFT, RIGHT = 50, 562
QTY_RIGHT = 420
FOOTER_Y = 40
BOTTOM = 90  # lines stop here and go on on a new page

#: Helvetica and Helvetica-Bold advance widths (1/1000 em) of the characters that are
#: right-aligned: amounts, quantities and their labels. Others count as 556.
_WIDTHS = {**dict.fromkeys("0123456789", 556), ".": 278, ",": 278, "-": 333, " ": 278}


def amount_text(amount: int, currency: str) -> str:
    """``2500, "usd"`` -> ``"25.00"``; ``-1200, "jpy"`` -> ``"-1,200"``."""
    if currency.lower() in ZERO_DECIMAL:
        return f"{amount:,}"
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount) // 100:,}.{abs(amount) % 100:02d}"


def day_text(stamp: int) -> str:
    moment = datetime.fromtimestamp(stamp, UTC)
    return f"{moment:%B} {moment.day}, {moment.year}"


def _period_text(period: dict[str, int]) -> str:
    start = datetime.fromtimestamp(period["start"], UTC)
    end = datetime.fromtimestamp(period["end"], UTC)
    return f"{start:%b} {start.day}, {start.year} \N{EN DASH} {end:%b} {end.day}, {end.year}"


def _pdf_string(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")  # WinAnsiEncoding, as the fonts declare
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


class _Page:
    def __init__(self) -> None:
        self.ops: list[bytes] = []

    def text(
        self, x: float, y: float, text: str, *, size: int = 10, bold: bool = False, end=False
    ) -> None:
        """Write ``text`` starting at ``x`` (or ending there with ``end=True``)."""
        if end:
            x -= sum(_WIDTHS.get(c, 556) for c in text) * size / 1000
        font = b"/F2" if bold else b"/F1"
        self.ops.append(
            b"BT %s %d Tf %.2f %.2f Td %s Tj ET" % (font, size, x, y, _pdf_string(text))
        )

    def rule(self, y: float) -> None:
        self.ops.append(b"0.8 G 0.5 w %d %.2f m %d %.2f l S 0 G" % (LEFT, y, RIGHT, y))


def _header(page: _Page, inv: dict[str, Any]) -> float:
    """The top of the first page; returns where the lines start."""
    page.text(LEFT, 740, "Invoice", size=22, bold=True)
    if inv.get("account_name"):
        page.text(RIGHT, 745, inv["account_name"], size=11, bold=True, end=True)
    issued = inv["status_transitions"].get("finalized_at") or inv["created"]
    facts = [
        ("Invoice number", inv.get("number") or inv["id"]),
        ("Date of issue", day_text(issued)),
    ]
    if inv.get("due_date"):
        facts.append(("Date due", day_text(inv["due_date"])))
    facts.append(("Status", inv["status"]))
    y = 705
    for label, value in facts:
        page.text(LEFT, y, label, size=9)
        page.text(LEFT + 95, y, value, size=9)
        y -= 14
    y -= 10
    page.text(LEFT, y, "Bill to", size=9, bold=True)
    for row in _bill_to(inv):
        y -= 13
        page.text(LEFT, y, row, size=9)
    y -= 30
    page.text(LEFT, y, _headline(inv), size=14, bold=True)
    return y - 34


def _headline(inv: dict[str, Any]) -> str:
    """``USD 30.00 paid on October 21, 2026``, ``… due``, ``… void``."""
    cur = inv["currency"]
    if inv["status"] == "paid":
        paid_at = inv["status_transitions"].get("paid_at")
        amount = f"{cur.upper()} {amount_text(inv['amount_paid'], cur)}"
        return f"{amount} paid on {day_text(paid_at)}" if paid_at else f"{amount} paid"
    amount = f"{cur.upper()} {amount_text(inv['amount_due'], cur)}"
    if inv["status"] == "void":
        return f"{amount} void"
    return f"{amount} due {day_text(inv['due_date'])}" if inv.get("due_date") else f"{amount} due"


def _bill_to(inv: dict[str, Any]) -> list[str]:
    rows = [inv.get("customer_name"), inv.get("customer_email")]
    address = inv.get("customer_address") or {}
    rows += [address.get("line1"), address.get("line2")]
    city = " ".join(v for v in (address.get("postal_code"), address.get("city")) if v)
    rows += [", ".join(v for v in (city, address.get("state")) if v), address.get("country")]
    rows += [f"{t['type'].upper()} {t['value']}" for t in inv.get("customer_tax_ids") or []]
    return [r for r in rows if r]


def _table_head(page: _Page, y: float) -> float:
    page.text(LEFT, y, "Description", size=9, bold=True)
    page.text(QTY_RIGHT, y, "Qty", size=9, bold=True, end=True)
    page.text(RIGHT, y, "Amount", size=9, bold=True, end=True)
    page.rule(y - 6)
    return y - 22


def _totals(inv: dict[str, Any]) -> list[tuple[str, int, bool]]:
    rows = [("Subtotal", inv["subtotal"], False)]
    discount = sum(d["amount"] for d in inv.get("total_discount_amounts") or [])
    if discount:
        rows.append(("Discount", -discount, False))
    rows.append(("Total", inv["total"], True))
    applied = inv["amount_due"] - inv["total"]
    if applied:
        rows.append(("Applied balance", applied, False))
    rows.append(("Amount due", inv["amount_due"], True))
    if inv["amount_paid"]:
        rows.append(("Amount paid", inv["amount_paid"], False))
        rows.append(("Amount remaining", inv["amount_remaining"], False))
    return rows


def _pages(inv: dict[str, Any]) -> list[_Page]:
    cur = inv["currency"]
    pages = [_Page()]
    y = _table_head(pages[0], _header(pages[0], inv))
    for line in inv["lines"]["data"]:
        if y < BOTTOM:
            pages.append(_Page())
            y = _table_head(pages[-1], 740)
        page = pages[-1]
        page.text(LEFT, y, (line.get("description") or "")[:90], size=9)
        page.text(QTY_RIGHT, y, str(line.get("quantity") or ""), size=9, end=True)
        page.text(RIGHT, y, amount_text(line["amount"], cur), size=9, end=True)
        page.text(LEFT, y - 11, _period_text(line["period"]), size=8)
        y -= 28
    rows = _totals(inv)
    if y - 18 * len(rows) < BOTTOM - 40:
        pages.append(_Page())
        y = 740
    pages[-1].rule(y + 8)
    y -= 8
    for label, amount, strong in rows:
        pages[-1].text(QTY_RIGHT - 150, y, label, size=10, bold=strong)
        pages[-1].text(RIGHT, y, amount_text(amount, cur), size=10, bold=strong, end=True)
        y -= 18
    number = inv.get("number") or inv["id"]
    for index, page in enumerate(pages, start=1):
        footer = f"{number} \N{MIDDLE DOT} {cur.upper()} {amount_text(inv['amount_due'], cur)}"
        page.text(LEFT, FOOTER_Y, footer, size=8)
        page.text(RIGHT, FOOTER_Y, f"Page {index} of {len(pages)}", size=8, end=True)
    return pages


def render(inv: dict[str, Any]) -> bytes:
    """The invoice as a PDF file."""
    pages = _pages(inv)
    first_page = 6
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>"
        % (
            b" ".join(b"%d 0 R" % (first_page + 2 * i) for i in range(len(pages))),
            len(pages),
        ),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Title %s /Producer (Stripe sandbox) >>"
        % _pdf_string(f"Invoice {inv.get('number') or inv['id']}"),
    ]
    for index, page in enumerate(pages):
        stream = b"\n".join(page.ops)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] "
            b"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents %d 0 R >>"
            % (PAGE_WIDTH, PAGE_HEIGHT, first_page + 2 * index + 1)
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 5 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
