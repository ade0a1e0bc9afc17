"""The buyer's mail subject (dian-facts 4.1) and DIAN's address lists read as issuing/delivery.py reads them."""

from __future__ import annotations

from types import SimpleNamespace

from dian.codes import DocumentType
from dian.soap.results import Acquirer, ExchangeEmails
from issuing.delivery import BuyerAddresses, mail_subject


def _document(kind: DocumentType = DocumentType.INVOICE, *, trade_name: str | None = None, name: str = "Facturador"):
    supplier = SimpleNamespace(nit="99998888", registration_name=name, trade_name=trade_name)
    return SimpleNamespace(supplier=supplier, number="FEV500", document_type=kind)


def test_subject_fields_in_the_annex_order() -> None:
    # Annex 1.9 §9.1's example, without the spaces the rule does not have.
    doc = _document(name="Facturador Ejemplo")
    assert (
        mail_subject(doc, "ContabilidadBog")
        == "99998888;Facturador Ejemplo;FEV500;01;Facturador Ejemplo;ContabilidadBog"
    )
    assert mail_subject(doc) == "99998888;Facturador Ejemplo;FEV500;01;Facturador Ejemplo"
    assert mail_subject(_document(trade_name="EMCALI", name="EMCALI EICE ESP")).endswith(";01;EMCALI")


def test_notes_carry_91_and_92_and_no_field_breaks_the_layout() -> None:
    assert mail_subject(_document(DocumentType.CREDIT_NOTE)).split(";")[3] == "91"
    assert mail_subject(_document(DocumentType.DEBIT_NOTE)).split(";")[3] == "92"
    subject = mail_subject(_document(name="Uno; Dos\r\nTres", trade_name="  "), " ;\n")
    assert subject == "99998888;Uno, Dos Tres;FEV500;01;Uno, Dos Tres;,"
    assert len(subject.split(";")) == 6


class _Client:
    def __init__(self, email: str | None, csv: bytes) -> None:
        self.email, self.csv = email, csv

    def get_acquirer(self, id_type: str, id_number: str) -> Acquirer:
        assert (id_type, id_number) == ("31", "900654321")
        return Acquirer("00", "ok", "X", self.email)

    def get_exchange_emails(self) -> ExchangeEmails:
        return ExchangeEmails(True, "0", "", self.csv)


def test_dians_lists() -> None:
    csv = b'Nit,RazonSocial,CorreoElectronico,FechaActualizacion\r\n900654321,"A, B",fe@ab.test,\r\n'
    addresses = BuyerAddresses(_Client(" fe@acq.test ", csv))
    assert addresses.acquirer("31", "900654321") == "fe@acq.test"
    assert addresses.exchange("900654321") == "fe@ab.test" and addresses.exchange("1") is None
    assert BuyerAddresses(_Client("", csv)).acquirer("31", "900654321") is None
    assert BuyerAddresses().acquirer("31", "1") is None and BuyerAddresses().exchange("1") is None
