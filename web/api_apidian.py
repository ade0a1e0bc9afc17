"""The apidian-compatible paths (peers-wave2 §2.2): an ERP written against apidian switches to Buzón by changing its
base URL. ``POST /api/ubl2.1/invoice``, ``/credit-note``, ``/debit-note`` with a bearer token take apidian's body,
translated by issuing/apidian.py (catalogue ids → DIAN codes by the shipped table), and answer with the fields
integrators read: ``cufe`` (and ``cude`` for a note), ``QRStr``, ``ResponseDian`` (DIAN's SendBillSync result in the
``Envelope.Body.SendBillSyncResponse.SendBillSyncResult`` shape apidian passes through), ``is_valid``, the base64
``invoicexml`` and ``attacheddocument``, and ``urlinvoicexml`` / ``urlinvoicepdf`` / ``urlinvoiceattached``.

What differs from apidian, on purpose: Buzón recomputes every total and refuses one more than ±2.00 away; a refused
body is a 422 with ``errors`` keyed like Laravel's (``invoice_lines.0.price_amount``) and the same problems as JSON
pointers; an outage answers 202 with ``is_valid`` null (queued, not rejected). A retry carrying the same ``number``
(or the same ``Idempotency-Key``) returns the document the first attempt issued; the same number with another body
is a 409. The delivery and PDF knobs (``sendmail``, ``establishment_*``, ``head_note``…) are accepted and ignored.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from flask import Blueprint, jsonify, request, url_for

from issuing.apidian import apidian_pointer, codes, read_apidian
from issuing.document import BOGOTA
from issuing.problems import PayloadError, Problem
from issuing.request import IssueRequest
from issuing.service import IdempotencyConflict, Issued
from store.models import OutboundDocument, OutboundState
from web.access import roles
from web.api_issuing import (
    ISSUERS,
    answer_issue,
    conflict_body,
    contingency_json,
    decided,
    idempotency_key,
    issue,
    issuing_service,
    json_of_body,
    problems_body,
)

__all__ = ["apidian_key", "apidian_refused", "bp", "files_json", "response_dian", "stored_answer"]

bp = Blueprint("api_apidian", __name__, url_prefix="/api/ubl2.1")

# apidian path → the document types it issues and their name in its messages
KINDS = {
    "invoice": (frozenset({"01", "02", "03", "04"}), "Factura electrónica"),
    "credit-note": (frozenset({"91"}), "Nota crédito"),
    "debit-note": (frozenset({"92"}), "Nota débito"),
}


def _laravel_key(where: str) -> str:
    """A JSON pointer as the dotted key apidian's Laravel validation answers with ("/customer/dv" → "customer.dv")."""
    steps = [step.replace("~1", "/").replace("~0", "~") for step in where.split("/")[1:]]
    return ".".join(steps) or "body"


def apidian_refused(problems: tuple[Problem, ...], pointer_of: Callable[[str], str]) -> Any:
    """The 422 in apidian's shape: the problems at their pointers in its body (``pointer_of`` maps a native
    pointer), also as Laravel's ``errors`` by dotted key, and ``is_valid`` false."""
    mapped = tuple(Problem(pointer_of(p.pointer), p.message) for p in problems)
    body = problems_body(mapped)
    errors: dict[str, list[str]] = {}
    for problem in mapped:
        errors.setdefault(_laravel_key(problem.pointer), []).append(problem.message)
    body["errors"] = errors
    body["is_valid"] = False
    return jsonify(body), 422


def _refused(problems: tuple[Problem, ...], kind: str) -> Any:
    return apidian_refused(problems, lambda pointer: apidian_pointer(pointer, kind))


def _request(data: Any, kind: str) -> IssueRequest:
    types, _ = KINDS[kind]
    if isinstance(data, Mapping) and data.get("type_document_id") is not None:
        code = codes()["document_types"].get(str(data["type_document_id"]).strip())
        if code is not None and code not in types:
            others = [path for path, (kinds, _) in KINDS.items() if code in kinds]
            where = f"; use /api/ubl2.1/{others[0]}" if others else ""
            raise PayloadError([Problem("/type_document_id", f"este tipo de documento no se expide en /{kind}{where}")])
    read, problems = read_apidian(data, kind)
    if read is None:
        raise PayloadError(problems)
    if read.payload.type.value not in types:
        raise PayloadError([Problem("/type_document_id", f"este tipo de documento no se expide en /{kind}")])
    assert isinstance(data, Mapping)
    return IssueRequest(payload=read.payload, data=dict(data), number=read.number, prefix=read.prefix,
                        resolution_number=read.resolution_number)  # fmt: skip


def apidian_key(chosen: Any, kind: str) -> str | None:
    """The idempotency key: the header's, else the number the ERP chose (``chosen``'s ``prefix`` and ``number``:
    apidian's callers retry with the same number), else none."""
    key = idempotency_key()
    if key is None and chosen.number is not None:
        key = f"apidian:{kind}:{chosen.prefix or ''}:{chosen.number}"
    return key


def response_dian(done: Issued, row: OutboundDocument, answer_xml: bytes | None) -> dict[str, Any] | None:
    """DIAN's SendBillSync result in the shape apidian passes through to its callers; None while DIAN has not
    answered."""
    if not decided(done.state):
        return None
    valid = done.state is OutboundState.ACCEPTED
    label = "autorizada" if valid else "rechazada"
    result = {
        "ErrorMessage": {"string": list(done.dian_messages)},
        "IsValid": "true" if valid else "false",
        "StatusCode": done.dian_status_code or "",
        "StatusDescription": "Procesado Correctamente." if valid else "Documento con errores en campos mandatorios.",
        "StatusMessage": f"La {_name(done)} {done.number}, ha sido {label}.",
        "XmlBase64Bytes": base64.b64encode(answer_xml).decode("ascii") if answer_xml else None,
        "XmlDocumentKey": done.uuid,
        "XmlFileName": (row.file_name or "").removesuffix(".xml") or None,
    }
    return {"Envelope": {"Body": {"SendBillSyncResponse": {"SendBillSyncResult": result}}}}


def _name(done: Issued) -> str:
    value = done.document_type.value
    return "Nota crédito" if value == "91" else "Nota débito" if value == "92" else "Factura electrónica"


def _days_left(service: Any, range_id: int | None) -> int | None:
    if range_id is None:
        return None
    found = next((r for r in service.ranges(all_environments=True) if r.id == range_id), None)
    if found is None or found.valid_to is None:
        return None
    return (found.valid_to - dt.datetime.now(BOGOTA).date()).days


def stored_answer(done: Issued) -> tuple[Any, OutboundDocument, bytes | None, bytes | None]:
    """What apidian's answer reads of an issued document (also the documento soporte's, web/api_support.py): the
    service, its row, DIAN's answer and the AttachedDocument (None until there is one)."""
    service = issuing_service()
    row = service.find(done.id)
    assert row is not None
    blobs = service.ctx.blobs
    answer_xml = blobs.get(row.dian_response_blob) if row.dian_response_blob else None
    attached = blobs.get(row.attached_blob) if row.attached_blob else None
    return service, row, answer_xml, attached


def files_json(done: Issued, row: OutboundDocument, blobs: Any, attached: bytes | None) -> dict[str, Any]:
    """The signed XML and the AttachedDocument in base64 and the links to the XML and the PDF, as apidian names them."""
    return {
        "invoicexml": base64.b64encode(blobs.get(row.xml_blob)).decode("ascii") if row.xml_blob else None,
        "attacheddocument": base64.b64encode(attached).decode("ascii") if attached else None,
        "urlinvoicexml": url_for("api_issuing.issued_xml", document_id=done.id, _external=True),
        "urlinvoicepdf": url_for("api_issuing.issued_pdf", document_id=done.id, _external=True),
    }


def _answer(done: Issued) -> dict[str, Any]:
    service, row, answer_xml, attached = stored_answer(done)
    valid = done.state is OutboundState.ACCEPTED
    if valid:
        message = f"{_name(done)} #{done.number} generada con éxito"
    elif done.state is OutboundState.REJECTED:
        message = f"{_name(done)} #{done.number} rechazada por la DIAN"
    elif done.in_contingency:
        message = f"{_name(done)} de contingencia #{done.number} expedida: {done.verdict}"
    else:
        message = f"{_name(done)} #{done.number} firmada y en cola: {done.verdict}"
    body: dict[str, Any] = {
        "message": message,
        "is_valid": valid if decided(done.state) else None,
        "state": done.state.value,
        "number": done.number,
        "cufe": done.uuid,
        "QRStr": done.qr_text,
        "ResponseDian": response_dian(done, row, answer_xml),
        **files_json(done, row, service.ctx.blobs, attached),
        "urlinvoiceattached": url_for("api_issuing.issued_attached", document_id=done.id, _external=True)
        if attached
        else None,
        "resolution_days_left": _days_left(service, row.range_id),
        "replayed": done.replayed,
        "type_document_code": done.document_type.value,
        "contingency": contingency_json(done),
        "errors": {} if valid or not decided(done.state) else {"dian": list(done.dian_messages)},
    }
    if not done.document_type.is_invoice:
        body["cude"] = done.uuid
    return body


def _issue_apidian(kind: str) -> Any:
    chosen: list[IssueRequest] = []

    def attempt() -> tuple[Issued, dict[str, Any]]:
        chosen.append(_request(json_of_body(), kind))
        done = issue(chosen[0], apidian_key(chosen[0], kind))
        return done, _answer(done)

    def conflict(exc: IdempotencyConflict) -> Any:
        body = conflict_body(exc)
        if request.headers.get("Idempotency-Key") is None:  # the key was the number the ERP chose
            number = f"{chosen[0].prefix or ''}{chosen[0].number}"
            body["message"] = f"el número {number} ya se expidió con otro contenido; envíe el documento con otro número"
        return jsonify(body), 409

    return answer_issue(attempt, status=200, refused=lambda problems: _refused(problems, kind), conflict=conflict)


@bp.post("/invoice")
@roles(*ISSUERS)
def invoice() -> Any:
    """apidian's ``POST /api/ubl2.1/invoice``."""
    return _issue_apidian("invoice")


@bp.post("/credit-note")
@roles(*ISSUERS)
def credit_note() -> Any:
    """apidian's ``POST /api/ubl2.1/credit-note``."""
    return _issue_apidian("credit-note")


@bp.post("/debit-note")
@roles(*ISSUERS)
def debit_note() -> Any:
    """apidian's ``POST /api/ubl2.1/debit-note``."""
    return _issue_apidian("debit-note")
