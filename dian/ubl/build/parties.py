"""Parties: the check of a Party, its cac:PartyTaxScheme, the accounting parties of an invoice or note, and the
sender or receiver of an ApplicationResponse or AttachedDocument."""

from __future__ import annotations

import re

from lxml import etree

from dian.errors import BuildError
from dian.ubl.build.elements import AGENCY_ID, AGENCY_NAME, sub
from dian.ubl.model import Party

_FOREIGN_ID = re.compile(r"^[A-Za-z0-9-]{1,20}$")


def check_party(party: Party, field: str) -> None:
    # A NIT (scheme 31) is ASCII digits without its check digit; other identifications (a foreign buyer's tax id,
    # scheme 42/50) may carry letters and a hyphen.
    if party.id_scheme in (None, "31"):
        if not party.nit or not (party.nit.isascii() and party.nit.isdigit()):
            raise BuildError(f"{field}.nit: digits only, without the check digit, got {party.nit!r}")
    elif not _FOREIGN_ID.match(party.nit or ""):
        raise BuildError(f"{field}.nit: letters, digits or '-' (up to 20), got {party.nit!r}")
    if not party.registration_name:
        raise BuildError(f"{field}.registration_name: required")


def _company_id(parent: etree._Element, party: Party) -> None:
    sub(
        parent,
        "cbc:CompanyID",
        party.nit,
        schemeAgencyID=AGENCY_ID,
        schemeAgencyName=AGENCY_NAME,
        schemeID=party.dv,
        schemeName=party.id_scheme,
    )


def _address(parent: etree._Element, path: str, party: Party) -> None:
    address = party.address
    if address is None:
        return
    element = sub(parent, path)
    for child, value in (
        ("cbc:ID", address.city_code),
        ("cbc:CityName", address.city),
        ("cbc:CountrySubentity", address.department),
        ("cbc:CountrySubentityCode", address.department_code),
    ):
        if value is not None:
            sub(element, child, value)
    if address.line is not None:
        sub(element, "cac:AddressLine/cbc:Line", address.line)
    if address.country is not None:
        sub(element, "cac:Country/cbc:IdentificationCode", address.country)


def party_tax_scheme(parent: etree._Element, party: Party, *, with_address: bool) -> None:
    scheme = sub(parent, "cac:PartyTaxScheme")
    sub(scheme, "cbc:RegistrationName", party.registration_name)
    _company_id(scheme, party)
    if party.tax_level_codes:
        sub(scheme, "cbc:TaxLevelCode", ";".join(party.tax_level_codes))
    if with_address:
        _address(scheme, "cac:RegistrationAddress", party)
    tax = sub(scheme, "cac:TaxScheme")
    if party.tax_scheme_id is not None:
        sub(tax, "cbc:ID", party.tax_scheme_id)
    if party.tax_scheme_name is not None:
        sub(tax, "cbc:Name", party.tax_scheme_name)


def accounting_party(root: etree._Element, role: str, party: Party) -> None:
    outer = sub(root, role)
    sub(outer, "cbc:AdditionalAccountID", party.organization_type or "1")
    element = sub(outer, "cac:Party")
    if party.trade_name is not None:
        sub(element, "cac:PartyName/cbc:Name", party.trade_name)
    _address(element, "cac:PhysicalLocation/cac:Address", party)
    party_tax_scheme(element, party, with_address=True)
    legal = sub(element, "cac:PartyLegalEntity")
    sub(legal, "cbc:RegistrationName", party.registration_name)
    _company_id(legal, party)
    if party.phone is not None or party.email is not None:
        contact = sub(element, "cac:Contact")
        if party.phone is not None:
            sub(contact, "cbc:Telephone", party.phone)
        if party.email is not None:
            sub(contact, "cbc:ElectronicMail", party.email)


def application_party(root: etree._Element, role: str, party: Party) -> None:
    party_tax_scheme(sub(root, role), party, with_address=False)
