"""The alerts a settled title calls for: a new payee, a limitation raised or lifted, a payment, an unproven event,
or GetDocumentInfo naming another holder than the proven replay."""

from __future__ import annotations

import hashlib
import unicodedata
from typing import Any

from dian.codes import EventCode
from dian.soap.results import DocumentInfo
from radian.alerts import AlertDraft
from radian.title import ChainLink
from radian.title import ValueTitle as Title
from radian.watch.proof import Proven
from store.models import AlertKind, TitleState, ValueTitle

E = EventCode


def _name_key(name: str) -> str:
    """A registration name compared loosely: no accents, case, spaces or punctuation ("S.A.S." = "SAS")."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in plain.casefold() if ch.isalnum())


def holder_disputed(info: DocumentInfo | None, row: ValueTitle) -> AlertDraft | None:
    """The alert when GetDocumentInfo's ``LegitimoTenedor`` names someone else than the holder(s) our proven replay
    gives ``row``. DIAN does not sign that answer, so it never moves the payee: it only tells treasury to look. None
    when DIAN names no holder (or only by NIT we cannot compare) or when the names agree."""
    if info is None or not (info.holder_name or "").strip():
        return None
    theirs = {_name_key(n) for n in (info.holder_name or "").split(";") if _name_key(n)}
    ours = {_name_key(str(h.get("name") or "")) for h in (row.holders or [])} or {_name_key(row.holder_name or "")}
    if info.holder_number and info.holder_number.strip() == row.holder_nit:
        return None
    if not theirs or theirs == ours:
        return None
    digest = hashlib.sha256("|".join(sorted(theirs)).encode()).hexdigest()[:16]
    holders = "; ".join(f"{h.get('name')} (NIT {h.get('nit')})" for h in (row.holders or [])) or row.holder_nit
    return AlertDraft(
        AlertKind.HOLDER_DISPUTED,
        f"holder_disputed:{row.invoice_cufe}:{row.chain_etag[:16]}:{digest}",
        f"La DIAN, en su consulta GetDocumentInfo (una respuesta sin firma), nombra como tenedor legítimo de la "
        f"factura {row.invoice_number} a «{(info.holder_name or '').strip()}», pero los eventos de RADIAN verificados "
        f"dicen {holders}. Buzón no cambia a quién pagar por una respuesta sin firma: revise el título antes de pagar.",
        None,
        row.holder_nit,
        row.holder_name,
        None,
        (info.holder_name or "").strip()[:450],
    )


def _cause(title: Title | None, codes: tuple[EventCode, ...]) -> ChainLink | None:
    """The last event of ``codes`` in the title's chain: what made the current payee, limitation or payment."""
    found = None
    for link in title.chain if title else ():
        if link.event.code in codes:
            found = link
    return found


def drafts(before: dict[str, Any], row: ValueTitle, title: Title | None, proven: Proven) -> list[AlertDraft]:
    """The alerts the change of ``row`` from ``before`` calls for, each keyed on the event that caused it (so that
    raising it again is a no-op); ``title`` is the replay of the proven events."""
    ids = {(event.cude or "").lower(): stored.id for event, _, stored in proven.events}
    out: list[AlertDraft] = []
    what = f"La factura {row.invoice_number} de {row.issuer_name}"
    if before["payee_nit"] != row.payee_nit:
        holder_moved = before["holder_nit"] != row.holder_nit
        kind = AlertKind.HOLDER_CHANGED if holder_moved else AlertKind.TRANSFERRED
        link = _cause(title, (E.ENDOSO_PROPIEDAD,) if holder_moved else (E.NOTIFICACION_TRANSFERENCIA,))
        cude = (link.event.cude or "").lower() if link else f"{row.invoice_cufe}:{row.payee_nit}"
        message = (
            f"{what} tiene un nuevo tenedor legítimo en RADIAN: pague a {row.payee_name} (NIT {row.payee_nit}), no a "
            f"{before['payee_name']} (NIT {before['payee_nit']})."
            if holder_moved
            else f"{what}: se transfirieron sus derechos económicos y se notificó al deudor; pague a {row.payee_name} "
            f"(NIT {row.payee_nit}), no a {before['payee_name']} (NIT {before['payee_nit']})."
        )
        out.append(AlertDraft(kind, f"{kind.value}:{cude}", message, ids.get(cude), before["payee_nit"],
                              before["payee_name"], row.payee_nit, row.payee_name))  # fmt: skip
    for link in title.limitations if title else ():
        cude = (link.event.cude or "").lower()
        by = link.sender.registration_name or link.sender.nit
        out.append(AlertDraft(AlertKind.LIMITED, f"limited:{cude}", f"{what} tiene una limitación a la circulación "
                              f"(041, medida cautelar de {by}): el pago queda congelado hasta que se registre su "
                              "terminación (042).", ids.get(cude)))  # fmt: skip
    if before["limited"] and not row.limited:
        link = _cause(title, (E.TERMINACION_LIMITACION,))
        cude = (link.event.cude or "").lower() if link else f"{row.invoice_cufe}:{row.chain_etag}"
        out.append(
            AlertDraft(
                AlertKind.LIMITATION_LIFTED,
                f"limitation_lifted:{cude}",
                f"{what} ya no tiene limitación a la circulación: se puede pagar.",
                ids.get(cude),
            )
        )
    if before["state"] != row.state and row.state in (TitleState.PAID, TitleState.PARTIALLY_PAID):
        link = _cause(title, (E.PAGO, E.PAGO_TRANSFERENCIA))
        kind = AlertKind.PAID if row.state is TitleState.PAID else AlertKind.PARTIALLY_PAID
        cude = (link.event.cude or "").lower() if link else f"{row.invoice_cufe}:{row.chain_etag}"
        out.append(AlertDraft(kind, f"{kind.value}:{cude}", f"{what}: se registró en RADIAN un pago "
                              f"{'total' if kind is AlertKind.PAID else 'parcial'}.", ids.get(cude)))  # fmt: skip
    for stored, why in proven.unproven:
        code = stored.code
        out.append(AlertDraft(AlertKind.REFUSED, f"unproven:{(stored.cude or '').lower()}",
                              f"La DIAN registra el evento {code.value} ({code.label}) sobre la factura "
                              f"{row.invoice_number}, pero Buzón no pudo verificarlo: {why}. No pague esta factura "
                              "hasta revisarlo.", stored.id))  # fmt: skip
    return out
