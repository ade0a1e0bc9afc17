"""The literals of the documento soporte (05) and its adjustment note (95) that the sources do not settle, each chosen
once here with its doubt (radian-issuing-facts C, peers-wave2 §3). Change a value after a habilitación test proves it;
nothing else in the code spells these strings.
"""

from __future__ import annotations

__all__ = [
    "ADJUSTMENT_CONCEPTS",
    "ADJUSTMENT_CUSTOMIZATION",
    "ADJUSTMENT_PROFILE_ID",
    "CUDS_KEY_IS_PIN",
    "CUDS_SCHEME",
    "CUDS_TAX_FORM",
    "DS_PROFILE_ID",
    "GENERATION_MODES",
    "NON_RESIDENT",
    "QR_KEYS",
    "QR_RULE_URL_ONLY",
    "RESIDENT",
]

DS_PROFILE_ID = "DIAN 2.1: documento soporte en adquisiciones efectuadas a no obligados a facturar."
"""cbc:ProfileID of the 05 [?] (C.1, peers-wave2 §3).

apidian's validator and DIAN's own sample XML write it lower-case with the final dot; one TypeScript template
capitalises "Documento Soporte" and drops the dot; Vendix writes a longer "…a sujetos no obligados a expedir factura de
venta o documento equivalente". Chosen: facts C.1's literal (two sources, one of them DIAN's sample), final dot kept.
"""

ADJUSTMENT_PROFILE_ID = (
    "DIAN 2.1: Nota de ajuste al documento soporte en adquisiciones efectuadas a sujetos no obligados a expedir "
    "factura o documento equivalente"
)
"""cbc:ProfileID of the 95 [?] (C.1). nobelio reports that the rule's example ends with a trailing space; apidian
writes it without. Chosen: without the space (apidian, which is known to pass habilitación)."""

CUDS_SCHEME = "CUDS-SHA384"
"""cbc:UUID/@schemeName of the 05 and the 95, and of the 95's BillingReference to its 05 (C.1, C.4) [2+]."""

CUDS_TAX_FORM = "single"
"""How many tax pairs enter the CUDS [?] (C.2, peers-wave2 §3).

DIAN's dedicated ValidateCuds (annex DSNO v1.1) hashes ONE pair (CodImp, the first TaxTotal's scheme, default 01, and
ValImp its amount) and reproduces the official example; DIAN's generic ValidateCufe has a 05 branch with the 3-pair
CUFE form, and Vendix computes the DS key with its CUFE function. Chosen: "single" (the one that matches the official
example, reproduced in tests/unit/test_cuds.py). "triple" would be the CUFE's 01/04/03 form; one habilitación test
settles it.
"""

CUDS_KEY_IS_PIN = True
"""The secret hashed into the CUDS is the software PIN, NOT the range's technical key (C.2) [2+]. Vendix records a
real defect: a DS keyed with the technical key was silently rejected after spending its consecutive."""

RESIDENT = "10"
NON_RESIDENT = "11"
"""cbc:CustomizationID of the 05: 10 the seller resides in Colombia (its address is required), 11 it does not (C.1).
One peer template sends "1" (wrong). The 95 takes its DS's value [?]: no source shows a distinct operation code for the
note; apidian's 95 template copies the DS's."""

ADJUSTMENT_CUSTOMIZATION = {RESIDENT: RESIDENT, NON_RESIDENT: NON_RESIDENT}

GENERATION_MODES = {"1": "Por operación", "2": "Acumulado semanal"}
"""Each line's cac:InvoicePeriod/cbc:DescriptionCode and Description: forma de generación y transmisión (C.3; apidian
``type_generation_transmitions.csv``). Mode 2 gathers a week's purchases from one seller; StartDate is the period's
first day."""

ADJUSTMENT_CONCEPTS = {
    "1": "Devolución parcial de los bienes y/o no aceptación parcial del servicio",
    "2": "Anulación del documento soporte en adquisiciones efectuadas a sujetos no obligados a expedir factura de "
    "venta o documento equivalente",
    "3": "Rebaja o descuento parcial o total",
    "4": "Ajuste de precio",
    "5": "Otros",
}
"""cac:DiscrepancyResponse/cbc:ResponseCode of the 95 and its words (C.4; apidian
``credit_note_discrepancy_responses_sd.csv``)."""

QR_RULE_URL_ONLY = True
"""sts:QRCode of a 05/95 holds only the URL ``…/searchqr?documentkey=<CUDS>`` (rule DSAB36) [2]; the toolbox example
puts a key/value block there instead — the rule wins. The printed QR carries the key/value text below."""

QR_KEYS = ("NumDS", "FecDS", "HorDS", "NumSNO", "DocABS", "ValDS", "ValIva", "ValTolDS", "CUDS")
"""The printed QR text's keys, in order, then the URL (C.3; nobelio, lopezsoft SignDocumentSupport.php). The 95 uses
the same keys [?]: no source shows a separate set for the note."""
