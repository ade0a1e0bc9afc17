"""GetDocumentInfo: an invoice's summary, its events and its current legitimate holder (peers-wave2.md 1.6).

Not in DIAN's 2024 WSDL copy; the request and answer follow the shape Buzón's client reads (as
generated clients of DIAN's later WSDL have it): WCF data contracts, members in alphabetical
order, each type's members in its own ``http://schemas.datacontract.org/2004/07/<Type>`` namespace. DIAN names the
holder by name only (``LegitimoTenedor/Nombre``); its NIT is the last 037's ``Receptor/NumeroDoc``. The states are
the portal's RADIAN labels (radian-issuing-facts.md A.12) with DIAN's ``RadianDocumentStatus`` numbers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from lxml import etree

from dian.calendar import BOGOTA
from dian.codes import EventCode, TaxScheme
from dian.nit import same_nit
from dian.radian.chain import ChainEntry
from dian.radian.history import TitleAct
from dian.simulator.title import Title
from dian.ubl.model import Party

__all__ = ["DocumentInfoReply", "document_info", "write_document_info"]

E = EventCode
DC = "http://schemas.datacontract.org/2004/07/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
ARRAYS = "http://schemas.microsoft.com/2003/10/Serialization/Arrays"
NOT_FOUND = "Documento no encontrado en los registros de la DIAN."
# DIAN's RadianDocumentStatus (EnumHelper.cs): the portal's label of a title, the last one reached wins (A.12).
_LIMITED, _PAID, _ENDORSED, _READY, _TITLE, _INVOICE, _TRANSFERRED, _PROTESTED = 1, 2, 3, 4, 5, 6, 7, 8
_LABELS = {
    _LIMITED: "Limitada",
    _PAID: "Pagada",
    _ENDORSED: "Endosada",
    _READY: "Disponibilizada",
    _TITLE: "Título Valor",
    _INVOICE: "Factura Electrónica",
    _TRANSFERRED: "Transferida",
    _PROTESTED: "Protestada",
}
_BY_EVENT = {
    E.INSCRIPCION_TITULO: _READY,
    E.ENDOSO_PROPIEDAD: _ENDORSED,
    E.ENDOSO_GARANTIA: _ENDORSED,
    E.ENDOSO_PROCURACION: _ENDORSED,
    E.ENDOSO_CESION: _ENDORSED,
    E.PAGO: _PAID,
    E.PAGO_TRANSFERENCIA: _PAID,
    E.LIMITACION_CIRCULACION: _LIMITED,
    E.TRANSFERENCIA_DERECHOS: _TRANSFERRED,
    E.PROTESTO: _PROTESTED,
}
_COMMERCIAL = frozenset({E.ACUSE_RECIBO, E.RECIBO_BIEN, E.ACEPTACION_EXPRESA, E.ACEPTACION_TACITA})


@dataclass(frozen=True)
class DocumentInfoReply:
    """``DocumentInfoResponse``: 00 with the invoice's title, or 66 with none."""

    status_code: str
    status_description: str
    title: Title | None = None
    events: tuple[ChainEntry, ...] = ()  # the registered events, as GetStatusEvent lists them


def state(history: tuple[TitleAct, ...]) -> int:
    """The portal's RADIAN label (A.12): an invoice until three of 030/032/033/034; then each event's label, a 040
    removing earlier 038/039 and a 042 earlier 041; the last label standing wins."""
    labels: list[tuple[EventCode, int]] = []
    commercial = 0
    current = _INVOICE
    for act in history:
        if act.code in _COMMERCIAL:
            commercial += 1
            if commercial >= 3 and current == _INVOICE:
                current = _TITLE
        elif act.code is E.CANCELACION_ENDOSO:
            labels = [item for item in labels if item[0] not in (E.ENDOSO_GARANTIA, E.ENDOSO_PROCURACION)]
        elif act.code is E.TERMINACION_LIMITACION:
            labels = [item for item in labels if item[0] is not E.LIMITACION_CIRCULACION]
        elif act.code in _BY_EVENT:
            labels.append((act.code, _BY_EVENT[act.code]))
    return labels[-1][1] if labels else current


def document_info(title: Title | None, events: tuple[ChainEntry, ...] = ()) -> DocumentInfoReply:
    """The answer for a title the simulator holds, or 66."""
    if title is None:
        return DocumentInfoReply("66", NOT_FOUND)
    return DocumentInfoReply("00", "Proceso exitoso", title, events)


def _sub(parent: etree._Element, ns: str, name: str, text: object = None) -> etree._Element:
    """A member with its text, or ``i:nil="true"`` when there is none."""
    element = etree.SubElement(parent, f"{{{DC}{ns}}}{name}")
    if text is None:
        element.set(f"{{{XSI}}}nil", "true")
    else:
        element.text = str(text)
    return element


def _entity(parent: etree._Element, ns: str, name: str, party: Party) -> None:
    element = etree.SubElement(parent, f"{{{DC}{ns}}}{name}", nsmap={"e": DC + "Entidad"})
    _sub(element, "Entidad", "Nombre", party.registration_name or "")
    _sub(element, "Entidad", "NumeroDoc", party.nit)
    _sub(element, "Entidad", "Procedencia")
    _sub(element, "Entidad", "TipoDoc", party.id_scheme or "31")


def _number(
    parent: etree._Element, ns: str, issued: dt.date, signed: dt.datetime | None, folio: str, serie: str | None
) -> None:
    element = etree.SubElement(parent, f"{{{DC}{ns}}}NumeroDocumento", nsmap={"n": DC + "NumeroDocumento"})
    _sub(element, "NumeroDocumento", "FechaEmision", issued.isoformat())
    signed_text = signed.astimezone(BOGOTA).isoformat(timespec="seconds") if signed is not None else None
    _sub(element, "NumeroDocumento", "FechaFirma", signed_text)
    _sub(element, "NumeroDocumento", "Folio", folio)
    _sub(element, "NumeroDocumento", "Serie", serie or None)


def write_document_info(parent: etree._Element, reply: DocumentInfoReply) -> None:
    """Append ``GetDocumentInfoResult``'s members to ``parent`` (in namespace …/DocumentInfoResponse)."""
    ns = "DocumentInfoResponse"
    _sub(parent, ns, "CompressedDocumentInfo")
    title = reply.title
    if title is None:
        _sub(parent, ns, "DocumentInfo")
    else:
        info = etree.SubElement(parent, f"{{{DC}{ns}}}DocumentInfo", nsmap={"c": DC + "Documento"})
        _document(etree.SubElement(info, f"{{{DC}Documento}}Documento"), title, reply.events)
    _sub(parent, ns, "StatusCode", reply.status_code)
    _sub(parent, ns, "StatusDescription", reply.status_description)


def _document(doc: etree._Element, title: Title, events: tuple[ChainEntry, ...]) -> None:
    c = "Documento"
    invoice = title.invoice
    _sub(doc, c, "DocumentCode", invoice.number)
    _sub(doc, c, "DocumentDescription")
    _sub(doc, c, "DocumentTags")
    _sub(doc, c, "DocumentTypeId", invoice.document_type.value)
    _sub(doc, c, "DocumentTypeName", "Factura electrónica de venta")
    _entity(doc, c, "Emisor", invoice.supplier)
    estado = etree.SubElement(doc, f"{{{DC}{c}}}Estado", nsmap={"a": ARRAYS})
    key = state(title.history)
    pair = etree.SubElement(estado, f"{{{ARRAYS}}}KeyValueOfintstring")
    etree.SubElement(pair, f"{{{ARRAYS}}}Key").text = str(key)
    etree.SubElement(pair, f"{{{ARRAYS}}}Value").text = _LABELS[key]
    listed = etree.SubElement(doc, f"{{{DC}{c}}}Eventos", nsmap={"v": DC + "Evento"})
    for entry in events:
        event = etree.SubElement(listed, f"{{{DC}Evento}}Evento")
        _sub(event, "Evento", "Codigo", entry.code.value)
        _sub(event, "Evento", "Descripcion", entry.description)
        _entity(event, "Evento", "Emisor", entry.sender)
        signed = entry.signed_at
        issued = signed.astimezone(BOGOTA).date() if signed is not None else title.invoice.issue_date
        _number(event, "Evento", issued, signed, entry.number, None)
        _entity(event, "Evento", "Receptor", entry.receiver)
        _sub(event, "Evento", "ReferenciasDocumento")
        _sub(event, "Evento", "UUID", entry.cude)
        _sub(event, "Evento", "ValidacionesDoc")
    holder = etree.SubElement(doc, f"{{{DC}{c}}}LegitimoTenedor", nsmap={"l": DC + "LegitimoTenedor"})
    registration = next((act for act in title.history if act.code is E.INSCRIPCION_TITULO), None)
    since = registration.signed_at.astimezone(BOGOTA).date().isoformat() if registration is not None else None
    _sub(holder, "LegitimoTenedor", "FechaInscripcionComoTituloValor", since)
    names = [share.registration_name or share.nit for share in title.holders]
    if len(names) == 1 and same_nit(title.holders[0].nit, invoice.supplier.nit):
        names = [invoice.supplier.registration_name or invoice.supplier.nit]
    _sub(holder, "LegitimoTenedor", "Nombre", "; ".join(names))
    prefix = invoice.prefix or ""
    folio = invoice.number[len(prefix) :] if prefix and invoice.number.startswith(prefix) else invoice.number
    _number(doc, c, invoice.issue_date, None, folio, prefix or None)
    _entity(doc, c, "Receptor", invoice.customer)
    _sub(doc, c, "Referencias")
    totals = etree.SubElement(doc, f"{{{DC}{c}}}TotalEImpuestos", nsmap={"t": DC + "TotalEImpuestos"})
    iva = invoice.tax_amounts.get(TaxScheme.IVA.value, Decimal(0))
    _sub(totals, "TotalEImpuestos", "Iva", f"{iva:.2f}")
    _sub(totals, "TotalEImpuestos", "Total", f"{invoice.monetary_total.payable:.2f}")
    _sub(doc, c, "UUID", title.cufe)
    _sub(doc, c, "ValidacionesDoc")
