"""issuing.pdf: the graphic representation of documents built by issuing.document, rendered, rasterized with poppler
(pdftoppm) and read back: the QR on EVERY page decoded by a real decoder (zbarimg) equals the QR text hashed with the
CUFE/CUDE, and pdftotext finds the mandatory fields of radian-issuing-facts B.6. Page 1 (and page 2 of the long one) is
saved under test-artifacts/pdf/ to be looked at."""

from __future__ import annotations

import copy
import datetime as dt
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from dian.codes import Environment
from dian.errors import ParseError
from dian.trust import SigningIdentity
from dian.ubl.build import NumberingRange, Software
from dian.ubl.model import Address, Party
from issuing.document import IssuedDocument, Issuer, Numbering, issue_document
from issuing.pdf import PdfOptions, render_pdf
from issuing.pdf_content import number, price
from issuing.validation import require_payload
from tests.conftest import missing
from tests.pki import pki

AT = dt.datetime(2025, 3, 10, 15, 53, 10, tzinfo=dt.UTC)  # 10:53:10 in Bogotá
VALIDATED = dt.datetime(2025, 3, 10, 15, 53, 42, tzinfo=dt.UTC)
RANGE = NumberingRange("18760000001", dt.date(2019, 1, 19), dt.date(2030, 1, 19), "SETP", 990000000, 995000000,
                       "fc8eac422eba16e22ffd8c6f94b3f40a6e38162c")  # fmt: skip
SOFTWARE = Software(provider_nit="900123456", provider_dv="8", software_id="sw-buzon-1", pin="12345")
SELLER = Party(
    nit="900123456", dv="8", registration_name="Proveedor de Prueba S.A.S.", tax_level_codes=("O-13", "O-23"),
    address=Address(city="Bogotá, D.C.", city_code="11001", department="Bogotá", department_code="11", country="CO",
                    line="Cra 7 # 1-1"), email="facturacion@proveedor.example", phone="601 555 0101",
)  # fmt: skip
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "pdf"

CUSTOMER = {"id_type": "31", "id": "800199436", "dv": "4", "name": "Comprador Ejemplo S.A.", "tax_scheme": "01",
            "tax_levels": ["O-13"], "email": "recepcion@comprador.example",
            "address": {"line": "Cl 10 # 5-20", "city_code": "05001", "city": "Medellín",
                        "department": "Antioquia"}}  # fmt: skip
INVOICE = {
    "type": "01",
    "customer": CUSTOMER,
    "lines": [
        {"description": "Servicio de consultoría tributaria, marzo de 2025", "quantity": "2", "unit_price": "100000",
         "code": "S1", "adjustments": [{"reason": "Descuento 10 %", "percent": "10", "code": "09"}],
         "taxes": [{"scheme": "01", "rate": "19"}, {"scheme": "04", "rate": "8"}]},
        {"description": "Bolsa plástica", "quantity": "3", "unit_price": "0", "reference_price": "50",
         "taxes": [{"scheme": "22", "per_unit": "66"}]},
        {"description": "Papelería", "quantity": "1.5", "unit_price": "1234.565", "unit": "KGM",
         "taxes": [{"scheme": "01", "rate": "5"}]},
    ],
    "adjustments": [{"reason": "Pronto pago", "amount": "1000", "code": "03"},
                    {"reason": "Flete", "amount": "500", "charge": True}],
    "withholdings": [{"scheme": "05", "rate": "15"}, {"scheme": "06", "rate": "2.5"},
                     {"scheme": "07", "rate": "0.966"}],
    "payment": {"form": "2", "method": "42", "due_date": "2025-04-09"},
    "order_reference": "OC-4471",
    "notes": ["Gracias por su compra."],
}  # fmt: skip


def _long(lines: int) -> dict:
    data = copy.deepcopy(INVOICE)
    data["lines"] = [
        {"description": f"Artículo de catálogo número {i} " + ("con una descripción larga que ocupa dos renglones"
                                                                if i % 7 == 0 else ""),
         "quantity": str(i % 9 + 1), "unit_price": f"{1000 + 37 * i}.50", "code": f"A-{i:04d}",
         "adjustments": [{"reason": "Volumen", "percent": "5"}] if i % 5 == 0 else [],
         "taxes": [{"scheme": "01", "rate": "19" if i % 3 else "5"}]}
        for i in range(1, lines + 1)
    ]  # fmt: skip
    return data


EXPORT = {
    "type": "02", "currency": "USD", "exchange_rate": {"rate": "4100.25", "date": "2025-03-10"},
    "customer": {"id_type": "50", "id": "US-7788", "name": "Importer Inc.", "organization": "1",
                 "address": {"line": "1 Main St", "country": "US", "city": "Miami"}},
    "lines": [{"description": "Café verde de exportación", "quantity": "2", "unit_price": "1234.565",
               "adjustments": [{"reason": "Volumen", "percent": "3.5"}], "taxes": [{"scheme": "01", "rate": "0"}]}],
    "payment": {"form": "1", "method": "45"},
}  # fmt: skip
CREDIT_NOTE = {
    "type": "91", "concept": "1", "customer": CUSTOMER,
    "reference": {"number": "SETP990000123", "uuid": "ab" * 48, "issue_date": "2025-03-01"},
    "lines": [{"description": "Devolución de 1 unidad", "quantity": "1", "unit_price": "100000",
               "taxes": [{"scheme": "01", "rate": "19"}]}],
    "payment": {"form": "1", "method": "10"},
}  # fmt: skip
LONG = 110  # lines: three pages
CONTINGENCY_04 = dict(copy.deepcopy(INVOICE), type="04")


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    test_pki = pki()
    identity = SigningIdentity(key=test_pki.supplier.key, certificate=test_pki.supplier.cert,
                               chain=test_pki.supplier.chain)  # fmt: skip
    return Issuer(party=SELLER, software=SOFTWARE, identity=identity)


def _issue(data: dict, issuer: Issuer, number: int = 990000123, prefix: str = "SETP") -> IssuedDocument:
    payload = require_payload(copy.deepcopy(data))
    numbering = Numbering(prefix, number, RANGE if payload.type.is_invoice else None)
    return issue_document(payload, issuer=issuer, numbering=numbering, environment=Environment.TESTING, issued_at=AT)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        missing(f"{name} not installed (poppler-utils / zbar-tools: scripts/install-test-services)")
    return path  # type: ignore[return-value]


def _pages(pdf: Path, tmp_path: Path) -> list[Path]:
    subprocess.run([_tool("pdftoppm"), "-png", "-r", "100", str(pdf), str(tmp_path / "page")], check=True)
    return sorted(tmp_path.glob("page-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))


def _decode(png: Path) -> list[str]:
    result = subprocess.run([_tool("zbarimg"), "--quiet", "--raw", "-Sbinary", str(png)], capture_output=True)
    assert result.returncode in (0, 4), result.stderr.decode()  # 4: nothing found
    return [result.stdout.decode("utf-8")] if result.stdout else []


def _text(pdf: Path) -> str:
    result = subprocess.run([_tool("pdftotext"), str(pdf), "-"], capture_output=True, check=True)
    return result.stdout.decode("utf-8")


def _render(doc: IssuedDocument, tmp_path: Path, name: str, **kwargs) -> tuple[bytes, list[Path], str]:
    pdf = render_pdf(doc.xml, **kwargs)
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    pages = _pages(path, tmp_path)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{name}.pdf").write_bytes(pdf)
    for index, page in enumerate(pages[:2], start=1):
        shutil.copyfile(page, ARTIFACTS / f"{name}-p{index}.png")
    for page in pages:
        decoded = _decode(page)
        assert decoded == [doc.qr_text], f"{page.name}: the QR decodes to {decoded!r}"
    return pdf, pages, _text(path)


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_colombian_number_format() -> None:
    assert number(Decimal("1190000.00")) == "1.190.000,00"
    assert number(Decimal("1.5"), None) == "1,5"
    assert number(Decimal("120"), None) == "120"
    assert number(Decimal("-1234.5")) == "-1.234,50"
    assert price(Decimal("1234.565")) == "1.234,565"
    assert price(Decimal("50")) == "50,00"


def test_one_page_invoice_carries_every_mandatory_field(issuer, tmp_path) -> None:
    doc = _issue(INVOICE, issuer)
    _, pages, text = _render(doc, tmp_path, "invoice", validated_at=VALIDATED,
                             options=PdfOptions(footer="Cuenta de ahorros Banco Ejemplo 123-456789-00"))  # fmt: skip
    assert len(pages) == 1
    flat = _flat(text)
    for expected in [
        "FACTURA ELECTRÓNICA DE VENTA", "No. SETP990000123", "Página 1 de 1",
        "Proveedor de Prueba S.A.S.", "NIT 900.123.456-8", "Cra 7 # 1-1", "Responsable de IVA",
        "O-23 Agente de retención IVA",
        "Comprador Ejemplo S.A.", "NIT 800.199.436-4", "Cl 10 # 5-20", "Medellín, Antioquia",
        "Fecha de expedición", "10/03/2025", "10:53:10 (-05:00)", "Fecha de vencimiento", "09/04/2025",
        "Forma de pago", "Crédito (30 días)", "Medio de pago", "Consignación bancaria (42)", "Moneda", "COP",
        "Orden de compra", "OC-4471", "Validada por la DIAN", "10/03/2025 10:53:42",
        # lines: quantity, unit, price, discount, taxes, line total
        "Servicio de consultoría tributaria", "-20.000,00 (10%)", "IVA 19 %", "34.200,00", "INC 8 %", "14.400,00",
        "180.000,00", "1,5", "kg", "1.234,565", "obsequio, valor de referencia 50,00", "INC Bolsas 66,00 por unidad",
        # breakdown per rate, withholdings, totals
        "DISCRIMINACIÓN DE IMPUESTOS", "ReteIVA", "ReteRenta", "2,5 %", "ReteICA", "0,966 %",
        "Descuento: Pronto pago", "Cargo: Flete", "TOTAL A PAGAR (COP)",
        f"CUFE: {doc.uuid}",
        "Autorización de numeración de facturación DIAN No. 18760000001, prefijo SETP, rango del SETP990000000 al "
        "SETP995000000, vigente del 19/01/2019 al 19/01/2030",
        "Software de facturación: Buzón, ID sw-buzon-1", "NIT 900.123.456-8",
        "Cuenta de ahorros Banco Ejemplo 123-456789-00", "Gracias por su compra.",
    ]:  # fmt: skip
        assert expected in flat, expected
    total = doc.totals.payable
    assert number(total) in flat  # 1.851,85 + … : the payable as signed


def test_long_invoice_repeats_header_and_qr_on_every_page(issuer, tmp_path) -> None:
    doc = _issue(_long(LONG), issuer, number=990000200)
    _, pages, text = _render(doc, tmp_path, "invoice-long", validated_at=VALIDATED)
    assert len(pages) == 3
    per_page = text.split("\f")[:3]
    for index, page in enumerate(per_page, start=1):
        flat = _flat(page)
        assert f"Página {index} de 3" in flat
        assert "No. SETP990000200" in flat and "Proveedor de Prueba S.A.S." in flat
        assert f"CUFE: {doc.uuid}" in flat
    assert "Continúa en la página siguiente" in per_page[0]
    # every line is printed once, in order
    found = re.findall(r"A-(\d{4})", text)
    assert found == [f"{i:04d}" for i in range(1, LONG + 1)]
    assert "TOTAL A PAGAR" in per_page[2] and "TOTAL A PAGAR" not in per_page[0] + per_page[1]


def test_credit_note_names_its_invoice_and_concept(issuer, tmp_path) -> None:
    doc = _issue(CREDIT_NOTE, issuer, number=17, prefix="NC")
    _, _, text = _render(doc, tmp_path, "credit-note")
    flat = _flat(text)
    for expected in ["NOTA CRÉDITO ELECTRÓNICA", "No. NC17", "Factura referenciada", "SETP990000123 del 01/03/2025",
                     "CUFE de la factura", "ab" * 48, "Concepto", "1 – Devolución parcial", f"CUDE: {doc.uuid}",
                     "Validación DIAN", "pendiente", "VALOR TOTAL DE LA NOTA (COP)",
                     "119.000,00"]:  # fmt: skip
        assert expected in flat, expected
    assert "Autorización de numeración" not in flat  # notes carry no InvoiceControl (B.1)


def test_export_states_currency_and_exchange_rate(issuer, tmp_path) -> None:
    doc = _issue(EXPORT, issuer, number=990000300)
    _, _, text = _render(doc, tmp_path, "export", validated_at=VALIDATED)
    flat = _flat(text)
    # 2 × 1,234.565 = 2,469.13 − 3.5 % (86.42) = 2,382.71 USD; × 4,100.25 = 9,769,706.6775 → 9,769,706.68 COP
    for expected in ["FACTURA ELECTRÓNICA DE VENTA", "Exportación", "Moneda", "USD",
                     "Tasa de cambio", "1 USD = 4.100,25 COP (10/03/2025)", "TOTAL A PAGAR (USD)", "2.382,71",
                     "Equivalente en COP (informativo)", "9.769.706,68", "NIT de otro país US-7788", "1 Main St",
                     "Miami – US", "Transferencia crédito bancario (45)", "Forma de pago", "Contado"]:  # fmt: skip
        assert expected in flat, expected


def test_contingency_04_has_its_title_and_pending_validation(issuer, tmp_path) -> None:
    doc = _issue(CONTINGENCY_04, issuer, number=990000400)
    _, _, text = _render(doc, tmp_path, "contingency-04")
    flat = _flat(text)
    for expected in ["FACTURA ELECTRÓNICA DE VENTA DE CONTINGENCIA", "Contingencia DIAN (tipo 04)",
                     f"CUFE: {doc.uuid}", "Validación DIAN",
                     "pendiente: se transmite al superar la contingencia"]:  # fmt: skip
        assert expected in flat, expected


def test_contingency_03_prints_its_cude_and_paper_invoice(issuer, tmp_path) -> None:
    data = dict(copy.deepcopy(INVOICE), type="03", paper_invoice={"number": "TAL-15", "issue_date": "2025-03-08"})
    doc = _issue(data, issuer, number=990000401)
    _, _, text = _render(doc, tmp_path, "contingency-03")
    flat = _flat(text)
    assert "Contingencia del facturador (tipo 03)" in flat
    assert f"CUDE: {doc.uuid}" in flat
    assert "Factura de talonario (papel)" in flat and "TAL-15 del 08/03/2025" in flat


def test_same_document_renders_the_same_bytes_and_logo_is_drawn(issuer, tmp_path) -> None:
    from PIL import Image

    doc = _issue(INVOICE, issuer)
    assert render_pdf(doc.xml, validated_at=VALIDATED) == render_pdf(doc.xml, validated_at=VALIDATED)
    other = _issue(INVOICE, issuer, number=990000124)
    assert render_pdf(other.xml) != render_pdf(doc.xml)
    logo = tmp_path / "logo.png"
    Image.new("RGB", (240, 80), (200, 30, 40)).save(logo)
    with_logo = render_pdf(doc.xml, options=PdfOptions(logo=logo))
    assert b"/Subtype /Image" in with_logo and b"/Subtype /Image" not in render_pdf(doc.xml)
    assert b"CreationDate (D:20250310105310-05'00')" in with_logo


def test_unreadable_logo_and_non_documents_are_refused_with_a_reason(issuer, tmp_path) -> None:
    doc = _issue(INVOICE, issuer)
    with pytest.raises(ValueError, match="logo"):
        render_pdf(doc.xml, options=PdfOptions(logo=tmp_path / "missing.png"))
    with pytest.raises(ParseError):
        render_pdf(b"<Invoice/>")
