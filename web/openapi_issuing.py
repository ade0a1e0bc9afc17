"""The OpenAPI entries of issuing (web/api_issuing.py, web/api_apidian.py), merged into web/openapi.py's document.

The request bodies are described loosely (their shape is checked field by field by issuing/validation.py and
issuing/apidian.py, which answer 422 with a JSON pointer and a Spanish sentence per problem); the answers exactly.
"""

from __future__ import annotations

from typing import Any

from store.models import OutboundState

__all__ = ["PATHS", "SCHEMAS"]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(description: str, schema: str, **extra: Any) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}, **extra}


_NULLABLE_STRING = {"type": ["string", "null"]}
_MONEY = {"type": ["string", "null"], "pattern": r"^-?\d+\.\d{2}$", "description": "Decimal como texto, nunca float."}
_LOCATION = {"Location": {"schema": {"type": "string"}}}
_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "Clave del ERP para reintentar sin expedir dos veces (1 a 200 caracteres ASCII visibles, por token): la "
        "misma clave con el mismo cuerpo devuelve el documento del primer intento (cabecera Idempotent-Replayed); "
        "con otro cuerpo, 409."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[\\x21-\\x7E]{1,200}$"},
}
_ID = {"name": "document_id", "in": "path", "required": True, "description": "El id del documento expedido.",
       "schema": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}}  # fmt: skip
_ERRORS = {
    "401": _json("Falta el token o no es válido (Authorization: Bearer <token>).", "Error"),
    "403": _json("El rol del usuario no permite expedir (facturación o administrador).", "Error"),
}
_ISSUE_ERRORS = {
    "400": _json("El cuerpo no es JSON, o la cabecera Idempotency-Key no es válida (field).", "Error"),
    "409": _json("La clave de idempotencia ya se usó con otro cuerpo: dice con qué documento.", "Problems"),
    "413": _json("El cuerpo pasa de 1 MiB (field: body).", "Error"),
    "422": _json("El documento no puede expedirse: cada problema con su puntero JSON y su porqué.", "Problems"),
    "503": _json("La expedición no está disponible o configurada en este servidor.", "Error"),
    **_ERRORS,
}


_APIDIAN_ERRORS = {**_ISSUE_ERRORS, "422": _json("Rechazado: errors como apidian y problems con punteros.",
                                                 "ApidianProblems")}  # fmt: skip


def _issue_post(operation: str, summary: str, description: str, body: str, responses: dict[str, Any]) -> dict[str, Any]:
    """A POST that issues a document (also the documento soporte's, web/openapi_support.py): Idempotency-Key, a JSON
    body of the schema ``body``, and its ``responses``."""
    return {
        "post": {
            "operationId": operation,
            "summary": summary,
            "description": description,
            "parameters": [_KEY],
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref(body)}}},
            "responses": responses,
        }
    }


def _native(operation: str, summary: str, types: list[str]) -> dict[str, Any]:
    return _issue_post(
        operation, summary,
        "Cuerpo nativo (issuing/payload.py): partes, líneas con cantidades, precios, descuentos y cargos y "
        "tarifas de impuestos; Buzón calcula los totales. type puede omitirse: "
        f"{', '.join(types)}. number, prefix y resolution_number, si se envían, deben caer en un rango de la "
        "DIAN.",
        "IssueRequest",
        {
            "201": _json("Expedido y con la respuesta de la DIAN (aceptado o rechazado).", "Issued",
                         headers=_LOCATION),
            "202": _json("Expedido (número, CUFE/CUDE, QR) pero la DIAN no respondió: queda en cola y se "
                         "reintenta; no es un rechazo.", "Issued", headers=_LOCATION),
            **_ISSUE_ERRORS,
        },
    )  # fmt: skip


def _apidian(operation: str, summary: str, lines: str) -> dict[str, Any]:
    return _issue_post(
        operation, summary,
        f"El JSON de apidian (ids de su catálogo; {lines}); responde con los campos que leen sus "
        "integradores. Un reintento con el mismo number devuelve el mismo documento.",
        "ApidianRequest",
        {
            "200": _json("Expedido y con la respuesta de la DIAN (is_valid).", "ApidianIssued", headers=_LOCATION),
            "202": _json("Expedido, la DIAN no respondió: en cola (is_valid null).", "ApidianIssued",
                         headers=_LOCATION),
            **_APIDIAN_ERRORS,
        },
    )  # fmt: skip


def _download(operation: str, summary: str, media: str, missing: str) -> dict[str, Any]:
    return {
        "get": {
            "operationId": operation,
            "summary": summary,
            "parameters": [_ID],
            "responses": {
                "200": {"description": "El archivo.", "content": {media: {"schema": {"type": "string"}}}},
                "404": _json(missing, "Error"),
                "503": _json("La expedición no está disponible en este servidor.", "Error"),
                **_ERRORS,
            },
        }
    }


PATHS: dict[str, Any] = {
    "/api/v1/invoices": _native("issueInvoice", "Expedir una factura y enviarla a la DIAN.", ["01", "02", "03", "04"]),
    "/api/v1/credit-notes": _native("issueCreditNote", "Expedir una nota crédito (91).", ["91"]),
    "/api/v1/debit-notes": _native("issueDebitNote", "Expedir una nota débito (92).", ["92"]),
    "/api/v1/issued/{document_id}": {
        "get": {
            "operationId": "getIssued",
            "summary": "Un documento expedido: estado, respuesta de la DIAN y eventos del comprador.",
            "parameters": [_ID],
            "responses": {
                "200": _json("El documento.", "IssuedDocument"),
                "404": _json("No hay un documento expedido con ese id.", "Error"),
                "503": _json("La expedición no está disponible en este servidor.", "Error"),
                **_ERRORS,
            },
        }
    },
    "/api/v1/issued/{document_id}/xml": _download("getIssuedXml", "El XML firmado.", "application/xml",
                                                  "No hay un documento expedido con ese id."),
    "/api/v1/issued/{document_id}/pdf": _download("getIssuedPdf", "La representación gráfica (PDF).",
                                                  "application/pdf", "No hay un documento expedido con ese id."),
    "/api/v1/issued/{document_id}/attached": _download(
        "getIssuedAttached", "El AttachedDocument (documento y respuesta de la DIAN).", "application/xml",
        "No hay un documento expedido con ese id, o la DIAN aún no lo validó."),
    "/api/ubl2.1/invoice": _apidian("apidianInvoice", "Compatible con apidian: factura.", "invoice_lines"),
    "/api/ubl2.1/credit-note": _apidian("apidianCreditNote", "Compatible con apidian: nota crédito.",
                                        "credit_note_lines, billing_reference o invoice_period"),
    "/api/ubl2.1/debit-note": _apidian("apidianDebitNote", "Compatible con apidian: nota débito.",
                                       "debit_note_lines, requested_monetary_totals"),
}  # fmt: skip

_PROBLEM = {
    "type": "object",
    "required": ["field", "message"],
    "properties": {
        "field": {"type": "string", "description": "Puntero JSON (RFC 6901) al campo; / para el documento."},
        "message": {"type": "string", "description": "Qué está mal, en español."},
    },
}
_DIAN = {
    "type": "object",
    "properties": {
        "status_code": _NULLABLE_STRING,
        "messages": {"type": "array", "items": {"type": "string"}},
        "is_valid": {"type": ["boolean", "null"], "description": "null: la DIAN aún no respondió."},
    },
}
_LINKS = {
    "type": "object",
    "properties": {name: _NULLABLE_STRING for name in ("self", "xml", "pdf", "attached")},
}
_STATES = {"type": "string", "enum": [s.value for s in OutboundState]}
_CONTINGENCY = {
    "type": ["object", "null"],
    "description": "Solo si se expidió en contingencia (tipo 04 mientras la DIAN no recibe): por qué, el plazo de 48 h "
    "para transmitirlo y si aún falta enviarlo a la DIAN.",
    "properties": {
        "reason": {"type": "string"},
        "transmit_later": {"type": "boolean"},
        "transmit_by": _NULLABLE_STRING,
        "message": {"type": "string"},
    },
}

SCHEMAS: dict[str, Any] = {
    "IssueRequest": {
        "type": "object",
        "required": ["customer", "lines"],
        "description": "El documento nativo; cada campo se valida y se responde 422 con punteros.",
        "properties": {
            "type": {"type": "string", "enum": ["01", "02", "03", "04", "91", "92"]},
            "customer": {"type": "object"},
            "lines": {"type": "array", "items": {"type": "object"}},
            "payment": {"type": "object"},
            "reference": {"type": "object"},
            "concept": {"type": "string"},
            "number": {"type": ["integer", "string"]},
            "prefix": {"type": "string"},
            "resolution_number": {"type": "string"},
        },
    },
    "ApidianRequest": {"type": "object", "description": "El cuerpo de apidian (peers-wave2 §2.2)."},
    "Problems": {
        "type": "object",
        "required": ["error", "message", "problems"],
        "properties": {
            "error": {"type": "string", "enum": ["unprocessable", "conflict"]},
            "message": {"type": "string"},
            "problems": {"type": "array", "items": _PROBLEM},
        },
    },
    "ApidianProblems": {
        "type": "object",
        "required": ["message", "errors", "problems"],
        "properties": {
            "message": {"type": "string"},
            "is_valid": {"type": "boolean", "const": False},
            "errors": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
                "description": "Como Laravel/apidian: invoice_lines.0.price_amount → mensajes.",
            },
            "problems": {"type": "array", "items": _PROBLEM},
        },
    },
    "Issued": {
        "type": "object",
        "required": ["id", "number", "uuid", "state", "dian", "links"],
        "properties": {
            "id": {"type": "integer"},
            "document_type": {"type": "string"},
            "number": {"type": "string"},
            "uuid": {"type": "string", "description": "CUFE de una factura, CUDE de una nota o de una 03."},
            "cufe": {"type": "string"},
            "cude": {"type": "string"},
            "qr_text": _NULLABLE_STRING,
            "payable_amount": _MONEY,
            "state": _STATES,
            "state_label": {"type": "string"},
            "queued": {"type": "boolean"},
            "dian": _DIAN,
            "last_error": _NULLABLE_STRING,
            "replayed": {"type": "boolean"},
            "contingency": _CONTINGENCY,
            "links": _LINKS,
        },
    },
    "IssuedDocument": {
        "type": "object",
        "required": ["id", "number", "state", "dian", "buyer_events"],
        "properties": {
            "id": {"type": "integer"},
            "document_type": {"type": "string"},
            "number": {"type": "string"},
            "uuid": _NULLABLE_STRING,
            "state": _STATES,
            "queued": {"type": "boolean"},
            "dian": _DIAN,
            "totals": {"type": "object", "additionalProperties": _MONEY},
            "buyer_events": {"type": "array", "items": _ref("Event")},
            "links": _LINKS,
        },
    },
    "ApidianIssued": {
        "type": "object",
        "required": ["message", "cufe", "QRStr", "ResponseDian", "is_valid"],
        "properties": {
            "message": {"type": "string"},
            "is_valid": {"type": ["boolean", "null"]},
            "number": {"type": "string"},
            "cufe": {"type": "string"},
            "cude": {"type": "string"},
            "QRStr": _NULLABLE_STRING,
            "ResponseDian": {
                "type": ["object", "null"],
                "description": "Envelope.Body.SendBillSyncResponse.SendBillSyncResult: IsValid, StatusCode, "
                "StatusDescription, StatusMessage, ErrorMessage.string, XmlDocumentKey, XmlFileName, XmlBase64Bytes.",
            },
            "invoicexml": _NULLABLE_STRING,
            "attacheddocument": _NULLABLE_STRING,
            "urlinvoicexml": {"type": "string"},
            "urlinvoicepdf": {"type": "string"},
            "urlinvoiceattached": _NULLABLE_STRING,
            "resolution_days_left": {"type": ["integer", "null"]},
            "type_document_code": {"type": "string", "description": "01, 04 en contingencia, 91, 92…"},
            "contingency": _CONTINGENCY,
        },
    },
}
