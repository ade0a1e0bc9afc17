"""The habilitación test set (radian-issuing-facts B.7): issue the quota of invoices, credit and debit notes from
built-in sample sales, send them with SendTestSetAsync, poll GetStatusZip until DIAN's verdict, and keep each answer.

Invoices go first; the notes follow only once their invoices are accepted (DIAN refuses a note whose invoice it does
not hold yet, CBG04a/DBG04a — such a note is resent later byte for byte, never re-signed). A GetStatusZip answer for
a multi-document upload is one 00 response whose XmlBase64Bytes is a zip of DIAN's ApplicationResponses; it is
unzipped and each answer matched to its document by CUFE/CUDE.

The documents are ours like any other (numbered from the habilitación range, kept with DIAN's answer) but marked with
the test set and left out of the SendBillSync outbox (state ``sent`` with no next attempt).
"""

from __future__ import annotations

import datetime as dt
import io
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from dian.nit import check_digit
from dian.soap import DianFault, DianResponse, DianTransportError
from dian.soap.results import UploadResult
from dian.ubl import ApplicationResponse, parse_document
from dian.xmlsafe import parse_xml
from issuing.attached import attached_document
from issuing.document import BOGOTA
from issuing.outbox import ForgedAnswer, checked_answer
from issuing.request import require_request
from issuing.service import IssuingService
from store.audit import record
from store.models import OutboundDocument, OutboundState, Verdict

__all__ = [
    "KINDS",
    "BatchVerdict",
    "Quota",
    "TestSetClient",
    "TestSetReport",
    "batch_verdicts",
    "run_test_set",
    "sample_invoices",
    "sample_note",
]

KINDS = ("invoices", "credit_notes", "debit_notes")
ORDER_RULES = frozenset({"CBG04a", "DBG04a"})  # the note's invoice is not (yet) held by DIAN: resend later
# The lines of DIAN's validation answer that never block it (dian-facts 3.2): its "0000" line and the notifications
# seen in real answers; an AR 04 lists them beside the rules that refused the document, without marking which is which.
NOTIFICATIONS = frozenset({"0000", "0", "RUT01", "FAJ43b", "FAJ44b", "FAJ73", "FAJ74", "FAK26", "FAK41", "FAK57",
                           "FAK58", "FAM06", "FAM07"})  # fmt: skip
_NAMES = {"invoices": "facturas", "credit_notes": "notas crédito", "debit_notes": "notas débito"}


class TestSetClient(Protocol):
    """The part of dian.soap.DianClient a test set uses."""

    def send_test_set_async(self, file_name: str, xml: bytes, test_set_id: str) -> UploadResult: ...
    def get_status_zip(self, zip_key: str) -> tuple[DianResponse, ...]: ...
    def get_status(self, track_id: str) -> DianResponse: ...


@dataclass(frozen=True)
class Quota:
    """How many documents of each kind the test set asks for (DIAN's portal; its admin form's default 2/1/1)."""

    invoices: int = 2
    credit_notes: int = 1
    debit_notes: int = 1

    def __post_init__(self) -> None:
        if self.invoices < 1 or self.credit_notes < 0 or self.debit_notes < 0:
            raise ValueError("el set de pruebas pide al menos una factura y ninguna cantidad negativa")
        if max(self.invoices, self.credit_notes, self.debit_notes) > 50:
            raise ValueError("más de 50 documentos de un tipo: revise la cuota del set de pruebas")


@dataclass
class Sent:
    """One document of the test set and what DIAN answered."""

    id: int
    kind: str  # invoices | credit_notes | debit_notes
    number: str
    uuid: str
    uploads: int = 0
    zip_key: str = ""
    status_code: str | None = None
    accepted: bool = False
    messages: list[str] = field(default_factory=list)
    deferred: bool = False  # refused only because its invoice was not held yet: resent byte for byte

    def line(self) -> str:
        verdict = "aceptado" if self.accepted else ("sin veredicto" if self.status_code is None else "rechazado")
        said = f" — {'; '.join(self.messages)}" if self.messages and not self.accepted else ""
        again = f" (enviado {self.uploads} veces)" if self.uploads > 1 else ""
        return f"{self.number} [{_NAMES[self.kind]}] DIAN {self.status_code or '—'}: {verdict}{again}{said}"


@dataclass
class TestSetReport:
    test_set_id: str
    quota: Quota
    documents: list[Sent] = field(default_factory=list)

    def accepted(self, kind: str) -> int:
        return sum(1 for d in self.documents if d.kind == kind and d.accepted)

    @property
    def complete(self) -> bool:
        return all(self.accepted(kind) >= getattr(self.quota, kind) for kind in KINDS)

    def summary(self) -> str:
        counts = ", ".join(f"{_NAMES[k]} {self.accepted(k)}/{getattr(self.quota, k)}" for k in KINDS)
        verdict = "completo" if self.complete else "INCOMPLETO"
        return f"Set de pruebas {self.test_set_id}: aceptados/requeridos: {counts} — {verdict}"


# -- the sample sales -------------------------------------------------------------------------------------------

SAMPLE_BUYER_NIT = "900108281"


def _customer() -> dict[str, Any]:
    return {"id_type": "31", "id": SAMPLE_BUYER_NIT, "dv": check_digit(SAMPLE_BUYER_NIT),
            "name": "CLIENTE DE PRUEBAS HABILITACION S.A.S.", "tax_scheme": "01", "tax_levels": ["O-13"],
            "address": {"line": "Cra 7 # 32-16", "city_code": "11001", "city": "Bogotá, D.C.",
                        "department": "Bogotá", "department_code": "11"}}  # fmt: skip


def _variant(i: int, today: dt.date) -> dict[str, Any]:
    """Sale ``i``: the variants cycle through IVA 19 % with a line discount, IVA 5 % and 0 % with withholdings, INC
    per unit (bags) with a document discount, and a credit sale with ReteIVA."""
    due = (today + dt.timedelta(days=30)).isoformat()
    # fmt: off
    variants: list[dict[str, Any]] = [
        {"lines": [{"description": "Servicio de consultoría", "quantity": "3", "unit_price": "150000", "code": "S-1",
                    "adjustments": [{"charge": False, "reason": "Descuento comercial", "percent": "10"}],
                    "taxes": [{"scheme": "01", "rate": "19"}]}],
         "payment": {"form": "1", "method": "10"}},
        {"lines": [{"description": "Arroz 25 kg", "quantity": "4", "unit_price": "80000", "code": "A-25",
                    "taxes": [{"scheme": "01", "rate": "5"}]},
                   {"description": "Huevos AA x30", "quantity": "10", "unit_price": "14500", "code": "H-30",
                    "taxes": [{"scheme": "01", "rate": "0"}]}],
         "withholdings": [{"scheme": "06", "rate": "2.5"}, {"scheme": "07", "rate": "0.966"}],
         "payment": {"form": "2", "method": "42", "due_date": due}},
        {"lines": [{"description": "Almuerzo ejecutivo", "quantity": "12", "unit_price": "18000", "code": "R-1",
                    "taxes": [{"scheme": "04", "rate": "8"}]},
                   {"description": "Bolsa plástica", "quantity": "5", "unit_price": "100", "code": "B-1",
                    "taxes": [{"scheme": "22", "per_unit": "66"}]}],
         "adjustments": [{"charge": False, "reason": "Descuento por pronto pago", "amount": "5000"}],
         "payment": {"form": "1", "method": "10"}},
        {"lines": [{"description": "Licencia de software anual", "quantity": "1", "unit_price": "2400000",
                    "code": "L-1", "taxes": [{"scheme": "01", "rate": "19"}]}],
         "withholdings": [{"scheme": "05", "rate": "15"}, {"scheme": "06", "rate": "4"}],
         "payment": {"form": "2", "method": "42", "due_date": due}},
    ]
    # fmt: on
    return variants[i % len(variants)]


def sample_invoices(count: int, today: dt.date) -> list[dict[str, Any]]:
    """``count`` invoices (type 01) in the native payload, varied as :func:`_variant` says."""
    return [{"type": "01", "customer": _customer(), "order_reference": f"HAB-{i + 1}", **_variant(i, today)}
            for i in range(count)]  # fmt: skip


def sample_note(kind: str, invoice: OutboundDocument, i: int) -> dict[str, Any]:
    """A credit (``credit_notes``: a partial return, concept 1 or 2) or debit note (interest or a price change,
    concept 1 or 3) on ``invoice``, small enough to stay under its payable amount (VLR02)."""
    credit = kind == "credit_notes"
    concept = ("2", "1")[i % 2] if credit else ("1", "3")[i % 2]
    assert invoice.issue_date is not None and invoice.cufe is not None
    return {"type": "91" if credit else "92", "concept": concept, "customer": _customer(),
            "concept_description": "Devolución parcial" if credit else "Intereses por mora",
            "reference": {"number": invoice.number, "uuid": invoice.cufe, "issue_date": invoice.issue_date.isoformat()},
            "lines": [{"description": "Ajuste de la factura " + invoice.number, "quantity": "1",
                       "unit_price": "1000" if credit else "2000", "taxes": [{"scheme": "01", "rate": "19"}]}],
            "payment": {"form": "1", "method": "10"}}  # fmt: skip


# -- the run ------------------------------------------------------------------------------------------------------


@dataclass
class _Run:
    service: IssuingService
    client: TestSetClient
    test_set_id: str
    actor: str
    poll_seconds: float
    max_wait_seconds: float
    say: Callable[[str], None]
    sleep: Callable[[float], None]
    report: TestSetReport

    def issue(self, data: dict[str, Any], kind: str) -> Sent:
        done = self.service.issue(require_request(data), actor=self.actor, client_key="habilitacion")
        with self.service.sessions() as s:
            row = s.get(OutboundDocument, done.id)
            assert row is not None
            if row.test_set_id is None:  # out of the SendBillSync outbox: the test set sends it
                row.test_set_id, row.state, row.next_attempt_at = self.test_set_id, OutboundState.SENT, None
                s.commit()
            sent = Sent(done.id, kind, row.number, row.cufe or "", status_code=row.dian_status_code,
                        accepted=row.state is OutboundState.ACCEPTED)  # fmt: skip
        self.report.documents.append(sent)
        return sent

    def upload(self, documents: Iterable[Sent]) -> list[Sent]:
        """Send each (its stored signed bytes) once; those whose upload failed are left without a zip key."""
        uploaded = []
        for doc in documents:
            with self.service.sessions() as s:
                row = s.get(OutboundDocument, doc.id)
                assert row is not None and row.xml_blob is not None and row.file_name is not None
                xml, file_name = self.service.ctx.blobs.get(row.xml_blob), row.file_name
            try:
                result = self.client.send_test_set_async(file_name, xml, self.test_set_id)
            except (DianTransportError, DianFault) as exc:
                doc.messages = [f"no se pudo enviar: {exc.words}. Detalle: {exc}"]
                continue
            doc.uploads += 1
            if not result.zip_key:
                doc.status_code, doc.messages = "99", [e.message for e in result.errors]
                self._keep(doc, None, None)
                continue
            doc.zip_key = result.zip_key
            with self.service.sessions() as s:
                row = s.get(OutboundDocument, doc.id)
                assert row is not None
                row.zip_key, row.attempts, row.sent_at = doc.zip_key, row.attempts + 1, self.service.clock()
                s.commit()
            uploaded.append(doc)
        return uploaded

    def poll(self, documents: list[Sent]) -> None:
        """GetStatusZip for each upload until DIAN's verdict (or ``max_wait_seconds``)."""
        waiting = {doc.zip_key: doc for doc in documents}
        started, pause = time.monotonic(), self.poll_seconds
        while waiting:
            for zip_key in list(waiting):
                try:
                    answers = self.client.get_status_zip(zip_key)
                except (DianTransportError, DianFault) as exc:
                    waiting[zip_key].messages = [f"GetStatusZip: {exc.words}. Detalle: {exc}"]
                    continue
                if all(a.not_final for a in answers):
                    continue
                self._verdicts([waiting.pop(zip_key)], answers)
            if not waiting or time.monotonic() - started > self.max_wait_seconds:
                break
            self.sleep(pause)
            pause = min(pause * 2, 30.0)
        for doc in waiting.values():
            doc.messages = doc.messages or ["la DIAN no dio su veredicto a tiempo (66: batch en proceso)"]

    def _verdicts(self, documents: list[Sent], answers: tuple[DianResponse, ...]) -> None:
        by_uuid = {doc.uuid: doc for doc in documents}
        for response in answers:
            if response.accepted and response.xml and response.xml[:2] == b"PK":  # a multi-document batch
                for uuid, verdict in batch_verdicts(response.xml).items():
                    self._member(by_uuid, uuid, verdict)
                continue
            doc = by_uuid.get((response.document_key or "").lower()) or (documents[0] if len(documents) == 1 else None)
            if doc is None:
                continue
            if response.already_registered:  # Regla 90: DIAN took an earlier upload; its answer is the answer
                response = self._earlier(doc, response)
            doc.status_code = response.status_code
            doc.messages = [m.render() for m in (response.messages if not response.accepted else ())]
            if not response.accepted and not doc.messages:
                doc.messages = [response.status_description or response.status_message or "sin detalle"]
            doc.deferred = bool(response.rejections) and all(m.rule in ORDER_RULES for m in response.rejections)
            self._keep(doc, response.xml if response.accepted else None, response.xml)

    def _earlier(self, doc: Sent, refused: DianResponse) -> DianResponse:
        try:
            status = self.client.get_status(doc.uuid)
        except (DianTransportError, DianFault):
            return refused
        return status if status.accepted else refused

    def _member(self, by_uuid: dict[str, Sent], uuid: str, verdict: BatchVerdict) -> None:
        doc = by_uuid.get(uuid)
        if doc is None:
            return
        doc.status_code, doc.messages = ("00" if verdict.accepted else "99"), list(verdict.messages)
        doc.deferred = verdict.deferred
        self._keep(doc, verdict.xml if verdict.accepted else None, verdict.xml)

    def _keep(self, doc: Sent, accepted_xml: bytes | None, answer_xml: bytes | None) -> None:
        """Record DIAN's verdict on the row (a deferred note stays ``sent`` for its resend)."""
        ctx, now = self.service.ctx, self.service.clock()
        answer = None
        if accepted_xml is not None:
            try:
                answer = checked_answer(accepted_xml, ctx, doc.uuid)
            except ForgedAnswer as exc:
                doc.status_code, doc.messages = None, [f"respuesta de la DIAN no aceptada: {exc}"]
                return
        doc.accepted = answer is not None
        with self.service.sessions() as s:
            row = s.get(OutboundDocument, doc.id)
            assert row is not None
            row.dian_status_code, row.dian_messages = doc.status_code, list(doc.messages)
            data = {"id": row.id, "number": row.number, "test_set_id": self.test_set_id, "zip_key": doc.zip_key}
            if answer is not None and accepted_xml is not None:
                assert row.xml_blob is not None
                row.state, row.verdict, row.validated_at, row.last_error = (OutboundState.ACCEPTED, Verdict.VALID,
                                                                            now, None)  # fmt: skip
                row.dian_response_blob = ctx.blobs.put(accepted_xml)
                signed = ctx.blobs.get(row.xml_blob)
                attached = attached_document(signed, accepted_xml, answer, environment=ctx.environment, now=now)
                row.attached_blob = ctx.blobs.put(attached)
                record(s, actor=self.actor, action="outbound.accepted", subject=row.cufe,
                       data={**data, "via": "SendTestSetAsync"}, at=now)  # fmt: skip
            elif doc.deferred:
                row.last_error = "; ".join(doc.messages)[:2000]
                record(s, actor=self.actor, action="outbound.deferred", subject=row.cufe,
                       data={**data, "messages": doc.messages}, at=now)  # fmt: skip
            else:
                row.state, row.verdict, row.next_attempt_at = OutboundState.REJECTED, Verdict.INVALID, None
                row.last_error = "; ".join(doc.messages)[:2000]
                if answer_xml is not None:
                    row.dian_response_blob = ctx.blobs.put(answer_xml)
                record(s, actor=self.actor, action="outbound.rejected", subject=row.cufe,
                       data={**data, "messages": doc.messages}, at=now)  # fmt: skip
            s.commit()


@dataclass(frozen=True)
class BatchVerdict:
    """DIAN's answer to one document of a multi-document upload: its ApplicationResponse (02 or 04 with rules)."""

    accepted: bool
    rules: tuple[str, ...]  # the refusing rules (notifications left out)
    messages: tuple[str, ...]
    xml: bytes

    @property
    def deferred(self) -> bool:
        """Refused only because DIAN did not hold the note's invoice yet: the same bytes go again later."""
        return not self.accepted and bool(self.rules) and set(self.rules) <= ORDER_RULES


def batch_verdicts(data: bytes) -> dict[str, BatchVerdict]:
    """The zip of ApplicationResponses GetStatusZip answers for a multi-document upload, by the CUFE/CUDE each names
    (at most 50 members, as DIAN's batches; members that are not an answer about a document are skipped)."""
    found = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = [n for n in archive.namelist() if n.lower().endswith(".xml")][:50]
        for name in names:
            xml = archive.read(name)
            answer = parse_document(parse_xml(xml))
            if not isinstance(answer, ApplicationResponse) or answer.document_reference is None:
                continue
            accepted = answer.response_code == "02"
            lines = [line for line in answer.line_responses if line.code and line.code not in NOTIFICATIONS]
            rules = () if accepted else tuple(line.code for line in lines)
            messages = () if accepted else tuple(f"Regla: {x.code}, Rechazo: {x.description or ''}" for x in lines)
            found[(answer.document_reference.uuid or "").lower()] = BatchVerdict(accepted, rules, messages, xml)
    return found


def run_test_set(
    service: IssuingService,
    client: TestSetClient,
    test_set_id: str,
    quota: Quota,
    *,
    actor: str,
    poll_seconds: float = 2.0,
    max_wait_seconds: float = 300.0,
    note_rounds: int = 3,
    say: Callable[[str], None] = lambda line: None,
    sleep: Callable[[float], None] = time.sleep,
) -> TestSetReport:
    """Run the test set: invoices, then the notes on accepted invoices; ``say`` is told each document's verdict."""
    test_set_id = test_set_id.strip()
    if not test_set_id or len(test_set_id) > 80:
        raise ValueError("falta el TestSetId del portal de la DIAN (1 a 80 caracteres)")
    run = _Run(service, client, test_set_id, actor, poll_seconds, max_wait_seconds, say, sleep,
               TestSetReport(test_set_id, quota))  # fmt: skip
    today = service.clock().astimezone(BOGOTA).date()
    invoices = [run.issue(data, "invoices") for data in sample_invoices(quota.invoices, today)]
    run.poll(run.upload(d for d in invoices if not d.accepted))
    for doc in invoices:
        say(doc.line())
    accepted = [doc for doc in invoices if doc.accepted]
    if not accepted:
        say("Ninguna factura aceptada: las notas no se envían.")
        return run.report
    with service.sessions() as s:
        rows = [s.get(OutboundDocument, doc.id) for doc in accepted]
        s.expunge_all()
    notes = []
    for kind in ("credit_notes", "debit_notes"):
        for i in range(getattr(quota, kind)):
            invoice = rows[i % len(rows)]
            assert invoice is not None
            notes.append(run.issue(sample_note(kind, invoice, i), kind))
    pending = [doc for doc in notes if not doc.accepted]
    for _ in range(note_rounds):
        if not pending:
            break
        run.poll(run.upload(pending))
        pending = [doc for doc in pending if doc.deferred]
    for doc in notes:
        say(doc.line())
    return run.report
