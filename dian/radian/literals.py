"""The literals of events 035-051 that the sources do not settle, each chosen once here with its doubt.

Change a value here after a RADIAN habilitación test proves it; nothing else in the code spells these strings.
"""

from __future__ import annotations

from dian.ubl import namespaces as ns

__all__ = [
    "ATTACHMENT_MIME",
    "MANDATARIO_NOTE",
    "MANDATE_ALL_INVOICES_ID",
    "MANDATE_GENERAL_POWER",
    "MANDATE_PERIOD_LIMITED",
    "MANDATE_PERIOD_UNLIMITED",
    "MANDATE_POWERS_GENERAL",
    "MANDATE_POWERS_LIMITED",
    "PROFILE_ID",
    "VALUE_BLOCK_NAMESPACE",
    "VALUE_BLOCK_ROOT",
]

PROFILE_ID = "DIAN 2.1: ApplicationResponse de la Factura Electrónica de Venta"
"""cbc:ProfileID of 035-051 [?] (peers-wave2.md 1.2).

radiankore writes "... de la Factura ..." for 035-051 (and without "la" for 030-034); Vendix writes the form without
"la" for every event and says the "de la" form fails AAD03; dian-facts.md 2.5 has the "de la" form for 030-034 too and
Buzón's 030-034 builder already sends it. Chosen: the "de la" form, the same string the 030-034 builder sends, so one
habilitación answer settles both families.
"""

VALUE_BLOCK_NAMESPACE = ns.APPLICATION_RESPONSE
"""Namespace of ``CustomTagGeneral`` and its children [?] (A.4, peers-wave2.md 1.2).

The examples show no prefix; radiankore and HGInet's serializer put the block in the ApplicationResponse default
namespace (two sources), Vendix calls it unverified. Chosen: the default namespace, which is what an unprefixed
element inside our ApplicationResponse means anyway. The parser accepts the block in no namespace as well.
"""

VALUE_BLOCK_ROOT = "CustomTagGeneral"
"""The wrapper element of every value block (A.4) [2+]."""

MANDATARIO_NOTE = "{mandatario} OBRANDO EN NOMBRE Y REPRESENTACION DE {mandante}"
"""The cbc:Note DIAN looks for when a mandatario transmits (A.3, A.4: AAD11/AAD11a check the upper-case literal)."""

ATTACHMENT_MIME = "application/pdf"
"""mimeCode of cbc:EmbeddedDocumentBinaryObject for the 048 protest certificate and the 043 contract (AAI84, AAH84)."""

# 043 mandate powers (A.8). Table 14.2.4 is a DIAN database table no source publishes: only "ALL17" (general powers)
# is attested (HGInet, Dispapeles "ALL17-PT"); "MR91" is seen on limited mandates without its meaning.
MANDATE_GENERAL_POWER = "ALL17"
MANDATE_POWERS_GENERAL = "Mandato por documento General"
MANDATE_POWERS_LIMITED = "Mandato por documento Limitado"
MANDATE_PERIOD_LIMITED = "Lapso de vigencia del Mandato-Limitado"
MANDATE_PERIOD_UNLIMITED = "Lapso de vigencia del Mandato-Ilimitado"

MANDATE_ALL_INVOICES_ID = "0"
"""[?] DocumentReference/cbc:ID of a 043 with listID 3 (all the mandante's invoices): A.8 says "a placeholder ID and no
CUFE" without the value. Chosen: "0", a number no invoice carries."""
