"""The OpenAPI entries of four-eyes (web/api_approvals.py), merged into web/openapi.py's document."""

from __future__ import annotations

from typing import Any

__all__ = ["PATHS", "SCHEMAS"]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


def _json(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


_ERRORS = {
    "401": _error("Falta el token o no es válido (Authorization: Bearer <token>)."),
    "403": _error("El rol del usuario no permite esta operación, o es quien pidió el evento (otra persona decide)."),
}
_ID = {"name": "approval_id", "in": "path", "required": True,
       "schema": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}}  # fmt: skip
_DECISION_ERRORS = {
    "404": _error("No existe esa solicitud de aprobación."),
    "409": _error("La solicitud ya fue decidida, o las reglas ya no permiten enviar el evento (sigue pendiente)."),
    "503": _error("El envío de eventos no está disponible en este servidor."),
    **_ERRORS,
}
_NULLABLE_STRING = {"type": ["string", "null"]}
_NULLABLE_INTEGER = {"type": ["integer", "null"]}

PATHS: dict[str, Any] = {
    "/api/v1/approvals": {
        "get": {
            "operationId": "listApprovals",
            "summary": "Las solicitudes que esperan la aprobación de una segunda persona (cuatro ojos); primero las "
            "marcadas (un 031/033 cuyo plazo legal vence en un día hábil).",
            "responses": {"200": _json("Las pendientes y sus cuentas.", "ApprovalList"), **_ERRORS},
        }
    },
    "/api/v1/approvals/{approval_id}/approve": {
        "post": {
            "operationId": "approveApproval",
            "summary": "Aprobar: la acción guardada se firma y se envía a la DIAN ahora (auxiliar para documentos "
            "recibidos, tesorería para títulos; nunca quien la pidió).",
            "parameters": [_ID],
            "responses": {"200": _json("Aprobada: el evento como lo dejó la DIAN.", "ApprovalDecided"),
                          **_DECISION_ERRORS},
        }
    },
    "/api/v1/approvals/{approval_id}/refuse": {
        "post": {
            "operationId": "refuseApproval",
            "summary": "Rechazar con el motivo que leerá quien la pidió.",
            "parameters": [_ID],
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("ApprovalRefusal")}}},
            "responses": {
                "200": _json("Rechazada.", "ApprovalDecided"),
                "400": _error("El cuerpo no es un JSON con reason (texto); field dice cuál."),
                "422": _error("El motivo está vacío (field: reason)."),
                **_DECISION_ERRORS,
            },
        }
    },
}  # fmt: skip

SCHEMAS: dict[str, Any] = {
    "Approval": {
        "type": "object",
        "required": ["id", "code", "state", "kind", "requested_by", "flagged", "may_decide"],
        "properties": {
            "id": {"type": "integer"},
            "code": {"type": "string", "examples": ["031", "033", "036"]},
            "event": {"type": "string"},
            "state": {"type": "string", "enum": ["pending"]},
            "state_label": {"type": "string"},
            "kind": {"type": "string", "enum": ["document", "title"]},
            "document_id": _NULLABLE_INTEGER,
            "title_id": _NULLABLE_INTEGER,
            "invoice_number": _NULLABLE_STRING,
            "counterparty": {"type": "object", "properties": {"nit": _NULLABLE_STRING, "name": _NULLABLE_STRING}},
            "amount": {"type": ["string", "null"], "description": "Decimal como texto, nunca float."},
            "reason": {"type": "string", "description": "Por qué requiere aprobación."},
            "action": {"type": "object", "description": "La acción exacta que se firmará al aprobar."},
            "details": {"type": "array", "items": {"type": "object", "required": ["label", "value"], "properties": {
                "label": {"type": "string"}, "value": {"type": "string"}}}},
            "requested_by": {"type": "string"},
            "requester": {"type": "string"},
            "requested_at": {"type": "string", "format": "date-time"},
            "window": _NULLABLE_STRING,
            "flagged": {"type": "boolean"},
            "mine": {"type": "boolean"},
            "may_decide": {"type": "boolean", "description": "Si el usuario del token puede decidirla."},
        },
    },
    "ApprovalList": {
        "type": "object",
        "required": ["approvals", "counts"],
        "properties": {
            "approvals": {"type": "array", "items": _ref("Approval")},
            "counts": {"type": "object", "required": ["pending", "flagged"], "properties": {
                "pending": {"type": "integer"}, "flagged": {"type": "integer"}}},
        },
    },
    "ApprovalRefusal": {
        "type": "object",
        "required": ["reason"],
        "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 1000}},
    },
    "ApprovalDecided": {
        "type": "object",
        "required": ["approval", "event"],
        "properties": {
            "approval": {"type": "object", "required": ["id", "state"], "properties": {
                "id": {"type": "integer"}, "state": _NULLABLE_STRING, "state_label": _NULLABLE_STRING}},
            "event": {"oneOf": [_ref("Event"), {"type": "null"}]},
        },
    },
}  # fmt: skip
