"""Issuing through the API: the ERP posts an invoice or note in the native payload (issuing/payload.py) and Buzón
numbers, signs and sends it to DIAN, answering with what DIAN said; and reads back what it issued.

* ``POST /api/v1/invoices`` (01, 02, 03, 04), ``/api/v1/credit-notes`` (91), ``/api/v1/debit-notes`` (92), with a
  bearer token whose role may issue (``ISSUERS``). ``type`` may be left out: the path gives it.
* ``Idempotency-Key``: a retried request with the same key and the same body answers the document its first attempt
  issued (as it stands now, ``Idempotent-Replayed: true``), never a second number; the same key with another body is
  a 409 naming the document it issued. Keys are scoped per token (``client_key``).
* 201 once DIAN answered (``state`` accepted or rejected, with DIAN's status code and messages); 202 when the
  document is signed and numbered but DIAN did not answer (an outage is not a rejection: it stays queued and the job
  ``deliver_issued`` retries it); 422 with every problem as a JSON pointer and a Spanish sentence; 409 for the key.
* ``GET /api/v1/issued/<id>`` (state, DIAN's answer, the buyer's events), ``/xml`` (the signed document), ``/pdf``
  (the graphic representation, from the signed XML), ``/attached`` (the AttachedDocument once DIAN validated it).

The apidian-compatible paths are in web/api_apidian.py and share the helpers here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, jsonify, request, url_for
from flask_login import current_user

from dian.codes import DocumentType
from issuing.problems import PayloadError, Problem
from issuing.request import IssueRequest, read_request
from issuing.service import IdempotencyConflict, Issued
from store.models import DocumentEvent, OutboundDocument, OutboundState, Role
from web import tenant
from web.access import roles
from web.api import event_json
from web.issued_delivery import pdf_options

__all__ = ["ISSUERS", "SUPPORT_ISSUERS", "SUPPORT_READERS", "bp"]

bp = Blueprint("api_issuing", __name__, url_prefix="/api/v1")

# Who may issue: the billing role (facturación) when the model has it, and admins.
ISSUERS = tuple(role for role in Role if role.value in ("billing", "admin"))
# Who may read one document: our sales as the billing pages show them (billing acts; treasury, admins and auditors
# read), a documento soporte or its 95 as AP's pages do (web/support.py: clerks and admins act, treasury and auditors
# read). Another role is refused (403) as the role check refuses it elsewhere.
SALES_READERS = (*ISSUERS, Role.TREASURY, Role.AUDITOR)
SUPPORT_ISSUERS = (Role.CLERK, Role.ADMIN)
SUPPORT_READERS = (*SUPPORT_ISSUERS, Role.TREASURY, Role.AUDITOR)
ISSUED_READERS = tuple(dict.fromkeys((*SALES_READERS, *SUPPORT_READERS)))
SUPPORT_TYPES = frozenset({DocumentType.SUPPORT_DOCUMENT, DocumentType.SUPPORT_ADJUSTMENT})
MAX_ID = 2**63 - 1  # SQLite's and PostgreSQL's largest integer: a larger id is simply not found
MAX_ISSUE_BYTES = 1024 * 1024  # an invoice of some thousand lines
IDEMPOTENCY_HEADER = "Idempotency-Key"
KEY_PATTERN = "^[\\x21-\\x7E]{1,200}$"  # printable ASCII, no spaces
_KEY = re.compile(r"[\x21-\x7e]{1,200}\Z")
DECIDED = (OutboundState.ACCEPTED, OutboundState.REJECTED)

# path → (the document types it issues, the type when the body names none)
NATIVE_KINDS = {
    "invoices": (frozenset({"01", "02", "03", "04"}), "01"),
    "credit-notes": (frozenset({"91"}), "91"),
    "debit-notes": (frozenset({"92"}), "92"),
}
_PATH_OF_TYPE = {"91": "/api/v1/credit-notes", "92": "/api/v1/debit-notes"}


class Refusal(Exception):
    """A request refused before it reaches the issuing service: its HTTP answer."""

    def __init__(self, status: int, error: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.body = status, {"error": error, "message": message, **extra}

    def response(self) -> Any:
        return jsonify(self.body), self.status


# --- the helpers both API shapes use -------------------------------------------------------------------------


def issuing_service() -> Any:
    """The issuing façade (issuing.service.IssuingService), or a 503 refusal when this server has none."""
    service = tenant.service("issuing")
    if service is None:
        raise Refusal(503, "unavailable", "La expedición de facturas no está disponible en este servidor.")
    try:
        service.ctx  # noqa: B018 - made on first use: the certificate and the software are loaded here
    except Exception as exc:  # a configuration a person must fix (no certificate, no NIT…): said, not a 500
        raise Refusal(503, "unavailable", f"La expedición no está configurada: {exc}") from None
    return service


def json_of_body() -> Any:
    """The request's JSON body (at most MAX_ISSUE_BYTES), or a 400/413 refusal naming the body."""
    if (request.content_type or "").split(";")[0].strip().lower() != "application/json":
        raise Refusal(400, "bad_request", "Envíe el documento en JSON con Content-Type: application/json.",
                      field="body")  # fmt: skip
    request.max_content_length = MAX_ISSUE_BYTES
    if (request.content_length or 0) > MAX_ISSUE_BYTES:
        abort(413)
    data = request.get_data(cache=True)
    if len(data) > MAX_ISSUE_BYTES:
        abort(413)
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise Refusal(400, "bad_request", "El cuerpo no es un JSON válido.", field="body") from None


def idempotency_key() -> str | None:
    """The Idempotency-Key header, or None; a 400 refusal when it is not 1-200 printable ASCII characters."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not _KEY.match(key):
        raise Refusal(400, "bad_request", "La cabecera Idempotency-Key lleva de 1 a 200 caracteres ASCII visibles "
                      "(sin espacios).", field=IDEMPOTENCY_HEADER)  # fmt: skip
    return key


def client_key() -> str:
    """Whose idempotency keys these are: the bearer token (or, from a session, the user)."""
    if current_user.token_id is not None:
        return f"token:{current_user.token_id}"
    return f"user:{current_user.id}"


def problems_body(problems: Iterable[Problem], *, message: str | None = None) -> dict[str, Any]:
    """The 422 body: every problem with its JSON pointer and Spanish sentence."""
    found = [p.to_dict() for p in problems]
    default = f"El documento tiene {len(found)} problema(s); corríjalos y envíelo de nuevo."
    return {"error": "unprocessable", "message": message or default, "problems": found}


def issue(issue_request: IssueRequest, key: str | None) -> Issued:
    """Issue through the façade, sending to DIAN at once when the server has a DIAN client (PayloadError and
    IdempotencyConflict are the caller's)."""
    service = issuing_service()
    return service.issue(issue_request, actor=current_user.actor, idempotency_key=key, client_key=client_key(),
                         deliver=service.make_client is not None)  # fmt: skip


def conflict_body(exc: IdempotencyConflict) -> dict[str, Any]:
    return {"error": "conflict", "message": exc.problems[0].message if exc.problems else str(exc),
            "problems": [p.to_dict() for p in exc.problems]}  # fmt: skip


def links(document_id: int, *, attached: bool) -> dict[str, str | None]:
    return {
        "self": url_for("api_issuing.issued", document_id=document_id),
        "xml": url_for("api_issuing.issued_xml", document_id=document_id),
        "pdf": url_for("api_issuing.issued_pdf", document_id=document_id),
        "attached": url_for("api_issuing.issued_attached", document_id=document_id) if attached else None,
    }


def decided(state: OutboundState) -> bool:
    """Whether DIAN gave its word (accepted or rejected), as opposed to a document still queued."""
    return state in DECIDED


def issued_response(done: Issued, body: dict[str, Any], status: int) -> Any:
    """The answer to an issued document: ``status`` once DIAN gave its word, else 202 (queued); its Location and,
    for a retried request, ``Idempotent-Replayed``."""
    response = jsonify(body)
    response.status_code = status if decided(done.state) else 202
    response.headers["Location"] = url_for("api_issuing.issued", document_id=done.id)
    if done.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def answer_issue(
    attempt: Callable[[], tuple[Issued, dict[str, Any]]],
    *,
    status: int,
    refused: Callable[[tuple[Problem, ...]], Any] | None = None,
    conflict: Callable[[IdempotencyConflict], Any] | None = None,
) -> Any:
    """Run ``attempt`` (read the request, issue it, make the body) and answer it (issued_response); a refusal, a
    reused key (409, or ``conflict``) and a document with problems (422, or ``refused``) are answered as such."""
    try:
        done, body = attempt()
    except Refusal as refusal:
        return refusal.response()
    except IdempotencyConflict as exc:
        return conflict(exc) if conflict is not None else (jsonify(conflict_body(exc)), 409)
    except PayloadError as exc:
        return refused(exc.problems) if refused is not None else (jsonify(problems_body(exc.problems)), 422)
    return issued_response(done, body, status)


def contingency_json(done: Issued) -> dict[str, Any] | None:
    """What the ERP reads when the document was issued under a contingency (issuing/outage.py): why, the deadline to
    transmit it, and whether it is still to be sent to DIAN; None for an ordinary document."""
    if done.contingency_reason is None:
        return None
    deadline = done.contingency_deadline
    message = done.verdict if done.in_contingency else "expedido en contingencia; ya transmitido a la DIAN"
    return {"reason": done.contingency_reason, "transmit_later": done.in_contingency,
            "transmit_by": deadline.isoformat() if deadline is not None else None, "message": message}  # fmt: skip


# --- the native API --------------------------------------------------------------------------------------------


def _money(value: Any) -> str | None:
    """Money as a decimal string (never a float), as web/api.py answers it."""
    return format(Decimal(value).quantize(Decimal("0.01")), "f") if value is not None else None


def _dian(state: OutboundState, status_code: str | None, messages: Iterable[str] | None) -> dict[str, Any]:
    """DIAN's word: its status code and messages, and is_valid (None while it has not answered)."""
    valid = (state is OutboundState.ACCEPTED) if decided(state) else None
    return {"status_code": status_code, "messages": list(messages or ()), "is_valid": valid}


def _issued_json(done: Issued) -> dict[str, Any]:
    key = "cufe" if done.document_type.is_invoice and done.document_type.value != "03" else "cude"
    return {
        "id": done.id,
        "document_type": done.document_type.value,
        "number": done.number,
        key: done.uuid,
        "uuid": done.uuid,
        "qr_text": done.qr_text,
        "payable_amount": _money(done.payable),
        "state": done.state.value,
        "state_label": done.verdict,
        "queued": not decided(done.state),
        "dian": _dian(done.state, done.dian_status_code, done.dian_messages),
        "last_error": done.last_error,
        "replayed": done.replayed,
        "contingency": contingency_json(done),
        "links": links(done.id, attached=done.state is OutboundState.ACCEPTED),
    }


def _native_request(data: Any, path_kind: str) -> IssueRequest:
    types, default = NATIVE_KINDS[path_kind]
    if isinstance(data, Mapping) and "type" not in data:
        data = {**data, "type": default}
    issue_request, problems = read_request(data)
    wrong = isinstance(data, Mapping) and isinstance(data.get("type"), str) and data["type"] not in types
    if wrong:
        where = _PATH_OF_TYPE.get(data["type"], "/api/v1/invoices")
        problems = (*problems, Problem("/type", f"el tipo {data['type'][:4]!r} no se expide aquí; use {where}"))
    if problems or issue_request is None:
        raise PayloadError(problems)
    return issue_request


def _issue_native(path_kind: str) -> Any:
    def attempt() -> tuple[Issued, dict[str, Any]]:
        key = idempotency_key()
        done = issue(_native_request(json_of_body(), path_kind), key)
        return done, _issued_json(done)

    return answer_issue(attempt, status=201)


@bp.post("/invoices")
@roles(*ISSUERS)
def invoices() -> Any:
    """Issue an invoice (01 venta, 02 exportación, 03/04 contingencia) and send it to DIAN."""
    return _issue_native("invoices")


@bp.post("/credit-notes")
@roles(*ISSUERS)
def credit_notes() -> Any:
    """Issue a credit note (91) and send it to DIAN once the invoice it corrects is there."""
    return _issue_native("credit-notes")


@bp.post("/debit-notes")
@roles(*ISSUERS)
def debit_notes() -> Any:
    """Issue a debit note (92) and send it to DIAN once the invoice it corrects is there."""
    return _issue_native("debit-notes")


# --- what was issued -------------------------------------------------------------------------------------------


def issued_row(document_id: int) -> tuple[Any, OutboundDocument]:
    """The service and one of our issued documents (detached), or a 404/503."""
    try:
        service = issuing_service()
    except Refusal as refusal:
        body, status = refusal.response()
        body.status_code = status
        abort(body)
    with service.sessions() as s:
        row = s.get(OutboundDocument, document_id) if document_id <= MAX_ID else None
        if row is None or row.origin != "issued":
            abort(404, description=f"No hay ningún documento expedido con el id {document_id}.")
        readers = SUPPORT_READERS if row.document_type in SUPPORT_TYPES else SALES_READERS
        if getattr(current_user, "role", None) not in readers:
            abort(403, description="Su rol no puede ver este documento.")
        s.expunge(row)
    return service, row


def _buyer_events(service: Any, document_id: int) -> list[dict[str, Any]]:
    with service.sessions() as s:
        rows = s.execute(
            sa.select(DocumentEvent).where(DocumentEvent.outbound_document_id == document_id).order_by(DocumentEvent.id)
        ).scalars()
        return [event_json(event) for event in rows]


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


@bp.get("/issued/<int:document_id>")
@roles(*ISSUED_READERS)
def issued(document_id: int) -> Any:
    """One document we issued: numbers, totals, state, DIAN's answer and the buyer's events on it."""
    service, row = issued_row(document_id)
    state = row.state
    return jsonify({
        "id": row.id,
        "document_type": row.document_type.value,
        "prefix": row.prefix,
        "number": row.number,
        "uuid": row.cufe,
        "environment": row.environment.value,
        "issued_at": _iso(row.issued_at),
        "issue_date": _iso(row.issue_date),
        "due_date": _iso(row.due_date),
        "buyer": {"nit": row.buyer_nit, "name": row.buyer_name, "email": row.buyer_email},
        "currency": row.currency,
        "totals": {
            "line_extension_amount": _money(row.line_extension_amount),
            "tax_exclusive_amount": _money(row.tax_exclusive_amount),
            "tax_inclusive_amount": _money(row.tax_inclusive_amount),
            "allowance_total_amount": _money(row.allowance_total_amount),
            "charge_total_amount": _money(row.charge_total_amount),
            "withholding_amount": _money(row.withholding_amount),
            "payable_amount": _money(row.payable_amount),
        },
        "qr_text": row.qr_text,
        "reference_uuid": row.reference_cufe,
        "state": state.value,
        "state_label": Issued.of(row).verdict,
        "queued": not decided(state),
        "dian": {**_dian(state, row.dian_status_code, row.dian_messages), "validated_at": _iso(row.validated_at)},
        "attempts": row.attempts,
        "last_error": row.last_error,
        "next_attempt_at": _iso(row.next_attempt_at),
        "buyer_events": _buyer_events(service, row.id),
        "links": links(row.id, attached=row.attached_blob is not None),
    })  # fmt: skip


def _download(data: bytes, mimetype: str, name: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.get("/issued/<int:document_id>/xml")
@roles(*ISSUED_READERS)
def issued_xml(document_id: int) -> Any:
    """The signed XML, byte for byte as it was sent to DIAN."""
    service, row = issued_row(document_id)
    if row.xml_blob is None:
        abort(404, description="Este documento no tiene XML firmado.")
    return _download(service.ctx.blobs.get(row.xml_blob), "application/xml", f"{row.number}.xml")


@bp.get("/issued/<int:document_id>/attached")
@roles(*ISSUED_READERS)
def issued_attached(document_id: int) -> Any:
    """The AttachedDocument (the signed document and DIAN's answer), once DIAN validated it."""
    service, row = issued_row(document_id)
    if row.attached_blob is None:
        abort(404, description="La DIAN aún no validó este documento: no hay AttachedDocument.")
    return _download(service.ctx.blobs.get(row.attached_blob), "application/xml", f"ad{row.number}.xml")


@bp.get("/issued/<int:document_id>/pdf")
@roles(*ISSUED_READERS)
def issued_pdf(document_id: int) -> Any:
    """The graphic representation, read from the signed XML (issuing.pdf), with the QR on every page."""
    from issuing.pdf import render_pdf

    service, row = issued_row(document_id)
    blobs = service.ctx.blobs
    if row.pdf_blob is not None:
        data = blobs.get(row.pdf_blob)
    elif row.xml_blob is not None:
        data = render_pdf(blobs.get(row.xml_blob), validated_at=row.validated_at, options=pdf_options())
    else:
        abort(404, description="Este documento no tiene XML firmado.")
    return _download(data, "application/pdf", f"{row.number}.pdf")
