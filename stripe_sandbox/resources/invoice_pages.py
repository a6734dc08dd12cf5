"""What the customer sees of an invoice: the hosted invoice page (``hosted_invoice_url``)
and its PDF (``invoice_pdf``), reached with no key, as Stripe's links are."""

from __future__ import annotations

import html
import re

from werkzeug.wrappers import Request, Response

from .. import invoice_pdf
from ..api import route
from ..store import State, snapshot


@route("GET", "/invoice/<account_id>/<oid>", auth="none")
def hosted_page(state: State, request: Request, account_id: str, oid: str) -> Response:
    """Stripe's hosted invoice page, reduced to what a customer needs to see; with
    ``?format=pdf`` (the invoice's ``invoice_pdf``), the invoice as a PDF file."""
    with state.lock:
        acct = state.accounts.get(account_id)
        inv = acct.get(oid, "invoice") if acct else None
        if inv is None or inv["status"] == "draft":
            return Response("Invoice not found", status=404, mimetype="text/plain")
        inv = snapshot(inv)
    if request.args.get("format") == "pdf":
        response = Response(invoice_pdf.render(inv), mimetype="application/pdf")
        name = re.sub(r"[^A-Za-z0-9_-]", "", inv["number"] or inv["id"])
        response.headers["Content-Disposition"] = f'attachment; filename="Invoice-{name}.pdf"'
        return response
    esc = html.escape
    rows = "".join(
        f"<tr><td>{esc(line['description'] or '')}</td>"
        f"<td class=n>{line['amount'] / 100:.2f}</td></tr>"
        for line in inv["lines"]["data"]
    )
    cur = inv["currency"].upper()
    body = f"""<!doctype html><html lang=en><head><meta charset=utf-8>
<meta name=viewport content="width=device-width, initial-scale=1">
<title>Invoice {esc(inv["number"] or inv["id"])}</title>
<style>body{{font:15px/1.5 system-ui,sans-serif;background:#f6f8fa;color:#1a1f36;margin:0}}
main{{max-width:480px;margin:40px auto;background:#fff;border-radius:8px;padding:28px;
box-shadow:0 1px 3px rgba(0,0,0,.1)}}h1{{font-size:20px;margin:0 0 4px}}.muted{{color:#697386}}
table{{width:100%;border-collapse:collapse;margin:18px 0}}td{{padding:8px 0;
border-bottom:1px solid #e3e8ee}}.n{{text-align:right}}.status{{display:inline-block;
padding:2px 8px;border-radius:4px;background:#e3e8ee;font-size:13px}}</style></head>
<body><main><h1>{cur} {inv["amount_due"] / 100:.2f}</h1>
<p class=muted>Invoice {esc(inv["number"] or "")} · <span class=status>{esc(inv["status"])}
</span></p><table>{rows}<tr><td><b>Amount remaining</b></td>
<td class=n><b>{inv["amount_remaining"] / 100:.2f}</b></td></tr></table>
<p><a href="?format=pdf">Download invoice</a></p>
<p class=muted>Stripe sandbox: payments on this page are made by the API
(<code>POST /v1/invoices/{esc(oid)}/pay</code>).</p></main></body></html>"""
    return Response(body, mimetype="text/html")
