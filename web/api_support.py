"""The documento soporte through the API (issue 19): AP's ERP posts a purchase from a seller not obliged to invoice
and Buzón numbers it from the DS range, signs it with its CUDS and sends it to DIAN.

* ``POST /api/v1/support-documents`` (05) and ``/api/v1/support-adjustments`` (95): the native body of
  issuing/support_request.py (``seller{}``, lines with IVA, ``withholdings`` and ``generation``; a 95 with
  ``reference`` and ``concept``); ``kind`` may be left out (the path gives it). Bearer token of a role that acts
  for AP (clerk, admin), ``Idempotency-Key`` per token, answers 201/202/409/422 exactly like ``/api/v1/invoices``
  (web/api_issuing.py, whose helpers these are), with ``cuds``.
* ``POST /api/ubl2.1/support-document`` (type 11) and ``/api/ubl2.1/sd-credit-note`` (13): apidian's DS shape
  (issuing/apidian_support.py), answered like its invoices (cude, QRStr, ResponseDian, is_valid).

What was issued is read back through ``GET /api/v1/issued/<id>`` and its ``/xml``, ``/pdf``, ``/attached``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Blueprint
from flask_login import current_user

from issuing.apidian_support import apidian_support_pointer, read_apidian_support
from issuing.problems import PayloadError, Problem
from issuing.service import Issued
from issuing.support_request import SupportRequest, read_support_request
from issuing.support_service import SupportService
from store.models import OutboundState
from web.access import roles
from web.api_apidian import apidian_key, apidian_refused, files_json, response_dian, stored_answer
from web.api_issuing import (
    SUPPORT_ISSUERS,
    answer_issue,
    client_key,
    decided,
    idempotency_key,
    issuing_service,
    json_of_body,
    links,
)

__all__ = ["bp", "support_json"]

bp = Blueprint("api_support", __name__)

_PATH_KINDS = {"support-documents": "support_document", "support-adjustments": "support_adjustment"}


def _service() -> SupportService:
    return SupportService(issuing_service())


def _issue(support_request: SupportRequest, key: str | None) -> Issued:
    service = _service()
    return service.issue(support_request, actor=current_user.actor, idempotency_key=key, client_key=client_key(),
                         deliver=service.issuing.make_client is not None)  # fmt: skip


def support_json(done: Issued) -> dict[str, Any]:
    """The answer of a 05/95: number, CUDS, QR text, DIAN's word, links."""
    valid = (done.state is OutboundState.ACCEPTED) if decided(done.state) else None
    return {
        "id": done.id,
        "document_type": done.document_type.value,
        "number": done.number,
        "cuds": done.uuid,
        "uuid": done.uuid,
        "qr_text": done.qr_text,
        "payable_amount": format(Decimal(done.payable).quantize(Decimal("0.01")), "f"),
        "state": done.state.value,
        "state_label": done.verdict,
        "queued": not decided(done.state),
        "dian": {"status_code": done.dian_status_code, "messages": list(done.dian_messages), "is_valid": valid},
        "last_error": done.last_error,
        "replayed": done.replayed,
        "links": links(done.id, attached=done.state is OutboundState.ACCEPTED),
    }


def _native(path_kind: str) -> Any:
    kind = _PATH_KINDS[path_kind]

    def attempt() -> tuple[Issued, dict[str, Any]]:
        key = idempotency_key()
        support_request, problems = read_support_request(json_of_body(), kind)
        if support_request is None:
            raise PayloadError(problems)
        done = _issue(support_request, key)
        return done, support_json(done)

    return answer_issue(attempt, status=201)


@bp.post("/api/v1/support-documents")
@roles(*SUPPORT_ISSUERS)
def support_documents() -> Any:
    """Issue a documento soporte (05) of a purchase from a seller not obliged to invoice, and send it to DIAN."""
    return _native("support-documents")


@bp.post("/api/v1/support-adjustments")
@roles(*SUPPORT_ISSUERS)
def support_adjustments() -> Any:
    """Issue an adjustment note (95) to one of our documentos soporte, and send it to DIAN."""
    return _native("support-adjustments")


# --- apidian's shape ---------------------------------------------------------------------------------------------


def _apidian_refused(problems: tuple[Problem, ...], kind: str) -> Any:
    return apidian_refused(problems, lambda pointer: apidian_support_pointer(pointer, kind))


def _apidian_answer(done: Issued) -> dict[str, Any]:
    service, row, answer_xml, attached = stored_answer(done)
    valid = done.state is OutboundState.ACCEPTED
    name = "Documento soporte" if done.document_type.value == "05" else "Nota de ajuste al documento soporte"
    verdict = "generado con éxito" if valid else ("rechazado por la DIAN" if decided(done.state) else done.verdict)
    dian = response_dian(done, row, answer_xml)
    if dian is not None:
        result = dian["Envelope"]["Body"]["SendBillSyncResponse"]["SendBillSyncResult"]
        result["StatusMessage"] = f"{name} {done.number}, ha sido {'autorizado' if valid else 'rechazado'}."
    return {
        "message": f"{name} #{done.number} {verdict}",
        "is_valid": valid if decided(done.state) else None,
        "state": done.state.value,
        "number": done.number,
        "cude": done.uuid,
        "cuds": done.uuid,
        "QRStr": done.qr_text,
        "ResponseDian": dian,
        **files_json(done, row, service.ctx.blobs, attached),
        "replayed": done.replayed,
        "type_document_code": done.document_type.value,
        "errors": {} if valid or not decided(done.state) else {"dian": list(done.dian_messages)},
    }


def _apidian(kind: str) -> Any:
    def attempt() -> tuple[Issued, dict[str, Any]]:
        support_request, problems = read_apidian_support(json_of_body(), kind)
        if support_request is None:
            raise PayloadError(problems)
        done = _issue(support_request, apidian_key(support_request, kind))
        return done, _apidian_answer(done)

    return answer_issue(attempt, status=200, refused=lambda problems: _apidian_refused(problems, kind))


@bp.post("/api/ubl2.1/support-document")
@roles(*SUPPORT_ISSUERS)
def apidian_support_document() -> Any:
    """apidian's ``POST /api/ubl2.1/support-document`` (type 11, ``seller{}``)."""
    return _apidian("support-document")


@bp.post("/api/ubl2.1/sd-credit-note")
@roles(*SUPPORT_ISSUERS)
def apidian_sd_credit_note() -> Any:
    """apidian's ``POST /api/ubl2.1/sd-credit-note`` (type 13, the adjustment note to a DS)."""
    return _apidian("sd-credit-note")
