"""The DIAN extensions (sts:DianExtensions): software provider, security code, QR code and the numbering range."""

from __future__ import annotations

import re

from lxml import etree

from dian.errors import ParseError
from dian.ubl import namespaces as ns
from dian.ubl.model import InvoiceControl
from dian.ubl.parse.record import Fields, Record
from dian.ubl.parse.values import day

# [0-9], never \d: see values.py.
_INTEGER = re.compile(r"[+-]?[0-9]+")

# Where a root carries sts:DianExtensions, in either sts spelling: a list path of the root's record.
DIAN_EXTENSIONS = tuple(
    f"ext:UBLExtensions/ext:UBLExtension/ext:ExtensionContent/{{{uri}}}DianExtensions"
    for uri in sorted(ns.STS_NAMESPACES)
)


def _extension_record(sts: str) -> Record:
    return Record(
        sts=sts,
        provider_nit="sts:SoftwareProvider/sts:ProviderID",
        software_id="sts:SoftwareProvider/sts:SoftwareID",
        security_code="sts:SoftwareSecurityCode",
        qr_code="sts:QRCode",
        has_control="boolean(sts:InvoiceControl)",
        authorization="sts:InvoiceControl/sts:InvoiceAuthorization",
        start_date="sts:InvoiceControl/sts:AuthorizationPeriod/cbc:StartDate",
        end_date="sts:InvoiceControl/sts:AuthorizationPeriod/cbc:EndDate",
        prefix="sts:InvoiceControl/sts:AuthorizedInvoices/sts:Prefix",
        from_number="sts:InvoiceControl/sts:AuthorizedInvoices/sts:From",
        to_number="sts:InvoiceControl/sts:AuthorizedInvoices/sts:To",
    )


_EXTENSIONS = {sts: _extension_record(sts) for sts in ns.STS_NAMESPACES}


def read_extensions(found: list[etree._Element], where: str) -> tuple[Fields, InvoiceControl | None]:
    """Read sts:DianExtensions, found by name whatever its position and sts spelling (dian-facts.md 3.1, 8.7): the
    first of the root record's ``DIAN_EXTENSIONS`` list."""
    if not found:
        return dict.fromkeys(_EXTENSIONS[ns.STS].names), None
    element = found[0]
    record = _EXTENSIONS[etree.QName(element).namespace]
    f = record(element)
    if f["has_control"] != "true":
        return f, None
    where = f"{where}/ext:UBLExtensions/…/sts:DianExtensions"

    def number(name: str) -> int | None:
        value = f[name]
        if value is None:
            return None
        if _INTEGER.fullmatch(value) is None:
            raise ParseError(f"no es un número: {value!r}", where=f"{where}/{record.paths[name]}")
        return int(value)

    control = InvoiceControl(
        authorization=f["authorization"] or "",
        start_date=day(record, f, "start_date", where),
        end_date=day(record, f, "end_date", where),
        prefix=f["prefix"],
        from_number=number("from_number"),
        to_number=number("to_number"),
    )
    return f, control
