"""Parties (cac:Party: the NIT, names, tax levels, address, contact) and persons (cac:Person)."""

from __future__ import annotations

from lxml import etree

from dian.errors import ParseError
from dian.ubl.model import Address, Party, Person
from dian.ubl.parse.record import Record

_PARTY = Record(
    tax_id="cac:PartyTaxScheme/cbc:CompanyID",
    tax_dv="cac:PartyTaxScheme/cbc:CompanyID/@schemeID",
    tax_scheme="cac:PartyTaxScheme/cbc:CompanyID/@schemeName",
    legal_id="cac:PartyLegalEntity/cbc:CompanyID",
    legal_dv="cac:PartyLegalEntity/cbc:CompanyID/@schemeID",
    legal_scheme="cac:PartyLegalEntity/cbc:CompanyID/@schemeName",
    ident_id="cac:PartyIdentification/cbc:ID",
    ident_dv="cac:PartyIdentification/cbc:ID/@schemeID",
    ident_scheme="cac:PartyIdentification/cbc:ID/@schemeName",
    registration_name="cac:PartyTaxScheme/cbc:RegistrationName",
    legal_name="cac:PartyLegalEntity/cbc:RegistrationName",
    trade_name="cac:PartyName/cbc:Name",
    levels="cac:PartyTaxScheme/cbc:TaxLevelCode",
    tax_scheme_id="cac:PartyTaxScheme/cac:TaxScheme/cbc:ID",
    tax_scheme_name="cac:PartyTaxScheme/cac:TaxScheme/cbc:Name",
    email="cac:Contact/cbc:ElectronicMail",
    phone="cac:Contact/cbc:Telephone",
    has_registration_address="boolean(cac:PartyTaxScheme/cac:RegistrationAddress)",
    reg_city="cac:PartyTaxScheme/cac:RegistrationAddress/cbc:CityName",
    reg_city_code="cac:PartyTaxScheme/cac:RegistrationAddress/cbc:ID",
    reg_department="cac:PartyTaxScheme/cac:RegistrationAddress/cbc:CountrySubentity",
    reg_department_code="cac:PartyTaxScheme/cac:RegistrationAddress/cbc:CountrySubentityCode",
    reg_country="cac:PartyTaxScheme/cac:RegistrationAddress/cac:Country/cbc:IdentificationCode",
    reg_line="cac:PartyTaxScheme/cac:RegistrationAddress/cac:AddressLine/cbc:Line",
    has_physical_address="boolean(cac:PhysicalLocation/cac:Address)",
    phys_city="cac:PhysicalLocation/cac:Address/cbc:CityName",
    phys_city_code="cac:PhysicalLocation/cac:Address/cbc:ID",
    phys_department="cac:PhysicalLocation/cac:Address/cbc:CountrySubentity",
    phys_department_code="cac:PhysicalLocation/cac:Address/cbc:CountrySubentityCode",
    phys_country="cac:PhysicalLocation/cac:Address/cac:Country/cbc:IdentificationCode",
    phys_line="cac:PhysicalLocation/cac:Address/cac:AddressLine/cbc:Line",
)


def read_party(party: etree._Element, where: str, organization_type: str | None = None) -> Party:
    f = _PARTY(party)
    # The NIT lives in PartyTaxScheme; fall back to PartyLegalEntity, then PartyIdentification.
    for key in ("tax", "legal", "ident"):
        if f[f"{key}_id"] is not None:
            nit, dv, scheme = f[f"{key}_id"], f[f"{key}_dv"], f[f"{key}_scheme"]
            break
    else:
        raise ParseError(
            "falta el elemento obligatorio cac:PartyTaxScheme/cbc:CompanyID", where=f"{where}/cac:PartyTaxScheme"
        )
    address = None
    for key in ("reg", "phys"):
        flag = "has_registration_address" if key == "reg" else "has_physical_address"
        if f[flag] == "true":
            address = Address(
                city=f[f"{key}_city"],
                city_code=f[f"{key}_city_code"],
                department=f[f"{key}_department"],
                department_code=f[f"{key}_department_code"],
                country=f[f"{key}_country"],
                line=f[f"{key}_line"],
            )
            break
    return Party(
        nit=nit,  # type: ignore[arg-type]
        registration_name=f["registration_name"] or f["legal_name"],
        dv=dv,
        id_scheme=scheme,
        trade_name=f["trade_name"],
        tax_level_codes=tuple(code.strip() for code in (f["levels"] or "").split(";") if code.strip()),
        tax_scheme_id=f["tax_scheme_id"],
        tax_scheme_name=f["tax_scheme_name"],
        address=address,
        email=f["email"],
        phone=f["phone"],
        organization_type=organization_type,
    )


def required_party(found: list[etree._Element], path: str, where: str, organization_type: str | None = None) -> Party:
    """The first party element found at ``path`` (a record's list), or ParseError naming the path."""
    if not found:
        raise ParseError(f"falta el elemento obligatorio {path}", where=f"{where}/{path}")
    return read_party(found[0], f"{where}/{path}", organization_type)


_PERSON = Record(
    id="cbc:ID",
    id_type="cbc:ID/@schemeName",
    dv="cbc:ID/@schemeID",
    first_name="cbc:FirstName",
    family_name="cbc:FamilyName",
    job_title="cbc:JobTitle",
    department="cbc:OrganizationDepartment",
)


def read_person(element: etree._Element | None, where: str) -> Person | None:
    if element is None:
        return None
    f = _PERSON(element)
    return Person(
        id=_PERSON.need(f, "id", where),
        first_name=f["first_name"] or "",
        family_name=f["family_name"] or "",
        id_type=f["id_type"] or "",
        dv=f["dv"],
        job_title=f["job_title"],
        department=f["department"],
    )
