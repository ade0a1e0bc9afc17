"""Verify a received document end to end (dian-facts 3.3): an AttachedDocument, a bare Invoice/CreditNote/DebitNote,
an event (ApplicationResponse 030-051, bare or in a container) or DIAN's validation answer mailed on its own.

Every field the report returns is parsed from the element the signature covers, never from the raw bytes, so a
wrapped or forged element cannot reach the filed record; a document whose signature fails still reports what it
*says* (``unverified_document``, marked unproven) so a clerk can chase the supplier. DIAN's ApplicationResponse is
weighed by the one trust policy of ``dian.proof``: only a DIAN signature anchored or pinned proves the validation;
anything else makes the verdict ``unconfirmed`` ("validación DIAN sin confirmar"), never valid.

The rooms: ``documents.py`` the entry (``verify_received``: the container's payloads, the supplier's signature, the
model, the identity checks), ``events.py`` an event or DIAN's answer received on its own, ``answer.py`` DIAN's answer
weighed, ``container.py`` the container's own signature (weighed last, verified only when it can change the
verdict), ``report.py`` the ``ReceptionReport`` and ``settle_confirmed``, ``keys.py`` the shape of a CUFE/CUDE.
"""

from dian.reception.documents import verify_received
from dian.reception.keys import is_key
from dian.reception.report import ONLINE_SETTLED, ReceptionReport, settle_confirmed

__all__ = ["ONLINE_SETTLED", "ReceptionReport", "is_key", "settle_confirmed", "verify_received"]
