"""Which numbering a supplier's document number belongs to (inbox.intake.known.number_key): the invoices of every
kind share one — a sale, export or contingency invoice repeating a number is a repeat — and each kind of note has its
own, so a credit note numbered like an invoice is not."""

from __future__ import annotations

from dian.codes import DocumentType
from inbox.intake.known import number_key


def test_invoices_share_a_numbering_and_each_note_has_its_own() -> None:
    invoices = {number_key("900111222", t, "FE100") for t in DocumentType if t.is_invoice}
    assert invoices == {("900111222", "invoice", "FE100")}
    credit = number_key("900111222", DocumentType.CREDIT_NOTE, "FE100")
    debit = number_key("900111222", DocumentType.DEBIT_NOTE, "FE100")
    assert len({*invoices, credit, debit}) == 3
    assert number_key("900111223", DocumentType.INVOICE, "FE100") not in invoices  # another supplier
    assert number_key("900111222", DocumentType.INVOICE, "FE1000") not in invoices  # another number
