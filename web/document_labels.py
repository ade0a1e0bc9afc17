"""Spanish labels for the document page: verification checks, event states, identification types (es-CO)."""

from __future__ import annotations

from dian.codes import ClaimReason
from store.models import Direction, SubmissionState

# The report's check names are "<where>.<check>" (dian/reception/ prefixes dian/xades/verify.py's names).
CHECK_PLACES = {
    "document": "Documento",
    "dian": "Respuesta de la DIAN",
    "container": "Contenedor (AttachedDocument)",
}
CHECK_NAMES = {
    "input.parse": "Lectura del archivo recibido",
    "buyer.nit": "Adquirente: nuestro NIT",
    "parse": "Lectura del XML",
    "signature": "Firma digital",
    "reference.document": "Integridad del contenido firmado",
    "reference.key_info": "Firma cubre el certificado (KeyInfo)",
    "reference.signed_properties": "Firma cubre las propiedades firmadas",
    "reference.other": "Otras referencias de la firma",
    "signer.nit": "NIT del firmante",
    "algorithms": "Algoritmos de la firma",
    "signing_time": "Fecha de firma",
    "policy.identifier": "Política de firma de la DIAN",
    "policy.hash": "Resumen de la política de firma",
    "signing_certificate": "Certificado firmante declarado",
    "certificate.validity": "Vigencia del certificado",
    "certificate.chain": "Cadena de confianza del certificado",
    "response": "Validación de la DIAN",
    "sender": "Remitente de la respuesta (DIAN)",
    "document_reference": "La respuesta nombra este documento",
    "notifications": "Notificaciones de la DIAN",
    "online": "Consulta en línea a la DIAN",
    "proof": "Prueba de la validación de la DIAN",
    "number": "Número sin repetir del proveedor",
    "environment": "Ambiente de la DIAN (producción o pruebas)",
}
OUTCOME_LABELS = {"pass": "Correcto", "warn": "Advertencia", "fail": "Falla"}
OUTCOME_MARKS = {"pass": "✓", "warn": "!", "fail": "✗"}

SUBMISSION_LABELS = {
    SubmissionState.DRAFT: "Borrador",
    SubmissionState.SIGNED: "Firmado, en cola para la DIAN",
    SubmissionState.SENT: "Enviado, esperando respuesta de la DIAN",
    SubmissionState.REGISTERED: "Registrado",
    SubmissionState.REJECTED: "Rechazado por la DIAN",
    SubmissionState.SEND_FAILED: "Envío fallido; se reintentará",
}
# Our event while DIAN answers 98/66 (dian-facts 6.5), and once the outbox stopped asking (events/outbox.py).
NOT_FINAL_LABEL = "La DIAN aún no da respuesta definitiva; se volverá a consultar"
UNRESOLVED_LABEL = "Sin respuesta definitiva de la DIAN: requiere revisión"
DIRECTION_LABELS = {Direction.EMITTED: "Nuestro", Direction.OBSERVED: "Observado"}

# Short names for the buttons and the timeline (dian.codes has DIAN's long ones).
EVENT_SHORT = {
    "030": "Acuse de recibo",
    "031": "Reclamo",
    "032": "Recibo del bien o servicio",
    "033": "Aceptación expresa",
    "034": "Aceptación tácita",
}

CLAIM_LABELS = {reason.value: reason.label for reason in ClaimReason}

# DIAN identification types a person who receives goods usually has (dian.codes.IdentificationType).
ID_TYPES = (
    ("13", "Cédula de ciudadanía"),
    ("22", "Cédula de extranjería"),
    ("21", "Tarjeta de extranjería"),
    ("41", "Pasaporte"),
    ("47", "Permiso especial de permanencia (PEP)"),
    ("48", "Permiso por protección temporal (PPT)"),
    ("42", "Documento de identificación extranjero"),
)

# UN/ECE Rec. 20 unit codes common on Colombian invoices (cbc:InvoicedQuantity/@unitCode).
UNITS = {
    "94": "unidad",
    "EA": "unidad",
    "NIU": "unidad",
    "C62": "unidad",
    "ZZ": "unidad",
    "KGM": "kg",
    "GRM": "g",
    "LTR": "L",
    "MTR": "m",
    "MTK": "m²",
    "MTQ": "m³",
    "HUR": "hora",
    "DAY": "día",
    "MON": "mes",
    "KWH": "kWh",
    "GLL": "galón",
    "BX": "caja",
    "PR": "par",
    "SET": "juego",
}

PAYMENT_LABELS = {"1": "Contado", "2": "Crédito"}
TAX_LABELS = {
    "01": "IVA",
    "02": "Impuesto al consumo departamental",
    "03": "ICA",
    "04": "Impuesto nacional al consumo (INC)",
    "05": "ReteIVA",
    "06": "ReteRenta (retención en la fuente)",
    "07": "ReteICA",
    "ZZ": "Otro",
}


def check_label(name: str) -> str:
    """A check's name in Spanish: "Respuesta de la DIAN · Firma digital"; unknown names are shown as they are."""
    if name in CHECK_NAMES:
        return CHECK_NAMES[name]
    place, _, rest = name.partition(".")
    if place in CHECK_PLACES and rest:
        return f"{CHECK_PLACES[place]} · {CHECK_NAMES.get(rest, rest)}"
    return name
