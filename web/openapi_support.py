"""The OpenAPI entries of the documento soporte (web/api_support.py), merged into web/openapi.py's document beside
issuing's (web/openapi_issuing.py, whose parts these reuse). Bodies are described loosely (issuing/support_request.py
checks them field by field and answers 422 with JSON pointers); the answers exactly."""

from __future__ import annotations

from typing import Any

from web.openapi_issuing import (
    _APIDIAN_ERRORS,
    _ISSUE_ERRORS,
    _LINKS,
    _LOCATION,
    _MONEY,
    _NULLABLE_STRING,
    _STATES,
    _issue_post,
    _json,
)

__all__ = ["PATHS", "SCHEMAS"]


def _native(operation: str, summary: str, kind: str) -> dict[str, Any]:
    return _issue_post(
        operation, summary,
        "Cuerpo nativo (issuing/support_request.py): seller{} (el vendedor no obligado a facturar; resident "
        "false para uno del exterior, identificado con 41, 42 o 50), líneas con IVA (01), withholdings (05 "
        "ReteIVA, 06 ReteRenta) y, en el 05, generation {mode: 1 por operación | 2 acumulado semanal, start}; "
        "la 95 lleva reference {number, uuid: el CUDS, issue_date} y concept 1-5. "
        f"kind puede omitirse: {kind}.",
        "SupportRequest",
        {
            "201": _json("Expedido y con la respuesta de la DIAN (aceptado o rechazado).", "SupportIssued",
                         headers=_LOCATION),
            "202": _json("Expedido (número, CUDS, QR) pero la DIAN no respondió: queda en cola.", "SupportIssued",
                         headers=_LOCATION),
            **_ISSUE_ERRORS,
        },
    )  # fmt: skip


def _apidian(operation: str, summary: str) -> dict[str, Any]:
    return _issue_post(
        operation, summary,
        "El JSON de apidian para el documento soporte (seller{}, type_document_id 11 o 13, "
        "type_generation_transmition_id y start_date por línea).",
        "ApidianRequest",
        {
            "200": _json("Expedido y con la respuesta de la DIAN (is_valid).", "ApidianIssued", headers=_LOCATION),
            "202": _json("Expedido, la DIAN no respondió: en cola.", "ApidianIssued", headers=_LOCATION),
            **_APIDIAN_ERRORS,
        },
    )  # fmt: skip


PATHS: dict[str, Any] = {
    "/api/v1/support-documents": _native("issueSupportDocument", "Expedir un documento soporte (05).",
                                         "support_document"),
    "/api/v1/support-adjustments": _native("issueSupportAdjustment", "Expedir una nota de ajuste (95) a un "
                                           "documento soporte.", "support_adjustment"),
    "/api/ubl2.1/support-document": _apidian("apidianSupportDocument", "Compatible con apidian: documento soporte."),
    "/api/ubl2.1/sd-credit-note": _apidian("apidianSupportAdjustment", "Compatible con apidian: nota de ajuste."),
}  # fmt: skip

SCHEMAS: dict[str, Any] = {
    "SupportRequest": {
        "type": "object",
        "required": ["seller", "lines"],
        "description": "El documento soporte nativo; cada campo se valida y se responde 422 con punteros.",
        "properties": {
            "kind": {"type": "string", "enum": ["support_document", "support_adjustment"]},
            "seller": {"type": "object"},
            "lines": {"type": "array", "items": {"type": "object"}},
            "payment": {"type": "object"},
            "reference": {"type": "object"},
            "concept": {"type": "string", "enum": ["1", "2", "3", "4", "5"]},
            "mail_seller": {"type": "boolean"},
            "number": {"type": ["integer", "string"]},
            "prefix": {"type": "string"},
            "resolution_number": {"type": "string"},
        },
    },
    "SupportIssued": {
        "type": "object",
        "required": ["id", "number", "cuds", "state", "dian", "links"],
        "properties": {
            "id": {"type": "integer"},
            "document_type": {"type": "string", "enum": ["05", "95"]},
            "number": {"type": "string"},
            "cuds": {"type": "string"},
            "uuid": {"type": "string"},
            "qr_text": _NULLABLE_STRING,
            "payable_amount": _MONEY,
            "state": _STATES,
            "state_label": {"type": "string"},
            "queued": {"type": "boolean"},
            "dian": {"type": "object"},
            "last_error": _NULLABLE_STRING,
            "replayed": {"type": "boolean"},
            "links": _LINKS,
        },
    },
}
