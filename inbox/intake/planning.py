"""Planning: the step ``verified`` — what to do with a message, decided before anything of its outcome is written.

``Planner.verify`` works from the message's bytes alone (no database): it unpacks the parts, has each XML verified by
``dian.reception`` and notes what was found — documents (here), DIAN's answers mailed on their own (here), events
(``events.consider``) — with the reason of each refusal. ``Planner.resolve`` then weighs those items against what the
batch knows of the files (``known.Known``): duplicates, DIAN answers that arrived before their documents, events of
documents we do not hold, who may send each event, and ``dian.require_validation``.
"""

from __future__ import annotations

from email.message import Message

from dian.codes import Environment
from dian.errors import words_of
from dian.proof import Level, confirm_online
from dian.reception import ReceptionReport, verify_received
from dian.ubl import CommercialDocument
from dian.xades import Check, Outcome, Verdict
from inbox.intake import events
from inbox.intake.keys import RunKeys
from inbox.intake.known import Known, number_key
from inbox.intake.plan import Item, Mail, Plan
from inbox.intake.reasons import REASON_TEXT, first_failure, quarantine_reason
from inbox.intake.terms import IntakePolicy
from inbox.unpack import Part, UnpackError, is_mail, unpack
from store.blobs import BlobStore
from store.models import QuarantineReason

_COMMERCIAL_KINDS = {"attached_document", "invoice", "credit_note", "debit_note"}


class Planner:
    """Verifies messages and resolves their items, for one Intake: its policy, DIAN's keys of the run, the blobs."""

    def __init__(self, policy: IntakePolicy, keys: RunKeys, blobs: BlobStore) -> None:
        self.policy = policy
        self.keys = keys
        self.blobs = blobs

    # --- from the bytes alone -----------------------------------------------------------------------------------

    def verify(self, mail: Mail, data: bytes, oversize: int | None, message: Message | None = None) -> Plan:
        """What to do with a message, from its bytes alone (no database): the items found and their verification."""
        plan = Plan()
        if oversize is not None or len(data) > self.policy.max_message_bytes:
            size = oversize or len(data)
            plan.reason = QuarantineReason.TOO_LARGE
            plan.detail = (
                f"{REASON_TEXT[plan.reason]}: el mensaje pesa {size / 1048576:.1f} MB y el límite es "
                f"{self.policy.max_message_bytes / 1048576:.1f} MB"
            )
            return plan
        if mail.message_id and mail.earlier is not None:
            plan.duplicate_of = mail.earlier
            return plan
        if is_mail(data):
            name = "correo.eml"
        else:  # a loose file: its name was kept as the subject
            name = mail.subject if mail.subject.lower().endswith((".xml", ".zip", ".eml")) else "adjunto"
        try:
            parts = unpack(data, name, self.policy.limits, message=message)
        except UnpackError as exc:
            plan.reason = QuarantineReason(exc.reason)
            plan.detail = f"{REASON_TEXT[plan.reason]}: {exc}"
            return plan
        plan.pdf = next((p.data for p in parts if p.kind == "pdf"), None)
        unreadable: list[str] = []
        for part in parts:
            if part.kind != "xml":
                continue
            self._consider(part, plan, unreadable)
        if not plan.items:
            if unreadable:
                plan.reason = QuarantineReason.UNREADABLE
                plan.detail = f"{REASON_TEXT[plan.reason]}: {'; '.join(unreadable[:3])}"
            else:
                plan.reason = QuarantineReason.NO_DOCUMENT
                found = ", ".join(p.name.rpartition("!")[2] for p in parts) or "ningún adjunto"
                plan.detail = (
                    f"{REASON_TEXT[plan.reason]} (factura, nota o evento en XML); adjuntos encontrados: {found}"
                )
                if mail.subject.strip().lower().startswith("evento"):
                    plan.detail += ". El asunto anuncia un evento, pero no trae su ApplicationResponse"
        return plan

    def _consider(self, part: Part, plan: Plan, unreadable: list[str]) -> None:
        report = verify_received(part.data, trust=self.policy.trust, our_nit=self.policy.our_nit, keys=self.keys())
        short = part.name.rpartition("!")[2]
        if report.unreadable:
            unreadable.append(f"{short}: {first_failure(report.checks)}")
            return
        if report.kind == "event":
            events.consider(part.name, report, plan, ours=self.policy.environment)
            return
        if report.kind == "dian_answer":
            self._consider_answer(part.name, report, plan)
            return
        if report.kind not in _COMMERCIAL_KINDS:
            return  # an XML that is no DIAN document (a purchase order, a style sheet): not ours to judge
        item = Item(kind="document", part=part.name, report=report)
        if report.kind == "attached_document":
            plan.containers[part.name] = part.data
        item.reason = quarantine_reason(report)
        if item.reason is not None:
            item.detail = f"{REASON_TEXT[item.reason]}: {first_failure(report.checks) or 'documento inválido'}"
            claimed = report.document or report.unverified_document
            item.cufe = claimed.uuid.strip().lower() if claimed else None
            if report.document is None and claimed is not None:  # what it says of itself, to chase the supplier
                item.detail += f" — {_claims(claimed)}"
            plan.items.append(item)
            return
        assert report.document is not None
        item.cufe = report.document.uuid.strip().lower()
        _environment(item, self.policy.environment)
        if item.reason is None and not report.dian_validated:
            self._online(item)
        plan.items.append(item)

    def _online(self, item: Item) -> None:
        """Ask DIAN's endpoint about a document whose validation is not proven offline (dian.online_check)."""
        check = self.policy.online_check
        report = item.report
        if check is None or item.cufe is None or report is None or report.document is None:
            return
        doc = report.document
        try:
            online = check(item.cufe)
            proof = confirm_online(
                online,
                self.keys(),
                cufe=item.cufe,
                number=doc.number,
                issuer_nit=doc.supplier.nit,
                signed_xml=report.document_xml or b"",
            )
        except Exception as exc:  # DIAN down must not block intake: file it "sin confirmar"; the job asks again
            said = f"no se pudo consultar el documento en DIAN: {words_of(exc)}; se reintenta"
            item.extra_checks.append(Check("dian.online", Outcome.WARN, said))
            return
        if proof.level is Level.CONFIRMED:
            item.confirmed_online, item.learned = True, proof.learned
            item.extra_checks.append(Check("dian.online", Outcome.PASS, proof.detail))
        elif proof.level is Level.INVALID:
            item.extra_checks.append(Check("dian.online", Outcome.FAIL, proof.detail))
            item.reason = QuarantineReason.NOT_VALIDATED
            item.detail = f"{REASON_TEXT[item.reason]}: {proof.detail}"
        else:
            item.extra_checks.append(Check("dian.online", Outcome.WARN, proof.detail))

    def _consider_answer(self, name: str, report: ReceptionReport, plan: Plan) -> None:
        """DIAN's validation mailed on its own: kept by CUFE, and weighed against its document when it is on file."""
        answer = report.dian_response
        ref = answer.document_reference if answer is not None else None
        item = Item(kind="answer", part=name, report=report, answer_xml=report.dian_response_xml)
        item.cufe = (ref.uuid or "").strip().lower() or None if ref is not None else None
        plan.items.append(item)
        if report.verdict is Verdict.INVALID or item.cufe is None:
            item.reason = QuarantineReason.FORGED if report.dian_signature is not None else QuarantineReason.UNREADABLE
            item.detail = f"{REASON_TEXT[item.reason]}: {first_failure(report.checks) or 'respuesta de DIAN ilegible'}"

    # --- against what is on file --------------------------------------------------------------------------------

    def resolve(self, plan: Plan, known: Known) -> None:
        """What the plan's items are against what is on file: duplicates, events of documents we do not hold, DIAN
        answers that arrived apart from their documents, and who may send each event."""
        for item in plan.items:
            if item.reason is not None or item.cufe is None:
                continue
            if item.kind == "document":
                self._dedupe(item, known)
                if not item.duplicate and item.reason is None:
                    self._match_loose_answers(item, known)
                    self._require_validation(item)
                    _number_reused(item, known)
            elif item.kind == "answer":
                self._resolve_answer(item, known)
            elif item.event is not None:
                events.resolve(item, known, our_nit=self.policy.our_nit)
        plan.items = _prefer_containers(plan.items)

    def _proven(self, item: Item) -> bool:
        report = item.report
        return item.confirmed_online or (report is not None and report.dian_validated)

    def _require_validation(self, item: Item) -> None:
        """dian.require_validation: a document whose DIAN validation stays unproven is quarantined, not filed."""
        if not self.policy.require_dian_validation or self._proven(item):
            return
        item.reason = QuarantineReason.NOT_VALIDATED
        report = item.report
        unproven = report.check("dian.certificate.chain") or report.check("dian.response") if report else None
        why = unproven.detail if unproven is not None else "validación DIAN sin confirmar"
        asked = any(c.name == "dian.online" for c in item.extra_checks)
        item.detail = f"{REASON_TEXT[item.reason]}: {why}" + ("" if asked else " (la consulta en línea está apagada)")

    def _match_loose_answers(self, item: Item, known: Known) -> None:
        """A document "sin confirmar" whose DIAN answer arrived earlier on its own: weigh it against the document."""
        report = item.report
        assert report is not None
        if self._proven(item) or report.document_xml is None:
            return
        for blob in known.answers.get(item.cufe or "", ()):
            weighed = self._with_answer(report.document_xml, self.blobs.get(blob))
            if weighed.dian_validated and weighed.document is not None:
                item.report = weighed
                return

    def _with_answer(self, signed_xml: bytes, answer_xml: bytes) -> ReceptionReport:
        return verify_received(
            signed_xml, trust=self.policy.trust, our_nit=self.policy.our_nit, keys=self.keys(), dian_answer=answer_xml
        )

    def _dedupe(self, item: Item, known: Known) -> None:
        report = item.report
        assert item.cufe is not None and report is not None and report.document_xml is not None
        item.orphan_notes = item.cufe in known.waiting_notes
        item.orphan_events = item.cufe in known.waiting_events
        on_file = known.documents.get(item.cufe)
        if on_file is None:
            return
        if on_file.blob == BlobStore.key_of(report.document_xml):
            item.duplicate = True
            # The same signed document again, now with DIAN's proven answer: the copy on file "sin confirmar" is
            # confirmed by it (a bare invoice first, its AttachedDocument later).
            if on_file.verdict == Verdict.UNCONFIRMED.value and self._proven(item):
                item.upgrade = report
        else:
            item.reason = QuarantineReason.DUPLICATE
            item.detail = (
                f"{REASON_TEXT[item.reason]}: el CUFE {item.cufe[:16]}… ya está archivado "
                f"(documento #{known.id_of(item.cufe)}) y este trae otro contenido firmado"
            )

    def _resolve_answer(self, item: Item, known: Known) -> None:
        on_file = known.documents.get(item.cufe or "")
        if on_file is None or on_file.blob is None:
            return  # kept until its document arrives (a LooseAnswer row)
        if on_file.verdict != Verdict.UNCONFIRMED.value:
            item.duplicate = True  # the document on file already has DIAN's proven validation (or is not ours)
            return
        assert item.answer_xml is not None
        weighed = self._with_answer(self.blobs.get(on_file.blob), item.answer_xml)
        if weighed.dian_validated:
            item.upgrade = weighed
        elif weighed.verdict is Verdict.INVALID:
            item.reason = QuarantineReason.FORGED
            item.detail = f"{REASON_TEXT[item.reason]}: {first_failure(weighed.checks) or 'no corresponde'}"
        else:
            item.duplicate = True  # unproven: it proves nothing more than what is on file
            item.detail = "la respuesta atribuida a DIAN no está probada; el documento sigue sin confirmar"


def _environment(item: Item, ours: Environment | None) -> None:
    """The document's DIAN environment (its signed ProfileExecutionID) against the one our events go to: a document of
    DIAN's test environment has no fiscal validity, even with DIAN's answer (habilitación signs them too), so a
    production install quarantines it; an install in habilitación files a production document with a warning."""
    assert item.report is not None and item.report.document is not None
    theirs = item.report.document.environment
    if ours is None or theirs is None or theirs is ours:
        return  # no ProfileExecutionID declares no environment to judge (DIAN's own validation requires one)
    if ours is Environment.PRODUCTION:
        detail = (
            "es un documento del ambiente de pruebas (habilitación) de la DIAN (ProfileExecutionID 2): no tiene "
            "validez fiscal ni se puede aceptar o pagar como factura; pida al proveedor el documento de producción"
        )
        item.extra_checks.append(Check("dian.environment", Outcome.FAIL, detail))
        item.reason = QuarantineReason.NOT_VALIDATED
        item.detail = f"{REASON_TEXT[item.reason]}: {detail}"
        return
    item.extra_checks.append(Check("dian.environment", Outcome.WARN, (
        "es un documento del ambiente de producción y este Buzón trabaja en el de habilitación: los eventos que "
        "envíe por él no llegan a la DIAN de producción"
    )))  # fmt: skip


def _number_reused(item: Item, known: Known) -> None:
    """A warning when the supplier's number is already on file under another CUFE: DIAN validates one document per
    number, so two are a duplicate, a document of DIAN's test environment or one DIAN never saw — pay one at most."""
    assert item.report is not None and item.report.document is not None
    document = item.report.document
    others = {
        cufe: document_id
        for cufe, document_id in known.numbers.get(number_key(document.supplier.nit, document.document_type,
                                                              document.number), {}).items()
        if cufe != item.cufe
    }  # fmt: skip
    if not others:
        return
    cufe, document_id = sorted(others.items())[0]
    where = f"el documento #{document_id}" if document_id is not None else "otro documento de este mismo lote"
    item.extra_checks.append(Check("document.number", Outcome.WARN, (
        f"el proveedor ya tiene archivado el número {document.number} con otro CUFE ({where}, CUFE {cufe[:16]}…): "
        "la DIAN valida un solo documento por número; revise que no sea un duplicado antes de pagarlo"
    )))  # fmt: skip


def _claims(document: CommercialDocument) -> str:
    """What a document whose signature failed says it is (unproven): number, issuer, date and total, for the clerk."""
    issuer = document.supplier.registration_name or document.supplier.trade_name or ""
    return (
        f"dice ser {document.document_type.label.lower()} {document.number} de {issuer} (NIT {document.supplier.nit}) "
        f"del {document.issue_date.isoformat()} por {document.monetary_total.payable} {document.currency or 'COP'}; "
        "nada de esto está probado"
    )


def _prefer_containers(items: list[Item]) -> list[Item]:
    """One item per CUFE: an AttachedDocument beats the bare invoice mailed beside it (it brings DIAN's answer)."""
    chosen: dict[tuple[str, str], Item] = {}
    order: list[tuple[str, str]] = []
    for index, item in enumerate(items):
        key = (item.kind, item.cufe or f"#{index}")
        if item.kind == "event" and item.event is not None:
            key = ("event", (item.event.uuid or f"#{index}").lower())
        current = chosen.get(key)
        if current is None:
            chosen[key] = item
            order.append(key)
        elif _rank(item) > _rank(current):
            chosen[key] = item
    return [chosen[k] for k in order]


def _rank(item: Item) -> tuple[int, int]:
    report = item.report
    return (
        int(item.reason is None),
        int(report is not None and report.kind == "attached_document"),
    )
