"""What opens a DIAN document: sts:DianExtensions then the signature placeholder (dian-facts.md 11), the UBL header,
and the catalogue URL a QR points at."""

from __future__ import annotations

from lxml import etree

from dian.codes import DIAN_DV, DIAN_NIT, Environment
from dian.ubl import namespaces as ns
from dian.ubl.build.drafts import NumberingRange
from dian.ubl.build.elements import AGENCY_ID, AGENCY_NAME, sts, sub

_PLACEHOLDER_ID = "placeholder"


def qr_url(key: str, environment: Environment) -> str:
    """The DIAN catalogue URL for a CUFE/CUDE; habilitación has its own host (dian-facts.md 7.2)."""
    host = "catalogo-vpfe.dian.gov.co" if environment is Environment.PRODUCTION else "catalogo-vpfe-hab.dian.gov.co"
    return f"https://{host}/document/searchqr?documentkey={key}"


def dian_extensions(
    root: etree._Element,
    *,
    provider_nit: str,
    provider_dv: str,
    software_id: str,
    security_code: str,
    qr_code: str | None,
    numbering: NumberingRange | None = None,
) -> None:
    """Write sts:DianExtensions, then the signature placeholder, in that order (dian-facts.md 2.5, 11)."""
    extensions = sub(root, "ext:UBLExtensions")
    dian = etree.SubElement(sub(extensions, "ext:UBLExtension/ext:ExtensionContent"), f"{{{ns.STS}}}DianExtensions")
    if numbering is not None:
        control = sts(dian, "InvoiceControl")
        sts(control, "InvoiceAuthorization", numbering.authorization)
        period = sts(control, "AuthorizationPeriod")
        sub(period, "cbc:StartDate", numbering.start_date.isoformat())
        sub(period, "cbc:EndDate", numbering.end_date.isoformat())
        authorized = sts(control, "AuthorizedInvoices")
        sts(authorized, "Prefix", numbering.prefix)
        sts(authorized, "From", str(numbering.from_number))
        sts(authorized, "To", str(numbering.to_number))
    source = sts(dian, "InvoiceSource")
    sub(
        source,
        "cbc:IdentificationCode",
        "CO",
        listAgencyID="6",
        listAgencyName="United Nations Economic Commission for Europe",
        listSchemeURI="urn:oasis:names:specification:ubl:codelist:gc:CountryIdentificationCode-2.1",
    )
    provider = sts(dian, "SoftwareProvider")
    sts(
        provider,
        "ProviderID",
        provider_nit,
        schemeAgencyID=AGENCY_ID,
        schemeAgencyName=AGENCY_NAME,
        schemeID=provider_dv,
        schemeName="31",
    )
    sts(provider, "SoftwareID", software_id, schemeAgencyID=AGENCY_ID, schemeAgencyName=AGENCY_NAME)
    sts(dian, "SoftwareSecurityCode", security_code, schemeAgencyID=AGENCY_ID, schemeAgencyName=AGENCY_NAME)
    authorization = sts(dian, "AuthorizationProvider")
    sts(
        authorization,
        "AuthorizationProviderID",
        DIAN_NIT,
        schemeAgencyID=AGENCY_ID,
        schemeAgencyName=AGENCY_NAME,
        schemeID=DIAN_DV,
        schemeName="31",
    )
    if qr_code is not None:
        sts(dian, "QRCode", qr_code)
    signature_placeholder(extensions)


def signature_placeholder(extensions: etree._Element) -> None:
    content = sub(extensions, "ext:UBLExtension/ext:ExtensionContent")
    etree.SubElement(content, f"{{{ns.DS}}}Signature", Id=_PLACEHOLDER_ID)


def header(root: etree._Element, customization_id: str, profile_id: str, environment: Environment, number: str) -> None:
    sub(root, "cbc:UBLVersionID", "UBL 2.1")
    sub(root, "cbc:CustomizationID", customization_id)
    sub(root, "cbc:ProfileID", profile_id)
    sub(root, "cbc:ProfileExecutionID", environment.value)
    sub(root, "cbc:ID", number)
