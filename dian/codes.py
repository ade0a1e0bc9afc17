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
    SUPPORT_DOCUMENT = "05"  # Documento soporte: issued by the buyer (radian-issuing-facts C.1)
    SUPPORT_ADJUSTMENT = "95"  # Nota de ajuste al documento soporte (C.4)

    @property
    def is_invoice(self) -> bool:
        return self.value in {"01", "02", "03", "04"}

    @property
    def numbering(self) -> str:
        """The numbering an issuer's document number belongs to: every kind of invoice shares one ("invoice"; DIAN
        validates one document per number in it), each other kind has its own (its code)."""
        return "invoice" if self.is_invoice else self.value

    @property
    def is_support(self) -> bool:
        """True for the documento soporte (05) and its adjustment note (95): we are their buyer and issuer."""
        return self.value in {"05", "95"}

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
    DocumentType.SUPPORT_DOCUMENT: "Documento soporte",
    DocumentType.SUPPORT_ADJUSTMENT: "Nota de ajuste al documento soporte",
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


# --- RADIAN value-title events 035-051 (radian-issuing-facts.md A.2, A.4, A.8) -----------------------------------


class Operation(StrEnum):
    """cbc:CustomizationID of events 035-051, the "tipo de operación" of table 14.1.2 (A.2).

    ``cbc:ResponseCode`` carries the 3-digit event code; the variant goes here. Events without variants repeat their
    own code. 443 (TS-annex only) and the "especial" mandate codes 4131... (a display enum only) are not emitted (A.2).
    """

    AVAL = "035"
    FIRST_REGISTRATION = "361"  # primera inscripción, negociación general
    FIRST_REGISTRATION_DIRECT = "362"  # primera inscripción, negociación directa previa
    LATER_REGISTRATION = "363"  # inscripción posterior, negociación general
    LATER_REGISTRATION_DIRECT = "364"  # inscripción posterior, negociación directa previa
    ENDORSEMENT_WITH_RESPONSIBILITY = "371"
    ENDORSEMENT_WITHOUT_RESPONSIBILITY = "372"
    GUARANTEE_ENDORSEMENT = "038"
    COLLECTION_ENDORSEMENT = "039"
    CANCEL_GUARANTEE_ENDORSEMENT = "401"
    CANCEL_COLLECTION_ENDORSEMENT = "402"
    STRIKE_BY_RETURN_ENDORSEMENT = "403"  # tacha de endosos por endoso en retorno
    LIMITATION_SEIZURE = "411"  # auto que decreta medida cautelar por embargo
    LIMITATION_PAYMENT_ORDER = "412"  # ... por mandamiento de pago
    LIMITATION_END_BY_JUDGMENT = "421"
    LIMITATION_END_EARLY = "422"
    MANDATE_GENERAL_LIMITED_TIME = "431"
    MANDATE_GENERAL_UNLIMITED_TIME = "432"
    MANDATE_LIMITED_LIMITED_TIME = "433"
    MANDATE_LIMITED_UNLIMITED_TIME = "434"
    MANDATE_REVOKED = "441"  # revocatoria, by the mandante
    MANDATE_RENOUNCED = "442"  # renuncia, by the mandatario
    PARTIAL_PAYMENT = "451"
    TOTAL_PAYMENT = "452"
    PAYMENT_REPORT = "046"
    ASSIGNMENT_ENDORSEMENT = "047"  # endoso con efectos de cesión ordinaria
    PROTEST_NON_ACCEPTANCE = "481"
    PROTEST_NON_PAYMENT = "482"
    TRANSFER_PARTIAL_WITH_RESPONSIBILITY = "491"
    TRANSFER_TOTAL_WITH_RESPONSIBILITY = "492"
    TRANSFER_PARTIAL_WITHOUT_RESPONSIBILITY = "493"
    TRANSFER_TOTAL_WITHOUT_RESPONSIBILITY = "494"
    TRANSFER_NOTICE = "050"
    TRANSFER_PARTIAL_PAYMENT = "511"
    TRANSFER_TOTAL_PAYMENT = "512"

    @property
    def event(self) -> EventCode:
        """The event code (cbc:ResponseCode) this operation belongs to."""
        return _OPERATION_EVENT[self]

    @property
    def label(self) -> str:
        return _OPERATION_LABELS[self]

    @classmethod
    def of(cls, event: EventCode) -> tuple[Operation, ...]:
        """The operations of one event, in code order (A.2)."""
        return tuple(op for op in cls if op.event is EventCode(event))


def _operation_event(code: str) -> EventCode:
    # 3-digit codes that are event codes stand for themselves; 361 -> 036, 4xx -> 04x, 5xx -> 05x.
    if code in EventCode._value2member_map_:
        return EventCode(code)
    return EventCode("0" + code[:2])


_OPERATION_EVENT = {op: _operation_event(op.value) for op in Operation}

_OPERATION_LABELS = {
    Operation.AVAL: "Aval",
    Operation.FIRST_REGISTRATION: "Primera inscripción, negociación general",
    Operation.FIRST_REGISTRATION_DIRECT: "Primera inscripción, negociación directa previa",
    Operation.LATER_REGISTRATION: "Inscripción posterior, negociación general",
    Operation.LATER_REGISTRATION_DIRECT: "Inscripción posterior, negociación directa previa",
    Operation.ENDORSEMENT_WITH_RESPONSIBILITY: "Endoso en propiedad con responsabilidad",
    Operation.ENDORSEMENT_WITHOUT_RESPONSIBILITY: "Endoso en propiedad sin responsabilidad",
    Operation.GUARANTEE_ENDORSEMENT: "Endoso en garantía",
    Operation.COLLECTION_ENDORSEMENT: "Endoso en procuración",
    Operation.CANCEL_GUARANTEE_ENDORSEMENT: "Cancelación del endoso en garantía",
    Operation.CANCEL_COLLECTION_ENDORSEMENT: "Cancelación del endoso en procuración",
    Operation.STRIKE_BY_RETURN_ENDORSEMENT: "Tacha de endosos por endoso en retorno",
    Operation.LIMITATION_SEIZURE: "Limitación por medida cautelar de embargo",
    Operation.LIMITATION_PAYMENT_ORDER: "Limitación por mandamiento de pago",
    Operation.LIMITATION_END_BY_JUDGMENT: "Terminación de la limitación por sentencia",
    Operation.LIMITATION_END_EARLY: "Terminación anticipada de la limitación",
    Operation.MANDATE_GENERAL_LIMITED_TIME: "Mandato con facultades generales por tiempo limitado",
    Operation.MANDATE_GENERAL_UNLIMITED_TIME: "Mandato con facultades generales por tiempo ilimitado",
    Operation.MANDATE_LIMITED_LIMITED_TIME: "Mandato con facultades limitadas por tiempo limitado",
    Operation.MANDATE_LIMITED_UNLIMITED_TIME: "Mandato con facultades limitadas por tiempo ilimitado",
    Operation.MANDATE_REVOKED: "Revocatoria del mandato",
    Operation.MANDATE_RENOUNCED: "Renuncia del mandatario",
    Operation.PARTIAL_PAYMENT: "Pago parcial",
    Operation.TOTAL_PAYMENT: "Pago total",
    Operation.PAYMENT_REPORT: "Informe para el pago",
    Operation.ASSIGNMENT_ENDORSEMENT: "Endoso con efectos de cesión ordinaria",
    Operation.PROTEST_NON_ACCEPTANCE: "Protesto por falta de aceptación",
    Operation.PROTEST_NON_PAYMENT: "Protesto por falta de pago",
    Operation.TRANSFER_PARTIAL_WITH_RESPONSIBILITY: "Transferencia parcial de derechos con responsabilidad",
    Operation.TRANSFER_TOTAL_WITH_RESPONSIBILITY: "Transferencia total de derechos con responsabilidad",
    Operation.TRANSFER_PARTIAL_WITHOUT_RESPONSIBILITY: "Transferencia parcial de derechos sin responsabilidad",
    Operation.TRANSFER_TOTAL_WITHOUT_RESPONSIBILITY: "Transferencia total de derechos sin responsabilidad",
    Operation.TRANSFER_NOTICE: "Notificación al deudor de la transferencia",
    Operation.TRANSFER_PARTIAL_PAYMENT: "Pago parcial de la transferencia",
    Operation.TRANSFER_TOTAL_PAYMENT: "Pago total de la transferencia",
}


class EndorsementKind(StrEnum):
    """ResponseCode/@listID of 037/038/039/047: 1 complete, 2 blank (A.4; blank changes the CUDE)."""

    COMPLETE = "1"
    BLANK = "2"


class MandateScope(StrEnum):
    """ResponseCode/@listID of 043: which invoices the mandate covers (A.4, A.8; at most 20 for SEVERAL)."""

    ONE_INVOICE = "1"
    SEVERAL_INVOICES = "2"
    ALL_INVOICES = "3"


class PaymentCondition(StrEnum):
    """ResponseCode/@listID of 045 and 051: 2 is mandatory while a 041 limitation is active (A.4, LGC45/LGC85)."""

    FREE = "1"
    UNDER_LIMITATION = "2"


class MandateEvidence(StrEnum):
    """CustomizationID/@schemeID of 043: 2 means the mandate contract is embedded as PDF (A.2, A.8)."""

    NOT_EMBEDDED = "1"
    EMBEDDED = "2"


class MandanteType(StrEnum):
    """SenderParty/PowerOfAttorney/AgentParty/PartyIdentification/ID of 043, table 13.2.5 (A.8, AAF35)."""

    ISSUER = "Mandante-FE"
    HOLDER = "Mandante-LT"
    GUARANTOR = "Mandante-AV"
    DEBTOR = "Mandante-AD"

    @property
    def description(self) -> str:
        """The exact PowerOfAttorney/cbc:Description DIAN compares (AAF35)."""
        return _MANDANTE_DESCRIPTIONS[self]


_MANDANTE_DESCRIPTIONS = {
    MandanteType.ISSUER: "Mandante Facturador Electrónico",
    MandanteType.HOLDER: "Mandante Legitimo Tenedor",
    MandanteType.GUARANTOR: "Mandante Aval",
    MandanteType.DEBTOR: "Mandante Adquirente/Deudor",
}


class MandatarioType(StrEnum):
    """IssuerParty/PowerOfAttorney/AgentParty/PartyIdentification/ID of 043, table 13.2.8 (A.8, AAH65)."""

    ISSUER = "M-FE"
    NEGOTIATION_SYSTEM = "M-SN-e"
    FACTOR = "M-Factor"
    TECHNOLOGY_PROVIDER = "M-PT"

    @property
    def description(self) -> str:
        """The exact PowerOfAttorney/cbc:Description DIAN compares (AAH65)."""
        return _MANDATARIO_DESCRIPTIONS[self]


_MANDATARIO_DESCRIPTIONS = {
    MandatarioType.ISSUER: "Mandatario Facturador Electrónico",
    MandatarioType.NEGOTIATION_SYSTEM: "Mandatario Sistema de Negociación Electrónica",
    MandatarioType.FACTOR: "Mandatario Factor",
    MandatarioType.TECHNOLOGY_PROVIDER: "Mandatario Proveedor Tecnológico",
}

EVENT_DOCUMENT_TYPE = "96"
"""cbc:DocumentTypeCode of a reference to an event (040, 042 and 044 reference the event they cancel, A.4)."""
