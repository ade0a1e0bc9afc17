"""Enumerations whose values are DIAN's own codes (dian-facts.md sections 2 and 3).

Columns in the database store these values (``"030"``), never the member names.
"""

from __future__ import annotations

from enum import StrEnum


class DocumentType(StrEnum):
    """cbc:InvoiceTypeCode / CreditNoteTypeCode / DebitNote codes of the documents Buzón receives or issues."""

    INVOICE = "01"  # Factura electrónica de venta
    EXPORT_INVOICE = "02"  # Factura electrónica de venta - exportación
    CONTINGENCY_INVOICE = "03"  # Factura por contingencia facturador
    DIAN_CONTINGENCY_INVOICE = "04"  # Factura por contingencia DIAN
    CREDIT_NOTE = "91"
    DEBIT_NOTE = "92"

    @property
    def is_invoice(self) -> bool:
        return self.value in {"01", "02", "03", "04"}

    @property
    def label(self) -> str:
        return _DOCUMENT_LABELS[self]


_DOCUMENT_LABELS = {
    DocumentType.INVOICE: "Factura electrónica de venta",
    DocumentType.EXPORT_INVOICE: "Factura de exportación",
    DocumentType.CONTINGENCY_INVOICE: "Factura por contingencia del facturador",
    DocumentType.DIAN_CONTINGENCY_INVOICE: "Factura por contingencia DIAN",
    DocumentType.CREDIT_NOTE: "Nota crédito",
    DocumentType.DEBIT_NOTE: "Nota débito",
}


class EventCode(StrEnum):
    """ApplicationResponse event codes 030-051 (dian-facts.md 2.1) and DIAN's validation answers 02/04."""

    ACUSE_RECIBO = "030"
    RECLAMO = "031"
    RECIBO_BIEN = "032"
    ACEPTACION_EXPRESA = "033"
    ACEPTACION_TACITA = "034"
    AVAL = "035"
    INSCRIPCION_TITULO = "036"
    ENDOSO_PROPIEDAD = "037"
    ENDOSO_GARANTIA = "038"
    ENDOSO_PROCURACION = "039"
    CANCELACION_ENDOSO = "040"
    LIMITACION_CIRCULACION = "041"
    TERMINACION_LIMITACION = "042"
    MANDATO = "043"
    TERMINACION_MANDATO = "044"
    PAGO = "045"
    INFORME_PAGO = "046"
    ENDOSO_CESION = "047"
    PROTESTO = "048"
    TRANSFERENCIA_DERECHOS = "049"
    NOTIFICACION_TRANSFERENCIA = "050"
    PAGO_TRANSFERENCIA = "051"

    @property
    def label(self) -> str:
        return _EVENT_LABELS[self]


_EVENT_LABELS = {
    EventCode.ACUSE_RECIBO: "Acuse de recibo de la Factura Electrónica de Venta",
    EventCode.RECLAMO: "Reclamo de la Factura Electrónica de Venta",
    EventCode.RECIBO_BIEN: "Recibo del bien y/o prestación del servicio",
    EventCode.ACEPTACION_EXPRESA: "Aceptación expresa",
    EventCode.ACEPTACION_TACITA: "Aceptación Tácita",
    EventCode.AVAL: "Aval",
    EventCode.INSCRIPCION_TITULO: "Inscripción de la factura electrónica de venta como título valor",
    EventCode.ENDOSO_PROPIEDAD: "Endoso en propiedad",
    EventCode.ENDOSO_GARANTIA: "Endoso en garantía",
    EventCode.ENDOSO_PROCURACION: "Endoso en procuración",
    EventCode.CANCELACION_ENDOSO: "Cancelación del endoso",
    EventCode.LIMITACION_CIRCULACION: "Limitación de circulación",
    EventCode.TERMINACION_LIMITACION: "Terminación de la limitación de circulación",
    EventCode.MANDATO: "Mandato",
    EventCode.TERMINACION_MANDATO: "Terminación del mandato",
    EventCode.PAGO: "Pago de la factura electrónica de venta como título valor",
    EventCode.INFORME_PAGO: "Informe para el pago",
    EventCode.ENDOSO_CESION: "Endoso con efectos de cesión ordinaria",
    EventCode.PROTESTO: "Protesto",
    EventCode.TRANSFERENCIA_DERECHOS: "Transferencia de los derechos económicos",
    EventCode.NOTIFICACION_TRANSFERENCIA: "Notificación al deudor sobre la transferencia de los derechos económicos",
    EventCode.PAGO_TRANSFERENCIA: "Pago de la transferencia de los derechos económicos",
}


class ValidationCode(StrEnum):
    """DIAN's own validation ApplicationResponse codes (dian-facts.md 3.2)."""

    VALIDATED = "02"
    REJECTED = "04"


class ClaimReason(StrEnum):
    """Concepto de reclamo carried as ResponseCode/@listID on event 031 (dian-facts.md 2.3)."""

    INCONSISTENCIES = "01"
    NOT_DELIVERED_TOTALLY = "02"
    NOT_DELIVERED_PARTIALLY = "03"
    SERVICE_NOT_RENDERED = "04"

    @property
    def label(self) -> str:
        return _CLAIM_LABELS[self]


_CLAIM_LABELS = {
    ClaimReason.INCONSISTENCIES: "Documento con inconsistencias",
    ClaimReason.NOT_DELIVERED_TOTALLY: "Mercancía no entregada totalmente",
    ClaimReason.NOT_DELIVERED_PARTIALLY: "Mercancía no entregada parcialmente",
    ClaimReason.SERVICE_NOT_RENDERED: "Servicio no prestado",
}


class PaymentMeans(StrEnum):
    """cac:PaymentMeans/cbc:ID: 1 contado, 2 crédito. Only credit invoices take events (rule LGC62)."""

    CASH = "1"
    CREDIT = "2"


class Environment(StrEnum):
    """cbc:ProfileExecutionID and the environment digit of CUFE/CUDE."""

    PRODUCTION = "1"
    TESTING = "2"  # habilitación


class TaxScheme(StrEnum):
    """cac:TaxScheme/cbc:ID values that enter the CUFE (dian-facts.md 1.2), plus common withholdings."""

    IVA = "01"
    IC = "02"
    ICA = "03"
    INC = "04"
    RETE_IVA = "05"
    RETE_FUENTE = "06"
    RETE_ICA = "07"


class IdentificationType(StrEnum):
    """Tipo de documento de identificación (schemeName on CompanyID / Person ID)."""

    REGISTRO_CIVIL = "11"
    TARJETA_IDENTIDAD = "12"
    CEDULA_CIUDADANIA = "13"
    TARJETA_EXTRANJERIA = "21"
    CEDULA_EXTRANJERIA = "22"
    NIT = "31"
    PASAPORTE = "41"
    DOCUMENTO_EXTRANJERO = "42"
    PEP = "47"
    PPT = "48"
    NIT_OTRO_PAIS = "50"
    NUIP = "91"


class DocumentState(StrEnum):
    """Where a received document stands (DESIGN.md section 4), derived from its registered events."""

    RECEIVED = "received"
    VALIDATED = "validated"
    UNCONFIRMED = "unconfirmed"  # verified, but DIAN's validation is not proven yet (DESIGN.md 5a)
    INVALID = "invalid"
    ACKNOWLEDGED = "acknowledged"  # 030 registered
    GOODS_RECEIVED = "goods_received"  # 032 registered
    ACCEPTED = "accepted"  # 033 registered
    CLAIMED = "claimed"  # 031 registered
    TACITLY_ACCEPTED = "tacitly_accepted"  # seller's 034 seen
    TITLE = "title"  # 036 seen: circulates in RADIAN


# StatusCodes that are not DIAN's final word (dian-facts 6.5): asked again later, never taken as a rejection.
NOT_FINAL_STATUS = {
    "98": "en proceso",
    "66": "no encontrado o el lote aún se está validando",
}

DIAN_NIT = "800197268"
DIAN_DV = "4"
DIAN_NAME = "Unidad Especial Dirección de Impuestos y Aduanas Nacionales"
