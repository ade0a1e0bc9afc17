"""The JSON API under /api/v1 described in OpenAPI 3.1, written by hand and served at /api/v1/openapi.json.

tests/web/test_api.py checks that every /api/v1 route is described here and that nothing here is missing a route.
"""

from __future__ import annotations

from typing import Any

from dian.codes import ClaimReason, DocumentState, EventCode
from store.models import Direction, Role, SubmissionState, Verdict
from web import api_input as shape
from web import openapi_approvals, openapi_issuing, openapi_support
from web.query import DEFAULT_SORT, MAX_CLOSING_WITHIN, SORTS

API_VERSION = "1.0.0"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


_ERRORS = {
    "401": _error_response("Falta el token o no es válido (Authorization: Bearer <token>)."),
    "403": _error_response("El rol del usuario no permite esta operación."),
}
_NULLABLE_STRING = {"type": ["string", "null"]}
_DATE = {"type": "string", "format": "date"}
_DATETIME = {"type": "string", "format": "date-time"}
_MONEY = {"type": "string", "pattern": r"^-?\d+\.\d{2}$", "description": "Decimal como texto, nunca float."}
_CUFE = {
    "name": "cufe",
    "in": "path",
    "required": True,
    "description": "CUFE o CUDE del documento (96 caracteres hexadecimales, mayúsculas o minúsculas).",
    "schema": {"type": "string", "minLength": 96, "maxLength": 96, "pattern": shape.CUFE_PATTERN},
}
# Text a DIAN XML document can carry: no control characters but tab, newline and carriage return, no U+FFFE/U+FFFF
# (and, in JSON bodies, no lone surrogates).
_TEXT = {"type": "string", "pattern": shape.TEXT_PATTERN}
_DAY = {
    **_DATE,
    "description": f"Un día entre {shape.FIRST_DAY} y {shape.LAST_DAY}.",
    "pattern": shape.DAY_PATTERN,
}
_BODY_TEXT = {"type": "string", "pattern": shape.BODY_TEXT_PATTERN}
_AMOUNT = {"type": "string", "pattern": shape.AMOUNT_PATTERN, "description": "Dígitos 0-9 y, si acaso, dos decimales."}


def _query(name: str, description: str, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema, **extra}


_LIST_PARAMETERS = [
    _query(
        "status",
        "Estados del documento; repetible o separado por comas.",
        {"type": "array", "items": {"type": "string", "enum": [s.value for s in DocumentState]}},
        style="form",
        explode=True,
    ),
    _query(
        "verdict",
        "Resultado de la verificación; repetible o separado por comas. unconfirmed: validación DIAN sin confirmar "
        "(las firmas verifican, pero nada prueba que la DIAN validó el documento).",
        {"type": "array", "items": {"type": "string", "enum": [v.value for v in Verdict]}},
        style="form",
        explode=True,
    ),
    _query("supplier", "NIT del proveedor (con o sin DV) o parte de su razón social.", {**_TEXT, "maxLength": 450}),
    _query("from", "Emitidos desde este día (America/Bogota), inclusive. AAAA-MM-DD.", _DAY),
    _query("to", "Emitidos hasta este día (America/Bogota), inclusive. AAAA-MM-DD.", _DAY),
    _query("min_amount", "Valor a pagar mínimo (1234567.89).", _AMOUNT),
    _query("max_amount", "Valor a pagar máximo.", _AMOUNT),
    _query(
        "closing_within",
        "Plazo de reclamo o aceptación que vence dentro de N días hábiles (documentos con recibo, 032); dígitos 0-9.",
        {"type": "integer", "minimum": 1, "maximum": MAX_CLOSING_WITHIN},
    ),
    _query(
        "quarantined",
        "1: solo documentos inválidos o de correos en cuarentena.",
        {"type": "string", "enum": ["0", "1", "true", "false"]},
    ),
    _query("q", "Buscar por número, CUFE o NIT.", {**_TEXT, "maxLength": shape.MAX_QUERY_TEXT}),
    _query(
        "order",
        "Orden de compra del comprador, exacta como la escribió el proveedor (cac:OrderReference/cbc:ID); los "
        "espacios alrededor no cuentan.",
        {**_TEXT, "maxLength": 100},
    ),
    _query(
        "no_order",
        "1: solo facturas que no citan orden de compra (las notas citan su factura, no una orden).",
        {"type": "string", "enum": ["0", "1", "true", "false"]},
    ),
    _query(
        "sort",
        "Orden: " + "; ".join(f"{s.key} ({s.label})" for s in SORTS.values()) + ".",
        {"type": "string", "enum": list(SORTS), "default": DEFAULT_SORT},
    ),
    _query(
        "cursor",
        "El next_cursor de la página anterior (valor_id; el id cabe en un entero de 64 bits).",
        {"type": "string", "pattern": shape.CURSOR_PATTERN, "maxLength": shape.MAX_CURSOR},
    ),
    _query(
        "limit",
        "Documentos por página; dígitos 0-9.",
        {"type": "integer", "minimum": 1, "maximum": shape.MAX_LIMIT, "default": 50},
    ),
]

_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": {"type": "string", "examples": ["bad_request", "conflict", "forbidden"]},
            "message": {"type": "string", "description": "En español, para mostrar al usuario."},
            "field": {
                "type": "string",
                "description": "El parámetro o campo rechazado (limit, cursor, person.id_type, body…).",
                "examples": ["limit", "person.id_type", "body"],
            },
            "rule": {**_NULLABLE_STRING, "description": "La regla de la DIAN que lo impide, si la hay."},
        },
    },
    "Me": {
        "type": "object",
        "properties": {
            "username": {"type": "string"},
            "name": {"type": "string"},
            "email": _NULLABLE_STRING,
            "role": {"type": "string", "enum": [r.value for r in Role]},
            "role_label": {"type": "string"},
            "authenticated_by": {"type": "string", "enum": ["token", "session"]},
        },
    },
    "DocumentSummary": {
        "type": "object",
        "properties": {
            "cufe": {"type": "string"},
            "document_type": {"type": "string", "examples": ["01", "91", "92"]},
            "number": {"type": "string"},
            "issuer": {
                "type": "object",
                "properties": {"nit": {"type": "string"}, "dv": _NULLABLE_STRING, "name": {"type": "string"}},
            },
            "issue_date": _DATE,
            "issued_at": _DATETIME,
            "due_date": {"type": ["string", "null"], "format": "date"},
            "order_reference": {
                **_NULLABLE_STRING,
                "description": "La orden de compra del comprador que cita el documento (cac:OrderReference/cbc:ID); "
                "null si no cita ninguna.",
            },
            "payable_amount": _MONEY,
            "currency": {"type": "string"},
            "state": {"type": "string", "enum": [s.value for s in DocumentState]},
            "state_label": {"type": "string"},
            "verdict": {
                "type": "string",
                "enum": [v.value for v in Verdict],
                "description": "valid / valid_with_warnings: firmas correctas y validación de la DIAN probada; "
                "unconfirmed: validación DIAN sin confirmar (firmas correctas, pero sin respuesta de la DIAN o con "
                "una respuesta cuyo firmante no se puede atribuir a la DIAN; ningún evento automático actúa sobre "
                "él); invalid: firma o validación fallida.",
            },
            "verdict_label": {"type": "string", "examples": ["Validación DIAN sin confirmar"]},
            "dian_validated": {
                "type": "boolean",
                "description": "true solo si verdict es valid o valid_with_warnings: la validación de la DIAN está "
                "probada (firma de la DIAN de confianza o confirmación en línea). false para unconfirmed e invalid.",
            },
            "window_ends_at": {"type": ["string", "null"], "format": "date-time"},
            "window_remaining": {
                "type": ["object", "null"],
                "description": "What is left of the 3 business days to accept or claim; null before the 032 and once "
                "the invoice is accepted, claimed, tacitly accepted or a title value.",
                "properties": {
                    "business_days": {"type": "integer"},
                    "hours": {"type": "integer"},
                    "expired": {"type": "boolean"},
                },
            },
            "assigned_to": _NULLABLE_STRING,
            "url": {"type": "string"},
        },
    },
    "DocumentPage": {
        "type": "object",
        "properties": {
            "documents": {"type": "array", "items": _ref("DocumentSummary")},
            "next_cursor": {**_NULLABLE_STRING, "description": "null en la última página."},
        },
    },
    "Event": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "code": {"type": "string", "enum": [c.value for c in EventCode]},
            "direction": {"type": "string", "enum": [d.value for d in Direction]},
            "number": _NULLABLE_STRING,
            "cude": _NULLABLE_STRING,
            "claim_reason": {"type": ["string", "null"], "enum": [*(r.value for r in ClaimReason), None]},
            "note": _NULLABLE_STRING,
            "person": {"type": ["object", "null"]},
            "submission_state": {"type": "string", "enum": [s.value for s in SubmissionState]},
            "dian_status_code": {
                **_NULLABLE_STRING,
                "description": "El StatusCode de la última respuesta de la DIAN; 98 (en proceso) o 66 (no encontrado o "
                "lote en validación) no son definitivos: el evento sigue en send_failed y se vuelve a consultar.",
            },
            "dian_messages": {"type": "array"},
            "attempts": {"type": "integer"},
            "last_error": _NULLABLE_STRING,
            "unresolved": {
                "type": "boolean",
                "description": "true cuando la DIAN respondió 98 o 66 en cada intento hasta el límite: ya no se envía "
                "automáticamente; la sincronización (GetStatusEvent) lo registra si la DIAN lo tiene.",
            },
            "signing_time": {"type": ["string", "null"], "format": "date-time"},
            "registered_at": {"type": ["string", "null"], "format": "date-time"},
            "actor": _NULLABLE_STRING,
        },
    },
    "Document": {
        "allOf": [
            _ref("DocumentSummary"),
            {
                "type": "object",
                "properties": {
                    "prefix": {"type": "string"},
                    "environment": {"type": "string"},
                    "buyer": {"type": "object"},
                    "payment_means": _NULLABLE_STRING,
                    "totals": {"type": "object", "additionalProperties": _MONEY},
                    "taxes": {"type": "array"},
                    "lines": {"type": "array"},
                    "referenced_cufe": _NULLABLE_STRING,
                    "report": {"type": "object", "description": "El informe de verificación, chequeo por chequeo."},
                    "events": {"type": "array", "items": _ref("Event")},
                    "actions": {
                        "type": ["array", "null"],
                        "description": "Si cada evento del comprador puede enviarse ahora y, si no, por qué.",
                        "items": {
                            "type": "object",
                            "properties": {
                                "code": {"type": "string"},
                                "allowed": {"type": "boolean"},
                                "reason": _NULLABLE_STRING,
                                "rule": _NULLABLE_STRING,
                            },
                        },
                    },
                },
            },
        ]
    },
    "Person": {
        "type": "object",
        "required": ["id", "first_name", "family_name"],
        "additionalProperties": False,
        "properties": {
            "id": {
                "type": "string",
                "pattern": shape.PERSON_ID_PATTERN,
                "description": "Número de documento: dígitos 0-9, letras o guion; solo dígitos para los tipos "
                + ", ".join(shape.ID_TYPES_ALL_DIGITS)
                + ".",
            },
            "first_name": {**_BODY_TEXT, "minLength": 1, "maxLength": shape.MAX_NAME},
            "family_name": {**_BODY_TEXT, "minLength": 1, "maxLength": shape.MAX_NAME},
            "id_type": {
                "type": "string",
                "enum": list(shape.ID_TYPES),
                "default": "13",
                "description": "Tipo de documento de identificación de la DIAN: 13 cédula de ciudadanía, 22 cédula de "
                "extranjería, 41 pasaporte…",
            },
            "job_title": {**_BODY_TEXT, "maxLength": shape.MAX_NAME},
            "department": {**_BODY_TEXT, "maxLength": shape.MAX_NAME},
        },
    },
    "EventRequest": {
        "type": "object",
        "required": ["code"],
        "additionalProperties": False,
        "properties": {
            "code": {"type": "string", "enum": ["030", "031", "032", "033"]},
            "person": {
                **_ref("Person"),
                "description": "030 y 032: quien recibe; por omisión el perfil del usuario o la persona configurada.",
            },
            "claim_reason": {"type": "string", "enum": [r.value for r in ClaimReason], "description": "Solo 031."},
            "note": {**_BODY_TEXT, "maxLength": shape.MAX_NOTE, "description": "Solo 031."},
        },
    },
    "EventCreated": {
        "type": "object",
        "properties": {
            "event": _ref("Event"),
            "submission_state": {"type": "string", "enum": [s.value for s in SubmissionState]},
            "delivered_now": {"type": "boolean", "description": "false: la DIAN no respondió; se reintenta."},
        },
    },
    "StateChanged": {
        "type": "object",
        "properties": {
            "event": {"type": "string", "const": "document.state_changed"},
            "occurred_at": _DATETIME,
            "document": {
                "type": "object",
                "properties": {
                    "cufe": {"type": "string"},
                    "number": {"type": "string"},
                    "document_type": {"type": "string"},
                    "issuer_nit": {"type": "string"},
                    "issuer_name": {"type": "string"},
                    "buyer_nit": {"type": "string", "description": "Our company's NIT (which of the install's)."},
                    "issue_date": _DATE,
                    "payable_amount": {"type": "string"},
                    "currency": {"type": "string"},
                    "state": {"type": "string", "enum": [s.value for s in DocumentState]},
                    "previous_state": _NULLABLE_STRING,
                    "window_ends_at": {"type": ["string", "null"], "format": "date-time"},
                },
            },
        },
    },
    # Our issued invoices and notes (issuing/webhooks.py): DIAN's verdict and the buyer's copy sent.
    "IssuedChanged": {
        "type": "object",
        "properties": {
            "event": {"type": "string", "enum": ["invoice.validated", "invoice.rejected", "invoice.delivered"]},
            "occurred_at": _DATETIME,
            "document": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "document_type": {"type": "string", "description": "01-04, 91 nota crédito, 92 nota débito"},
                    "prefix": {"type": "string"},
                    "number": {"type": "string"},
                    "cufe": {"type": "string", "description": "CUFE de la factura o CUDE de la nota"},
                    "qr_text": _NULLABLE_STRING,
                    "state": {"type": "string", "enum": ["accepted", "rejected"]},
                    "issue_date": {"type": ["string", "null"], "format": "date"},
                    "buyer_nit": {"type": "string"},
                    "buyer_name": {"type": "string"},
                    "payable_amount": {"type": "string"},
                    "currency": {"type": "string"},
                    "dian_status_code": _NULLABLE_STRING,
                    "dian_messages": {"type": "array", "items": {"type": "string"}},
                    "validated_at": {"type": ["string", "null"], "format": "date-time"},
                    "delivery_state": {"type": ["string", "null"], "enum": ["pending", "sent", "failed", None]},
                    "delivered_at": {"type": ["string", "null"], "format": "date-time"},
                    "delivered_to": _NULLABLE_STRING,
                },
            },
            "links": {
                "type": "object",
                "description": "Rutas relativas de la API: self, xml, pdf, attached_document.",
                "additionalProperties": {"type": "string"},
            },
        },
    },
}


_PARTY = {"type": "object", "properties": {"nit": {"type": "string"}, "name": {"type": "string"}},
          "required": ["nit", "name"]}  # fmt: skip
# The payment run (radian/payables.py) and the title webhooks (radian/alerts.py).
_PAYABLE_SCHEMAS: dict[str, Any] = {
    "PayableLine": {
        "type": "object",
        "properties": {
            "cufe": {"type": "string"},
            "number": {"type": "string"},
            "supplier": _PARTY,
            "payee": {**_PARTY, "description": "A quién pagar: el tenedor legítimo en RADIAN, o el proveedor."},
            "payee_is_supplier": {"type": "boolean"},
            "outstanding": {"anyOf": [_MONEY, {"type": "null"}]},
            "currency": {"type": "string"},
            "due_date": {"anyOf": [_DATE, {"type": "null"}]},
            "title_state": {"type": "string", "enum": [*shape.PAYABLE_STATES, "paid"]},
            "title_state_label": {"type": "string"},
            "frozen": {"type": "boolean", "description": "Una limitación (041) vigente congela el pago."},
            "payable": {"type": "boolean"},
            "refused": {**_NULLABLE_STRING, "description": "Por qué no se debe pagar ahora (null: se puede)."},
        },
        "required": ["cufe", "number", "supplier", "payee", "payee_is_supplier", "outstanding", "currency",
                     "due_date", "title_state", "frozen", "payable", "refused"],
    },
    "Payables": {
        "type": "object",
        "properties": {
            "payables": {"type": "array", "items": _ref("PayableLine")},
            "counts": {"type": "object", "properties": {"payable": {"type": "integer"},
                                                        "refused": {"type": "integer"}}},
        },
        "required": ["payables", "counts"],
    },
    "TitleChanged": {
        "type": "object",
        "properties": {
            "event": {"type": "string", "enum": ["title.holder_changed", "title.limited"]},
            "occurred_at": _DATETIME,
            "alert": {"type": "object"},
            "title": {"type": "object", "description": ("Factura, proveedor, NIT del deudor (nuestra empresa), "
                                                        "beneficiario anterior y nuevo, saldo.")},
        },
    },
}  # fmt: skip
_PAYABLE_PARAMETERS = [
    _query("due_before", "Solo lo que vence en o antes de este día.", _DAY),
    _query("supplier", "NIT del proveedor, sin DV.", {"type": "string", "pattern": "^[0-9]{1,20}$"}),
    _query("state", "Estados del título, separados por comas.",
           {"type": "string", "pattern": "^(" + "|".join(shape.PAYABLE_STATES) + ")(,(" +
                                         "|".join(shape.PAYABLE_STATES) + "))*$"}),
    _query("payable_only", "true: sin las líneas rechazadas.", {"type": "string", "enum": ["true", "false"]}),
    _query("limit", "Cuántas líneas.", {"type": "integer", "minimum": 1, "maximum": shape.MAX_PAYABLES}),
]  # fmt: skip


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of /api/v1 (paths are absolute, so `servers` is the site itself)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Buzón API",
            "version": API_VERSION,
            "description": (
                "Facturas y notas recibidas, su verificación y sus eventos (030–033) para integrar el ERP. "
                "Autenticación: Authorization: Bearer <token> (buzon token create --user NOMBRE). "
                "Cada token es de una empresa: en una instalación de varias, solo ve y actúa en la suya "
                "(buzon token create --company NIT). "
                "Los errores son JSON con error y message (en español)."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/me": {
                "get": {
                    "operationId": "me",
                    "summary": "El usuario del token y su rol.",
                    "responses": {
                        "200": {"description": "El usuario.", "content": {"application/json": {"schema": _ref("Me")}}},
                        **_ERRORS,
                    },
                }
            },
            "/api/v1/documents": {
                "get": {
                    "operationId": "listDocuments",
                    "summary": "Documentos recibidos con los filtros de la bandeja, por páginas (cursor).",
                    "parameters": _LIST_PARAMETERS,
                    "responses": {
                        "200": {
                            "description": "Una página.",
                            "content": {"application/json": {"schema": _ref("DocumentPage")}},
                        },
                        "400": _error_response("Un filtro, el orden, el cursor o el límite no son válidos."),
                        **_ERRORS,
                    },
                }
            },
            "/api/v1/documents/{cufe}": {
                "get": {
                    "operationId": "getDocument",
                    "summary": "Un documento con su informe de verificación, sus eventos y lo que puede enviarse.",
                    "parameters": [_CUFE],
                    "responses": {
                        "200": {
                            "description": "El documento.",
                            "content": {"application/json": {"schema": _ref("Document")}},
                        },
                        "400": _error_response("El CUFE no tiene la forma de un CUFE (field: cufe)."),
                        "404": _error_response("No hay un documento con ese CUFE."),
                        **_ERRORS,
                    },
                }
            },
            "/api/v1/documents/{cufe}/events": {
                "post": {
                    "operationId": "sendEvent",
                    "summary": "Firmar y enviar a la DIAN el evento 030, 031, 032 o 033 (rol auxiliar).",
                    "parameters": [_CUFE],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("EventRequest")}},
                    },
                    "responses": {
                        "201": {
                            "description": "Firmado, en la cola y entregado a la DIAN si respondió.",
                            "content": {"application/json": {"schema": _ref("EventCreated")}},
                            "headers": {"Location": {"schema": {"type": "string"}}},
                        },
                        "202": {
                            "description": "Pendiente de aprobación (cuatro ojos): no se firmó; otra persona debe "
                            "aprobarlo en /aprobaciones. approval.id es la solicitud que espera.",
                            "content": {"application/json": {"schema": {
                                "type": "object",
                                "required": ["approval", "message"],
                                "properties": {
                                    "message": {"type": "string"},
                                    "approval": {"type": "object", "required": ["id", "state"], "properties": {
                                        "id": {"type": "integer"}, "state": {"type": "string", "enum": ["pending"]},
                                        "code": {"type": "string"}}},
                                },
                            }}},
                        },
                        "400": _error_response(
                            "El cuerpo no es un JSON válido para un evento, o anida demasiado "
                            f"(más de {shape.MAX_DEPTH} niveles); el campo rechazado va en field."
                        ),
                        "413": _error_response(f"El cuerpo pasa de {shape.MAX_BODY_BYTES} bytes (field: body)."),
                        "404": _error_response("No hay un documento con ese CUFE."),
                        "409": _error_response("El estado del documento no lo permite ahora (con el porqué)."),
                        "422": _error_response("El evento no puede llevar lo pedido (p. ej. falta la persona)."),
                        "503": _error_response("El envío de eventos no está disponible en este servidor."),
                        **_ERRORS,
                    },
                }
            },
            "/api/v1/payables": {
                "get": {
                    "operationId": "listPayables",
                    "summary": "Lo que se debe a proveedores (facturas a crédito sin pagar) y a quién pagar cada una.",
                    "parameters": _PAYABLE_PARAMETERS,
                    "responses": {
                        "200": {
                            "description": "Las líneas del pago, con las rechazadas y su motivo.",
                            "content": {"application/json": {"schema": _ref("Payables")}},
                        },
                        "400": _error_response("Un filtro no es válido (field: el parámetro)."),
                        **_ERRORS,
                    },
                }
            },
            **openapi_issuing.PATHS,
            **openapi_support.PATHS,
            **openapi_approvals.PATHS,
            "/api/v1/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "Este documento.",
                    "responses": {"200": {"description": "OpenAPI 3.1."}, **_ERRORS},
                }
            },
        },
        "webhooks": {
            "documentStateChanged": {
                "post": {
                    "summary": "Un documento cambió de estado (configurado en [webhooks] url).",
                    "description": (
                        "Cabeceras: X-Buzon-Timestamp (segundos Unix), X-Buzon-Delivery (id de la entrega) y "
                        "X-Buzon-Signature: sha256=<hex> = HMAC-SHA256(secreto, timestamp + '.' + cuerpo). "
                        "Responda 2xx; otra respuesta se reintenta con espera creciente."
                    ),
                    "requestBody": {"content": {"application/json": {"schema": _ref("StateChanged")}}},
                    "responses": {"200": {"description": "Recibido."}},
                }
            },
            "titleChanged": {
                "post": {
                    "summary": "Una factura por pagar cambió de beneficiario (endoso, title.holder_changed) o su pago "
                    "quedó congelado (041, title.limited). Mismas cabeceras y firma que documentStateChanged.",
                    "requestBody": {"content": {"application/json": {"schema": _ref("TitleChanged")}}},
                    "responses": {"200": {"description": "Recibido."}},
                }
            },
            "issuedDocument": {
                "post": {
                    "summary": "Una factura o nota que expedimos: la DIAN la validó (invoice.validated) o la rechazó "
                    "(invoice.rejected, con sus reglas), o el correo al comprador salió (invoice.delivered). Mismas "
                    "cabeceras y firma que documentStateChanged.",
                    "requestBody": {"content": {"application/json": {"schema": _ref("IssuedChanged")}}},
                    "responses": {"200": {"description": "Recibido."}},
                }
            },
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {**_SCHEMAS, **_PAYABLE_SCHEMAS, **openapi_issuing.SCHEMAS, **openapi_support.SCHEMAS,
                        **openapi_approvals.SCHEMAS},
        },
    }
