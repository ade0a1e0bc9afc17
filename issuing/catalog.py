"""The code lists an issued document draws from, with the Spanish words the validator and the PDF use.

Sources: radian-issuing-facts B.4 (note concepts, annex 1.9), B.5 (payment form and means), peers-wave2 §2.2-§2.3
(tax schemes, withholdings, discount codes, liabilities, as apidian's seeds list them), dian.codes for identification
types. Currency codes are ISO 4217 as DIAN's currency table lists them (apidian `type_currencies.csv`).
"""

from __future__ import annotations

from dian.codes import IdentificationType

__all__ = [
    "CREDIT_NOTE_CONCEPTS",
    "CURRENCIES",
    "DEBIT_NOTE_CONCEPTS",
    "DISCOUNT_CODES",
    "ID_TYPES",
    "ORGANIZATION_TYPES",
    "PAYMENT_FORMS",
    "PAYMENT_MEANS",
    "REFERENCE_PRICE_TYPES",
    "TAX_LEVELS",
    "TAX_SCHEMES",
    "WITHHOLDING_SCHEMES",
]

# cac:TaxScheme of the taxes a line can carry (peers-wave2 §2.2: apidian's `taxes` seed; 22 is INC on plastic bags,
# the per-unit tax of §2.3). Withholdings 05-07 are apart.
TAX_SCHEMES = {
    "01": "IVA",
    "02": "IC",
    "03": "ICA",
    "04": "INC",
    "20": "FtoHorticultura",
    "21": "Timbre",
    "22": "INC Bolsas",
    "23": "INCarbono",
    "24": "INCombustibles",
    "25": "Sobretasa Combustibles",
    "26": "Sordicom",
    "ZZ": "No aplica",
}

# cac:WithholdingTaxTotal schemes (peers-wave2 §2.3): not in the CUFE, and they do not change PayableAmount.
WITHHOLDING_SCHEMES = {"05": "ReteIVA", "06": "ReteRenta", "07": "ReteICA"}

# radian-issuing-facts B.4: concepts of annex 1.9 (5 and 6 are the two commercial discounts added by 1.9).
CREDIT_NOTE_CONCEPTS = {
    "1": "Devolución parcial de los bienes y/o no aceptación parcial del servicio",
    "2": "Anulación de factura electrónica",
    "3": "Rebaja o descuento parcial o total",
    "4": "Ajuste de precio",
    "5": "Descuento comercial por pronto pago",
    "6": "Descuento comercial por volumen de ventas",
}
DEBIT_NOTE_CONCEPTS = {"1": "Intereses", "2": "Gastos por cobrar", "3": "Cambio del valor", "4": "Otros"}

# radian-issuing-facts B.5: cac:PaymentMeans/cbc:ID and cbc:PaymentMeansCode.
PAYMENT_FORMS = {"1": "Contado", "2": "Crédito"}
PAYMENT_MEANS = frozenset(
    [str(code) for code in range(1, 54)]
    + [str(code) for code in range(60, 68)]
    + ["70", "71", "72", "74", "75", "76", "77", "78"]
    + [str(code) for code in range(91, 98)]
    + ["ZZZ"]
)

# cbc:AllowanceChargeReasonCode of a discount (apidian `discounts.csv`, peers-wave2 §2.2).
DISCOUNT_CODES = {
    "00": "Descuento por impuesto asumido",
    "01": "Pague uno lleve otro",
    "02": "Descuentos contractuales",
    "03": "Descuento por pronto pago",
    "04": "Envío gratis",
    "05": "Descuentos específicos por inventarios",
    "06": "Descuento por monto de compras",
    "07": "Descuento de temporada",
    "08": "Descuento por actualización de productos / servicios",
    "09": "Descuento general",
    "10": "Descuento por volumen",
    "11": "Otro descuento",
}

# PricingReference/AlternativeConditionPrice/cbc:PriceTypeCode of a free line (apidian `reference_prices.csv`).
REFERENCE_PRICE_TYPES = {"01": "Valor comercial", "02": "Valor en inventarios", "03": "Otro valor"}

# cbc:TaxLevelCode (responsabilidades fiscales), the five of peers-wave2 §2.2.
TAX_LEVELS = {
    "O-13": "Gran contribuyente",
    "O-15": "Autorretenedor",
    "O-23": "Agente de retención IVA",
    "O-47": "Régimen simple de tributación",
    "R-99-PN": "No aplica – Otros",
}

ORGANIZATION_TYPES = {"1": "Persona jurídica", "2": "Persona natural"}
ID_TYPES = frozenset(member.value for member in IdentificationType)

CURRENCIES = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYR BZD CAD
    CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS
    GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD
    KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRO MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR
    NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLL SOS SRD SSP STD SVC
    SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UZS VEF VES VND VUV WST XAF XAG XAU XBA
    XBB XBC XBD XCD XDR XOF XPD XPF XPT XSU XTS XUA XXX YER ZAR ZMW ZWL""".split()  # noqa: SIM905
)
