"""The evidence document: a readable PDF of the whole record (fpdf2, the standard
Helvetica fonts), uploaded to Stripe as the dispute's ``uncategorized_file``.

:func:`render` is pure: :class:`~.evidence.Facts` and the text fields in, bytes out.
Nothing is cut here: the PDF holds every email, visit and attempt even when the text
fields had to leave the older ones out.
"""

from __future__ import annotations

from fpdf import FPDF

from . import evidence
from .evidence import Facts

TITLE = "Dispute evidence"


def _latin(text: str) -> str:
    """The core fonts speak Windows-1252 only: anything else becomes a question mark."""
    return text.encode("cp1252", errors="replace").decode("cp1252")


class _Document(FPDF):
    def __init__(self, merchant: str) -> None:
        super().__init__(format="Letter")
        self.merchant = merchant
        self.set_auto_page_break(auto=True, margin=18)
        self.set_title(_latin(f"{TITLE}: {merchant}"))
        self.set_creator("Backstop")

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font("Helvetica", size=8)
        self.set_text_color(110)
        self.cell(0, 6, _latin(f"{self.merchant} - {TITLE} - page {self.page_no()}"), align="C")
        self.set_text_color(0)

    def heading(self, text: str) -> None:
        self.ln(3)
        self.set_font("Helvetica", "B", 12)
        self.multi_cell(0, 7, _latin(text), new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", size=9)

    def para(self, text: str) -> None:
        self.set_font("Helvetica", size=9)
        self.multi_cell(0, 4.6, _latin(text), new_x="LMARGIN", new_y="NEXT")

    def rows(self, lines: list[str], empty: str) -> None:
        if not lines:
            self.set_text_color(110)
            self.para(empty)
            self.set_text_color(0)
            return
        for line in lines:
            self.para(f"- {line}")


def render(facts: Facts, fields: dict[str, str]) -> bytes:
    """The evidence PDF for ``facts`` with the text ``fields`` as they will be sent."""
    doc = _Document(facts.merchant)
    doc.add_page()
    doc.set_font("Helvetica", "B", 18)
    doc.cell(0, 10, _latin(TITLE), new_x="LMARGIN", new_y="NEXT")
    doc.set_font("Helvetica", size=10)
    charged = evidence.day(facts.charged_at) if facts.charged_at else "-"
    for label, value in (
        ("Merchant", facts.merchant),
        ("Customer", " ".join(filter(None, [facts.customer_name, facts.customer_email])) or "-"),
        ("Disputed payment", f"{evidence.money(facts.amount_minor, facts.currency)} on {charged}"),
        ("Bank's reason", facts.reason.replace("_", " ")),
        ("Product", facts.product or "-"),
        ("Service period", fields.get("service_date", "-")),
    ):
        doc.set_font("Helvetica", "B", 10)
        doc.cell(42, 6, _latin(label))
        doc.set_font("Helvetica", size=10)
        doc.multi_cell(0, 6, _latin(value), new_x="LMARGIN", new_y="NEXT")
    if "cancellation_policy_disclosure" in fields:
        doc.heading("Terms and cancellation policy")
        doc.para(fields["cancellation_policy_disclosure"])
    doc.heading("Emails sent to the customer")
    doc.rows(evidence.email_lines(facts), "No email was sent to this customer.")
    doc.heading("Customer activity (pages visited, emails opened)")
    doc.rows(evidence.activity_lines(facts), "No activity recorded.")
    doc.heading("Visits to the cancel page")
    doc.rows(
        [evidence.cancel_line(c) for c in facts.cancel_visits], "The customer never opened it."
    )
    doc.heading("Card updates")
    doc.rows(
        [f"{evidence.stamp(c.at)}: {c.how}" for c in facts.card_updates], "No card update recorded."
    )
    doc.heading("Payment attempts")
    doc.rows(evidence.attempt_lines(facts), "No payment attempt recorded by Backstop.")
    doc.heading("Billing history")
    doc.rows(evidence.bill_lines(facts), "No invoice recorded.")
    if facts.sources:
        doc.heading("Where this comes from")
        doc.para("; ".join(facts.sources))
    return bytes(doc.output())
