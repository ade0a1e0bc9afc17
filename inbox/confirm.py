"""The confirmation job: documents filed "sin confirmar" (DIAN's validation not proven, DESIGN.md 5a) settled later.

Each one is first weighed again offline, on the blobs already stored: a DIAN certificate learned since (or pinned
since) may now prove the DIAN answer that came with it. Otherwise, with the online check on, DIAN's endpoint is
asked (GetStatus, GetXmlByDocumentKey) and ``dian.proof.confirm_online`` weighs what it says: confirmed documents
become valid and teach DIAN's signing certificate, refused ones become invalid, and what DIAN has not decided yet
(98, 66) or could not be asked stays unconfirmed with the reason in ``last_error``. Every change is audited.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from dian.calendar import BusinessCalendar
from dian.errors import DianError, words_of
from dian.proof import DianKeys, LearnedCertificate, Level, OnlineAnswer, confirm_online
from dian.reception import ONLINE_SETTLED, ReceptionReport, settle_confirmed, verify_received
from dian.xades import Verdict as ReportVerdict
from store.audit import record
from store.blobs import BlobError, BlobStore
from store.dian_certificates import learn
from store.models import LooseAnswer, ReceivedDocument, Verdict
from store.state import refresh_state

__all__ = ["confirm_documents", "unconfirmed_documents"]

log = logging.getLogger("inbox.confirm")

ACTOR = "job:confirm_documents"
_COUNTED = {"confirmed": "confirmed", "refused": "refused", "unconfirmed": "still_unconfirmed", "error": "errors"}
_BASIS = {
    "anchor": "su certificado encadena a una raíz de confianza",
    "learned": "su certificado se aprendió de la DIAN en línea",
    "configured": "su certificado está fijado en la configuración",
    "shipped": "su certificado está entre los fijados con Buzón",
}


def unconfirmed_documents(session: Session, limit: int) -> list[int]:
    """Documents whose DIAN validation is unconfirmed, least recently looked at first.

    A document's ``updated_at`` is its filing time until the job has tried it (each try records itself in the
    report), so this is oldest first, and a backlog larger than ``limit`` that DIAN keeps answering 66 for does not
    hide the documents behind it.
    """
    return list(
        session.execute(
            sa.select(ReceivedDocument.id)
            .where(ReceivedDocument.verdict == Verdict.UNCONFIRMED)
            .order_by(ReceivedDocument.updated_at, ReceivedDocument.id)
            .limit(limit)
        ).scalars()
    )


@dataclass(frozen=True)
class _OnFile:
    """What the job reads of one document before it weighs it (no transaction is held meanwhile)."""

    id: int
    cufe: str
    number: str
    issuer_nit: str
    signed_blob: str
    answer_blob: str | None
    attached_blob: str | None
    loose_blobs: tuple[str, ...]


@dataclass
class _Outcome:
    """What weighing one document concluded; applied in one short transaction."""

    kind: str  # confirmed, refused, unconfirmed, error
    detail: str
    via: str | None = None  # dian.reweighed or dian.online
    report: ReceptionReport | None = None  # the offline re-weigh that proved it
    answer: bytes | None = field(default=None, repr=False)  # DIAN's answer that proved it, when not on file yet
    learned: LearnedCertificate | None = None


def confirm_documents(
    sessions: sessionmaker[Session],
    blobs: BlobStore,
    keys_factory: Callable[[], DianKeys],
    online_check: Callable[[str], OnlineAnswer] | None,
    *,
    now: Callable[[], datetime] | datetime,
    calendar: BusinessCalendar,
    limit: int = 100,
    actor: str = ACTOR,
) -> dict[str, int]:
    """Settle documents filed "sin confirmar": re-weighed offline, else asked online; counts of what became of them."""
    clock: Callable[[], datetime] = now if callable(now) else (lambda: now)  # type: ignore[assignment,return-value]
    counts = {"checked": 0, "confirmed": 0, "refused": 0, "still_unconfirmed": 0, "errors": 0}
    with sessions() as s:
        ids = unconfirmed_documents(s, limit)
    keys = keys_factory()
    for document_id in ids:
        on_file = _read(sessions, document_id)
        if on_file is None:
            continue
        outcome = _weigh(on_file, blobs, keys, online_check, clock())
        kind = _apply(sessions, on_file, outcome, blobs, calendar, clock(), actor)
        if outcome.learned is not None:
            keys = keys_factory()  # the next documents' answers signed by it are proven offline, without a call
        if kind is None:
            continue  # settled meanwhile (by intake, or another run)
        counts["checked"] += 1
        counts[_COUNTED[kind]] += 1
    return counts


def _read(sessions: sessionmaker[Session], document_id: int) -> _OnFile | None:
    with sessions() as s:
        doc = s.get(ReceivedDocument, document_id)
        if doc is None or doc.verdict is not Verdict.UNCONFIRMED:
            return None
        loose = s.execute(
            sa.select(LooseAnswer.blob_key).where(LooseAnswer.cufe == doc.cufe).order_by(LooseAnswer.id)
        ).scalars()
        return _OnFile(
            id=doc.id,
            cufe=doc.cufe,
            number=doc.number,
            issuer_nit=doc.issuer_nit,
            signed_blob=doc.signed_xml_blob,
            answer_blob=doc.dian_response_blob,
            attached_blob=doc.attached_blob,
            loose_blobs=tuple(dict.fromkeys(loose)),
        )


def _weigh(
    doc: _OnFile,
    blobs: BlobStore,
    keys: DianKeys,
    online_check: Callable[[str], OnlineAnswer] | None,
    now: datetime,
) -> _Outcome:
    """Offline first (the stored answers against today's keys), then DIAN's endpoint when the online check is on."""
    try:
        signed = blobs.get(doc.signed_blob)
        proven = _reweigh(doc, signed, blobs, keys, now)
    except BlobError as exc:
        return _Outcome("error", f"no se pudo leer el documento archivado: {exc}")
    if proven is not None:
        report, answer = proven
        basis = _BASIS.get(report.dian_basis or "", "su certificado es de confianza")
        return _Outcome("confirmed", f"la respuesta de DIAN archivada se prueba ahora sin conexión: {basis}",
                        via="dian.reweighed", report=report, answer=answer)  # fmt: skip
    if online_check is None:
        return _Outcome("unconfirmed", "validación DIAN sin confirmar: la consulta en línea (dian.online_check) está "
                        "apagada y ninguna respuesta archivada se prueba sin conexión")  # fmt: skip
    try:
        online = online_check(doc.cufe)
    except (DianError, OSError) as exc:
        return _Outcome("error", f"no se pudo consultar el documento en DIAN: {words_of(exc)}; se reintenta")
    proof = confirm_online(online, keys, cufe=doc.cufe, number=doc.number, issuer_nit=doc.issuer_nit,
                           signed_xml=signed, now=now)  # fmt: skip
    if proof.level is Level.CONFIRMED:
        # DIAN's own signed answer is kept as the document's, when none came with it: the evidence of its validation.
        answer = online.answer_xml if doc.answer_blob is None else None
        return _Outcome("confirmed", proof.detail, via="dian.online", answer=answer, learned=proof.learned)
    if proof.level is Level.INVALID:
        return _Outcome("refused", proof.detail, via="dian.online")
    return _Outcome("unconfirmed", proof.detail, via="dian.online")


def _reweigh(
    doc: _OnFile, signed: bytes, blobs: BlobStore, keys: DianKeys, now: datetime
) -> tuple[ReceptionReport, bytes | None] | None:
    """The stored document with each DIAN answer on file for it (its own, those mailed on their own, its container's),
    verified again; the first report that proves DIAN's validation, and the answer when it is not on file yet."""
    candidates = [b for b in (doc.answer_blob, *doc.loose_blobs) if b]
    for key in dict.fromkeys(candidates):
        report = verify_received(signed, trust=keys.trust, keys=keys, now=now, dian_answer=blobs.get(key))
        if _proves(report, doc):
            return report, None if key == doc.answer_blob else blobs.get(key)
    if doc.attached_blob and not doc.answer_blob:
        report = verify_received(blobs.get(doc.attached_blob), trust=keys.trust, keys=keys, now=now)
        if _proves(report, doc):
            return report, report.dian_response_xml
    return None


def _proves(report: ReceptionReport, doc: _OnFile) -> bool:
    """True when ``report`` proves DIAN's validation of the very document on file (same CUFE, same signed bytes)."""
    document = report.document
    return (
        report.dian_validated
        and report.verdict is not ReportVerdict.INVALID
        and document is not None
        and document.uuid.strip().lower() == doc.cufe
        and report.document_xml is not None
        and BlobStore.key_of(report.document_xml) == doc.signed_blob
    )


def _folded(checks: list[dict[str, Any]]) -> Verdict:
    if any(c.get("outcome") == "fail" for c in checks):
        return Verdict.INVALID
    return Verdict.VALID_WITH_WARNINGS if any(c.get("outcome") == "warn" for c in checks) else Verdict.VALID


def _apply(
    sessions: sessionmaker[Session],
    on_file: _OnFile,
    outcome: _Outcome,
    blobs: BlobStore,
    calendar: BusinessCalendar,
    now: datetime,
    actor: str,
) -> str | None:
    """Write what was concluded, if the document is still unconfirmed; the kind of outcome written, or None when
    the document was settled meanwhile."""
    with sessions() as s:
        if outcome.learned is not None:  # DIAN's own endpoint verified it: worth keeping whatever became of the row
            learn(s, outcome.learned, at=now, actor=actor)
        doc = s.execute(
            sa.select(ReceivedDocument).where(ReceivedDocument.id == on_file.id).with_for_update()
        ).scalar_one_or_none()
        if doc is None or doc.verdict is not Verdict.UNCONFIRMED:
            s.commit()
            return None
        old = dict(doc.report or {})
        confirmed = _confirmed_report(old, outcome) if outcome.kind == "confirmed" else None
        failed = next((c for c in (confirmed or {}).get("checks", ()) if c.get("outcome") == "fail"), None)
        if failed is not None:  # an unconfirmed document has no failed check: nothing is upgraded over one
            confirmed = None
            outcome = _Outcome("unconfirmed", f"{outcome.detail}, pero el informe tiene una comprobación fallida "
                               f"({failed.get('name')}: {failed.get('detail')}): se deja sin confirmar")  # fmt: skip
        tries = dict(old.get("dian_confirm") or {})
        tries = {"attempts": int(tries.get("attempts") or 0) + 1, "last_at": now.isoformat(), "last": outcome.detail}
        if confirmed is not None:
            report = confirmed
            doc.verdict = Verdict(report["verdict"])
            doc.last_error = None
            if outcome.answer is not None:
                doc.dian_response_blob = blobs.put(outcome.answer)
                # The answer kept on its own that proved it (if it was one) is now matched to its document.
                s.execute(
                    sa.update(LooseAnswer)
                    .where(LooseAnswer.cufe == doc.cufe, LooseAnswer.blob_key == doc.dian_response_blob)
                    .values(document_id=doc.id, outcome="confirma el documento")
                )
        elif outcome.kind == "refused":
            checks = [c for c in old.get("checks", []) if c.get("name") != "dian.online"]
            checks.append({"name": "dian.online", "outcome": "fail", "detail": outcome.detail})
            report = {**old, "checks": checks, "verdict": Verdict.INVALID.value, "dian_validated": False,
                      "dian_proof": Level.INVALID.value}  # fmt: skip
            doc.verdict = Verdict.INVALID
            doc.last_error = outcome.detail[:2000]
        else:
            report = old
            if outcome.via is not None or outcome.kind != "unconfirmed":  # DIAN was asked (or failed to be): say why
                doc.last_error = outcome.detail[:2000]
        report["dian_confirm"] = tries
        doc.report = report
        refresh_state(s, doc, calendar)
        if confirmed is not None or outcome.kind == "refused":
            record(
                s,
                actor=actor,
                action="document.dian.confirmed" if outcome.kind == "confirmed" else "document.dian.refused",
                subject=doc.cufe,
                data={"document_id": doc.id, "via": outcome.via, "verdict": doc.verdict.value,
                      "state": doc.state.value, "detail": outcome.detail,
                      "basis": outcome.report.dian_basis if outcome.report is not None else None,
                      "learned": outcome.learned.subject if outcome.learned is not None else None},
                at=now,
            )  # fmt: skip
        s.commit()
    return outcome.kind


def _confirmed_report(old: dict[str, Any], outcome: _Outcome) -> dict[str, Any]:
    """The stored report of a document now proven: the re-weigh's own report (keeping what intake added), or the one
    on file with DIAN's online confirmation; its verdict folded from the checks (any warning: valid_with_warnings)."""
    if outcome.report is not None:
        fresh = outcome.report.to_dict()
        names = {c["name"] for c in fresh["checks"]}
        # Checks the re-weigh does not repeat (the buyer's NIT, intake's) stay; DIAN's are replaced by the new ones.
        kept = [
            c
            for c in old.get("checks", [])
            if c.get("name") not in names and not str(c.get("name")).startswith("dian.")
        ]
        report = {**{k: v for k, v in old.items() if k not in fresh}, **fresh, "checks": [*fresh["checks"], *kept]}
    else:
        checks = [c for c in old.get("checks", []) if c.get("name") != "dian.online"]  # the newest answer counts
        checks = settle_confirmed(checks, ONLINE_SETTLED)
        report = {**old, "checks": checks, "dian_proof": Level.CONFIRMED.value}
    assert outcome.via is not None
    report["checks"].append({"name": outcome.via, "outcome": "pass", "detail": outcome.detail})
    report["dian_validated"] = True
    report["verdict"] = _folded(report["checks"]).value
    return report
