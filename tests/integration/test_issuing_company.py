"""Our own party on the invoices we issue, from [company] (buzon/config.py → buzon/runtime.py issuer_party): trade
name, RUT responsibilities, IVA regime, address with its DANE codes, email and phone go into the UBL's
AccountingSupplierParty and onto the PDF (radian-issuing-facts B.6); the simulator over HTTP still validates the
invoice and `buzon verify` and xmlsec1 still accept it; on SQLite and PostgreSQL. Bad values are refused by the
configuration loader naming the key."""

from __future__ import annotations

import dataclasses
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from buzon.config import ConfigError, Settings, parse_settings
from dian.ubl import CommercialDocument, parse_document
from issuing.pdf import render_pdf
from tests.integration.issuing_fixtures import IssuingBed, invoice_data, open_bed
from tests.integration.test_issuing_e2e import _verify_with_buzon_and_xmlsec1

pytestmark = pytest.mark.integration

COMPANY = {"trade_name": "Proveedor Digital", "tax_levels": ["O-13", "O-23"], "tax_scheme": "01",
           "organization_type": "1", "address": "Cra 7 # 71-21 Of. 502", "city_code": "11001",
           "city": "Bogotá, D.C.", "department": "Bogotá", "email": "facturacion@proveedor.test",
           "phone": "6015550100"}  # fmt: skip


@pytest.fixture(params=["sqlite", "postgresql"])
def bed(request, tmp_path: Path) -> Iterator[IssuingBed]:
    def our_party(base: Settings) -> Settings:
        company = parse_settings({"company": {"nit": base.company.nit, "name": base.company.name, **COMPANY}},
                                 base=tmp_path).company  # fmt: skip
        return dataclasses.replace(base, company=company)

    with open_bed(request.param, tmp_path, our_party) as bed:
        yield bed


def test_our_party_from_the_configuration_is_in_the_ubl_and_the_pdf(bed: IssuingBed, tmp_path: Path) -> None:
    done = bed.issue(invoice_data(), deliver=True)
    assert done.state.value == "accepted", done.dian_messages  # the simulator validates it over HTTP
    row = bed.row(done.id)
    xml = bed.runtime.blobs.get(row.xml_blob)
    document = parse_document(xml)
    assert isinstance(document, CommercialDocument)
    supplier = document.supplier
    assert (supplier.nit, supplier.dv, supplier.registration_name) == ("900123456", "8", "PROVEEDOR DE PRUEBA S.A.S.")
    assert supplier.trade_name == "Proveedor Digital" and supplier.tax_level_codes == ("O-13", "O-23")
    assert (supplier.tax_scheme_id, supplier.email, supplier.phone) == ("01", "facturacion@proveedor.test",
                                                                       "6015550100")  # fmt: skip
    address = supplier.address
    assert (address.line, address.city_code, address.city, address.department, address.department_code,
            address.country) == ("Cra 7 # 71-21 Of. 502", "11001", "Bogotá, D.C.", "Bogotá", "11", "CO")  # fmt: skip
    assert xml.count(b"<cbc:ID>11001</cbc:ID>") == 2  # PhysicalLocation and RegistrationAddress
    text = subprocess.run(["pdftotext", "-", "-"], input=render_pdf(xml, validated_at=row.validated_at),
                          capture_output=True, check=True, timeout=60).stdout.decode()  # fmt: skip
    flat = " ".join(text.split())
    for printed in ("Proveedor Digital", "Cra 7 # 71-21 Of. 502", "Bogotá, D.C., Bogotá", "Tel. 6015550100",
                    "facturacion@proveedor.test", "Responsable de IVA", "O-13 Gran contribuyente", "O-23"):
        assert printed in flat, printed
    _verify_with_buzon_and_xmlsec1(bed, tmp_path, xml, bed.runtime.blobs.get(row.attached_blob))


def test_bad_company_values_are_refused_naming_the_key(tmp_path: Path) -> None:
    bad = {"nit": "900123456-8", "name": "X", "tax_levels": ["O-13", "IVA"], "tax_scheme": "48", "city_code": "1100",
           "address": "Cl 1", "department_code": "05", "email": "sin-arroba", "organization_type": "3"}  # fmt: skip
    with pytest.raises(ConfigError) as refused:
        parse_settings({"company": bad}, base=tmp_path)
    keys = [problem.split(":")[0] for problem in refused.value.problems]
    assert keys == ["company.tax_levels", "company.tax_scheme", "company.organization_type", "company.city_code",
                    "company.email"], refused.value.problems  # fmt: skip
    colombian = {"nit": "900123456-8", "name": "X", "address": "Cl 1", "city_code": "05001", "department_code": "11"}
    with pytest.raises(ConfigError, match=r"company\.department_code: 11 is not the department of city 05001"):
        parse_settings({"company": colombian}, base=tmp_path)
    with pytest.raises(ConfigError, match=r"company\.city_code: an address in Colombia needs"):
        parse_settings({"company": {"nit": "900123456-8", "name": "X", "address": "Cl 1"}}, base=tmp_path)
