"""The invoice's ``invoice_pdf``: a real PDF (checked here by reading its structure: the
cross-reference table, the objects, the streams' lengths) showing the number, the date,
the customer, each line and the totals; and ``hosted_invoice_url`` beside it."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from typing import Any

import pytest
import stripe

from stripe_sandbox.invoice_pdf import amount_text, render

from .shop import DAY, T0, Shop, month, open_shop


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def pdf_text(data: bytes) -> list[str]:
    """Check that ``data`` is a well-formed PDF and return the strings its pages show."""
    assert data.startswith(b"%PDF-1.") and data.rstrip().endswith(b"%%EOF")
    startxref = int(re.search(rb"startxref\s+(\d+)\s+%%EOF\s*$", data).group(1))
    assert data[startxref:].startswith(b"xref")
    table = re.match(rb"xref\s+0 (\d+)\s+((?:\d{10} \d{5} [fn] ?\r?\n)+)", data[startxref:])
    assert table is not None
    entries = table.group(2).splitlines()
    assert len(entries) == int(table.group(1))
    for number, entry in enumerate(entries[1:], start=1):
        offset = int(entry[:10])
        assert data[offset:].startswith(b"%d 0 obj" % number), f"object {number} misplaced"
    trailer = data[startxref + table.end() :]
    assert re.search(rb"/Root 1 0 R", trailer) and b"/Size %d" % len(entries) in trailer
    texts = []
    for match in re.finditer(rb"<< /Length (\d+) >>\nstream\n", data):
        length = int(match.group(1))
        stream = data[match.end() : match.end() + length]
        assert data[match.end() + length :].startswith(b"\nendstream")
        for literal in re.finditer(rb"\(((?:\\.|[^\\)])*)\) Tj", stream):
            raw = re.sub(rb"\\(.)", rb"\1", literal.group(1))
            texts.append(raw.decode("cp1252"))
    return texts


@pytest.fixture
def shop(client: stripe.StripeClient) -> Shop:
    return open_shop(client)


def _portal_customer(shop: Shop) -> Any:
    sub = shop.subscribe()
    shop.client.v1.customers.update(
        sub.customer,
        params={
            "email": "ada@example.com",
            "address": {"line1": "1 Main St", "city": "Berlin", "postal_code": "10115"},
        },
    )
    shop.client.v1.customers.tax_ids.create(
        sub.customer, params={"type": "eu_vat", "value": "DE123456789"}
    )
    return sub


def test_invoice_pdf_is_a_pdf_of_the_invoice(shop: Shop) -> None:
    client = shop.client
    sub = _portal_customer(shop)
    shop.advance_to(T0 + 10 * DAY)
    client.v1.subscriptions.update(
        sub.id, params={"items": [{"id": sub["items"].data[0].id, "price": shop.team.id}]}
    )
    shop.advance_to(month(1) + DAY)
    renewal = shop.latest_invoice(sub.id)
    assert renewal.status == "paid" and len(renewal.lines.data) == 3
    status, headers, body = fetch(renewal.invoice_pdf)
    assert status == 200 and headers["Content-Type"] == "application/pdf"
    assert headers["Content-Disposition"] == (
        f'attachment; filename="Invoice-{renewal.number}.pdf"'
    )
    texts = pdf_text(body)
    shown = "\n".join(texts)
    assert renewal.number in texts
    assert "October 21, 2026" in texts  # the date of issue (month(1), on the clock)
    for line in renewal.lines.data:
        assert line.description in texts
        assert amount_text(line.amount, "usd") in texts
    assert "1 × Pro (at 60.00 USD / month)" in texts  # noqa: RUF001 - Stripe's own sign
    assert f"USD {amount_text(renewal.amount_paid, 'usd')} paid on October 21, 2026" in texts
    assert amount_text(renewal.total, "usd") in texts
    for expected in ("Ada", "ada@example.com", "1 Main St", "10115 Berlin", "EU_VAT DE123456789"):
        assert expected in texts, shown
    assert "Page 1 of 1" in texts


def test_hosted_links_of_the_invoices_listed_by_customer(shop: Shop) -> None:
    client = shop.client
    sub = shop.subscribe()
    shop.advance_to(month(1) + DAY)
    shop.advance_to(month(2))  # the next renewal, still a draft
    listed = client.v1.invoices.list(params={"customer": sub.customer}).data
    assert [i.status for i in listed] == ["draft", "paid", "paid"]
    draft, *finalized = listed
    assert (draft.hosted_invoice_url, draft.invoice_pdf) == (None, None)
    for invoice in finalized:
        assert invoice.hosted_invoice_url.endswith(f"/invoice/{_account(client)}/{invoice.id}")
        assert invoice.invoice_pdf == invoice.hosted_invoice_url + "?format=pdf"
        status, headers, page = fetch(invoice.hosted_invoice_url)
        assert status == 200 and headers["Content-Type"].startswith("text/html")
        assert invoice.number in page.decode() and b'href="?format=pdf"' in page
        status, headers, body = fetch(invoice.invoice_pdf)
        assert status == 200 and headers["Content-Type"] == "application/pdf"
        assert invoice.number in pdf_text(body)
    # A draft has no page yet; neither has an invoice of another account.
    base = finalized[0].hosted_invoice_url.rsplit("/", 2)[0]
    assert fetch(f"{base}/{_account(client)}/{draft.id}?format=pdf")[0] == 404
    assert fetch(f"{base}/acct_1NOBODY/{finalized[0].id}?format=pdf")[0] == 404


def _account(client: stripe.StripeClient) -> str:
    return json.loads(client.raw_request("get", "/v1/account").body)["id"]


# -- the PDF writer alone ------------------------------------------------------------------------


def _invoice(lines: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": "in_test",
        "number": "ABC-0001",
        "account_name": None,
        "created": T0,
        "currency": "usd",
        "customer_name": "Ada (Ltd) \\ Co",
        "customer_email": None,
        "customer_address": None,
        "customer_tax_ids": [],
        "due_date": None,
        "status": "open",
        "status_transitions": {"finalized_at": T0, "paid_at": None},
        "lines": {
            "data": [
                {
                    "description": f"Line {n} – Crème brûlée",  # noqa: RUF001
                    "quantity": 1,
                    "amount": 100 * n,
                    "period": {"start": T0, "end": T0 + 30 * DAY},
                }
                for n in range(1, lines + 1)
            ]
        },
        "subtotal": 100,
        "total": 100,
        "total_discount_amounts": [],
        "amount_due": 100,
        "amount_paid": 0,
        "amount_remaining": 100,
        **extra,
    }


def test_many_lines_go_on_over_pages() -> None:
    data = render(_invoice(60))
    texts = pdf_text(data)
    assert b"/Count 3" in data
    assert [t for t in texts if t.startswith("Page ")] == [f"Page {n} of 3" for n in range(1, 4)]
    assert texts.count("Description") == 3  # the table's head on every page
    assert "Line 60 – Crème brûlée" in texts  # noqa: RUF001 - WinAnsi has both
    assert "Ada (Ltd) \\ Co" in texts  # escaped in the file, shown as is


def test_amounts_by_currency() -> None:
    assert amount_text(2500, "usd") == "25.00"
    assert amount_text(-1234567, "eur") == "-12,345.67"
    assert amount_text(-1200, "jpy") == "-1,200"
    assert amount_text(5, "USD") == "0.05"
    texts = pdf_text(render(_invoice(1, currency="jpy", status="void")))
    assert "JPY 100 void" in texts
