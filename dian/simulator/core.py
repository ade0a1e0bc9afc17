"""The simulated DIAN: validates invoices and notes, registers events, answers the queries (dian-facts 3.2, 6, 10).

Rules and their codes. DIAN's own code is used where the facts name it: 89 packaging/authorization, 90 duplicate,
99 with ``Regla:`` lines, FAD06/CAD06/DAD06 (CUFE/CUDE), FAB27b (software fingerprint), FAD09e (issue date differs
from the signing date), ZB01 (unreadable/schema), RUT01 (notification), and the event rule codes of ``dian.rules``.
Where the facts do not name DIAN's code the simulator says so with its own ``SIM…`` code rather than invent one.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import tomllib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from dian.calendar import BOGOTA, BusinessCalendar
from dian.codes import Environment, EventCode, ValidationCode
from dian.errors import DianError, ParseError
from dian.simulator.buyer import BuyerPlay
from dian.simulator.events import EventDesk
from dian.simulator.issued import IssuedRules
from dian.simulator.numbering import ranges_for
from dian.simulator.pki import SimulatorPKI, issue_identity, load_or_create
from dian.simulator.replies import (
    ERRORS,
    NOT_FOUND,
    OK,
    PROCESSED_BEFORE,
    AcquirerReply,
    EmailsReply,
    RangesReply,
    Reply,
    SimulatorRejected,
    UploadReply,
    XmlReply,
    _packaging,
    _processed_before,
    _rule,
    _unreadable,
    covered,
    iso,
    reply_stem,
)
from dian.simulator.store import Store
from dian.simulator.support import issuer_of
from dian.simulator.testsets import TestSets
from dian.soap.packaging import ZipMember, zip_dated
from dian.trust import SigningIdentity, TrustStore, load_certificate_file
from dian.ubl import parse_document
from dian.ubl.build import ValidationDraft, build_validation_response
from dian.ubl.model import CommercialDocument, LineResponse, Party
from dian.xades import sign, verify
from dian.xmlsafe import parse_xml

__all__ = [
    "AcquirerReply",
    "EmailsReply",
    "RangesReply",
    "Reply",
    "Simulator",
    "SimulatorRejected",
    "UploadReply",
    "XmlReply",
]

_COMMERCIAL = {"Invoice": "invoice", "CreditNote": "credit_note", "DebitNote": "debit_note"}
_AUTHORIZED_TEXT = {
    "invoice": "La Factura electrónica {n}, ha sido autorizada.",
    "credit_note": "La Nota de credito electronica {n}, ha sido autorizada.",
    "debit_note": "La Nota de debito electronica {n}, ha sido autorizada.",
}
# dian-facts 2.6: every 2024-2025 DIAN answer carries this notification.
MAX_BATCH = 50  # documents in one asynchronous upload (radian-issuing-facts B.7)
IN_PROCESS = "Batch en proceso de validación."
RUT01 = ("RUT01", "La validación del estado del RUT próximamente estará disponible.")


def _from_iso(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _bogota(moment: dt.datetime) -> tuple[dt.date, str]:
    local = moment.astimezone(BOGOTA)
    return local.date(), local.strftime("%H:%M:%S") + "-05:00"


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class _Checked:
    """What validation learned about one document."""

    errors: list[str] = field(default_factory=list)
    notifications: list[str] = field(default_factory=list)


class Simulator:
    """A DIAN stand-in over one data directory: PKI, SQLite state, seeds and (optional) trusted CA folder."""

    def __init__(
        self,
        data_dir: str | Path,
        *,
        clock: Callable[[], dt.datetime] = _utcnow,
        environment: Environment = Environment.TESTING,
        calendar: BusinessCalendar | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.clock = clock
        self.environment = environment
        self.calendar = calendar or BusinessCalendar(saturday_is_business_day=False)  # DIAN counts Mon-Fri (2.2)
        self.pki: SimulatorPKI = load_or_create(self.data_dir / "pki")
        self.store = Store(self.data_dir / "simulator.sqlite3")
        self.trust_dir = self.data_dir / "trust"
        self.trust_dir.mkdir(exist_ok=True)
        self._trust_lock = threading.Lock()
        self._trust: TrustStore | None = None
        from dian.simulator.faults import FaultPlan
        from dian.simulator.radian import TitleDesk

        self.faults = FaultPlan()
        from dian.simulator.counterparts import Counterparts

        self.events = EventDesk(self)  # events 030-034 (events.py)
        self.radian = TitleDesk(self)  # RADIAN 035-051 and GetStatusEvent's chain (radian.py)
        self.counterparts = Counterparts(self)  # the parties the admin API plays (counterparts.py)
        self.issued = IssuedRules(self)  # DIAN's checks of invoices and notes, contingency windows (issued.py)
        self.test_sets = TestSets(self)  # habilitación quotas (testsets.py)
        self.buyer = BuyerPlay(self)  # buyers that answer our credit invoices by themselves (buyer.py)
        self.async_delay = 0.0  # seconds before GetStatusZip answers an upload without a test set

    def close(self) -> None:
        """Release the database."""
        self.store.close()

    # -- configuration ------------------------------------------------------------------------------------------

    @property
    def ca_certificate_path(self) -> Path:
        """The simulator CA (PEM): put it in a trust store folder to accept the simulator's answers."""
        return self.pki.ca_path

    @property
    def dian_identity(self) -> SigningIdentity:
        """The simulator's "DIAN" signing identity (NIT 800197268)."""
        return self.pki.dian

    @property
    def trust(self) -> TrustStore:
        """CAs whose certificates may sign documents and SOAP calls: the simulator CA plus ``trust/``."""
        with self._trust_lock:
            if self._trust is None:
                anchors: list[x509.Certificate] = [self.pki.ca.certificate]
                for path in sorted(self.trust_dir.iterdir()):
                    if path.suffix.lower() in {".pem", ".crt", ".cer", ".der"}:
                        anchors.extend(load_certificate_file(path))
                self._trust = TrustStore(anchors=tuple(anchors), source=str(self.trust_dir))
            return self._trust

    def trust_ca(self, certificate: x509.Certificate, name: str | None = None) -> Path:
        """Add a CA to the simulator's trust folder (kept across restarts)."""
        from cryptography.hazmat.primitives.serialization import Encoding

        label = name or certificate.fingerprint(hashes.SHA256()).hex()[:16]
        target = self.trust_dir / f"{label}.pem"
        target.write_bytes(certificate.public_bytes(Encoding.PEM))
        with self._trust_lock:
            self._trust = None
        return target

    def issue_identity(self, nit: str, name: str) -> SigningIdentity:
        """A sandbox certificate for ``nit`` under the simulator CA: integrators test without a real certificate."""
        return issue_identity(self.pki, nit, name, now=self.clock())

    def seed(self, data: Mapping[str, Any]) -> None:
        """Load software/PINs, authorizations, numbering ranges, exchange e-mails and acquirers."""
        self.store.seed(dict(data))

    def seed_file(self, path: str | Path) -> None:
        """Seed from a TOML or JSON file (see :meth:`seed`)."""
        path = Path(path)
        raw = path.read_bytes()
        data = json.loads(raw) if path.suffix.lower() == ".json" else tomllib.loads(raw.decode("utf-8"))
        self.seed(data)

    # -- helpers ------------------------------------------------------------------------------------------------

    def _authorized(self, caller: str | None, *owners: str | None) -> bool:
        """The caller is one of ``owners`` or a technology provider authorized for one of them."""
        if caller is None:
            return True  # the in-process API acts as DIAN itself
        wanted = [o for o in owners if o]
        if caller in wanted:
            return True
        return any(
            self.store.one("SELECT 1 FROM authorization WHERE provider_nit = ? AND issuer_nit = ?", caller, owner)
            for owner in wanted
        )

    def _software(self, software_id: str | None) -> Any:
        if not software_id:
            return None
        return self.store.one("SELECT * FROM software WHERE software_id = ?", software_id)

    def _answer(
        self,
        db: Any,
        *,
        receiver: Party,
        document_number: str,
        document_uuid: str,
        scheme: str,
        code: ValidationCode,
        lines: list[LineResponse],
        now: dt.datetime,
    ) -> bytes:
        """DIAN's ApplicationResponse, numbered from the counter and signed by the simulator's DIAN certificate."""
        number = self.store.next_number(db, "application_response", 90000001)
        issue_date, issue_time = _bogota(now)
        if not receiver.registration_name:
            receiver = Party(nit=receiver.nit, dv=receiver.dv, registration_name="Contribuyente")
        draft = ValidationDraft(
            number=str(number),
            issue_date=issue_date,
            issue_time=issue_time,
            environment=self.environment,
            receiver=receiver,
            document_number=document_number,
            document_uuid=document_uuid,
            document_uuid_scheme=scheme,
            code=code,
            line_responses=tuple(lines),
        )
        return sign(build_validation_response(draft), self.pki.dian, signing_time=now, role="supplier")

    @staticmethod
    def _lines(checked: _Checked, validated: bool) -> list[LineResponse]:
        lines = [LineResponse(line_id="1", code="0000", description="0")] if validated else []
        for index, text in enumerate(checked.errors + checked.notifications, start=len(lines) + 1):
            rule = text.split(",", 1)[0].removeprefix("Regla:").strip()
            description = text.split(":", 2)[-1].strip()
            lines.append(LineResponse(line_id=str(index), code=rule, description=description))
        return lines

    # -- invoices and notes -------------------------------------------------------------------------------------

    def validate(self, xml: bytes, *, file_name: str | None = None, now: dt.datetime | None = None) -> bytes:
        """In-process SendBillSync as DIAN itself: the signed ApplicationResponse 02, or SimulatorRejected.

        A document already validated with the same key returns its original answer (Regla 90 is success here).
        """
        reply = self.process_document(xml, file_name=file_name, caller_nit=None, now=now)
        if reply.is_valid and reply.xml:
            return reply.xml
        if reply.status_code == "99" and reply.errors == (PROCESSED_BEFORE,):
            stored = self.store.one("SELECT answer FROM document WHERE key = ?", reply.key)
            if stored is not None and reply.xml and self._key_of(xml) == reply.key:
                return bytes(stored["answer"])
        raise SimulatorRejected(reply)

    @staticmethod
    def _key_of(xml: bytes) -> str | None:
        try:
            document = parse_document(parse_xml(xml))
        except (ParseError, DianError):
            return None
        return getattr(document, "uuid", None)

    def process_document(
        self,
        xml: bytes,
        *,
        file_name: str | None,
        caller_nit: str | None,
        now: dt.datetime | None = None,
        batch: frozenset[str] | set[str] = frozenset(),
    ) -> Reply:
        """Validate one invoice or note as SendBillSync does and keep it when valid (issued.py's rules);
        ``batch``: keys validated earlier in the same upload, which a note cannot reference yet."""
        now = now or self.clock()
        stem = reply_stem(file_name)
        try:
            root = parse_xml(xml)
        except ParseError as exc:
            return _unreadable(exc)
        local = etree_local(root)
        kind = _COMMERCIAL.get(local)
        if kind is None:
            return Reply(
                False, "99", ERRORS, errors=(_rule("ZB01", f"El documento {local} no es una factura ni una nota."),)
            )
        report = verify(root, trust=self.trust, now=now)
        signed_root = covered(report, root)
        try:
            parsed = parse_document(signed_root)
        except ParseError as exc:
            return _unreadable(exc)
        assert isinstance(parsed, CommercialDocument)
        doc = parsed
        supplier = issuer_of(doc)  # the buyer for a documento soporte (support.py)
        if not self._authorized(caller_nit, supplier, doc.software_provider_nit):
            return _packaging(f"NIT {caller_nit} no autorizado para enviar documentos del emisor {supplier}.")

        checked = _Checked()
        checked.errors.extend(self.issued.check(doc, signed_root, report, kind, now, batch=batch))
        if doc.environment != self.environment:
            checked.errors.append(
                _rule(
                    "SIM01",
                    f"Ambiente {doc.environment.value} no corresponde al del servicio ({self.environment.value}).",
                )
            )
        checked.notifications.append(_rule(*RUT01, kind="Notificación"))

        with self.store.transaction() as db:
            stored = db.execute(
                "SELECT key, file_name, answer FROM document "
                "WHERE key = ? OR (issuer_nit = ? AND kind = ? AND number = ?)",
                (doc.uuid, supplier, kind, doc.number),
            ).fetchone()
            if stored is not None:
                # dian-facts 10: the stored key, the stored file name and the ORIGINAL answer.
                return _processed_before(stored, "key")
            validated = not checked.errors
            answer = self._answer(
                db,
                receiver=doc.customer if doc.document_type.is_support else doc.supplier,
                document_number=doc.number,
                document_uuid=doc.uuid,
                scheme=doc.uuid_scheme or ("CUFE-SHA384" if kind == "invoice" else "CUDE-SHA384"),
                code=ValidationCode.VALIDATED if validated else ValidationCode.REJECTED,
                lines=self._lines(checked, validated),
                now=now,
            )
            if not validated:
                db.execute(
                    "INSERT OR REPLACE INTO rejection VALUES (?, ?, ?, ?, ?, ?)",
                    (doc.uuid, doc.number, stem, json.dumps(checked.errors + checked.notifications), answer, iso(now)),
                )
                return Reply(
                    False,
                    "99",
                    ERRORS,
                    errors=tuple(checked.errors + checked.notifications),
                    xml=answer,
                    key=doc.uuid,
                    file_name=stem,
                )
            db.execute(
                "INSERT INTO document VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    doc.uuid,
                    kind,
                    doc.number,
                    supplier,
                    doc.customer.nit,
                    doc.document_type.value,
                    doc.payment_means.value if doc.payment_means else None,
                    iso(report.signing_time) if report.signing_time else None,
                    stem,
                    xml,
                    answer,
                    iso(now),
                ),
            )
            db.execute("DELETE FROM rejection WHERE key = ?", (doc.uuid,))
        if kind == "invoice" and not doc.document_type.is_support:
            self.buyer.after_validation(doc)
        return Reply(
            True,
            "00",
            OK,
            _AUTHORIZED_TEXT[kind].format(n=doc.number),
            errors=tuple(checked.notifications),
            xml=answer,
            key=doc.uuid,
            file_name=stem,
        )

    # -- events -------------------------------------------------------------------------------------------------

    def process_event(
        self, xml: bytes, *, file_name: str | None, caller_nit: str | None, now: dt.datetime | None = None
    ) -> Reply:
        """SendEventUpdateStatus: check one signed event 030-051 against DIAN's rules and register it (events.py)."""
        return self.events.process(xml, file_name=file_name, caller_nit=caller_nit, now=now)

    def _event_answer(
        self, db: Any, sender: Party, number: str, cude: str, notices: list[str], now: dt.datetime
    ) -> bytes:
        """DIAN's signed answer registering an event (02 with line 0000 and any notifications)."""
        checked = _Checked(notifications=notices)
        return self._answer(
            db,
            receiver=sender,
            document_number=number,
            document_uuid=cude,
            scheme="CUDE-SHA384",
            code=ValidationCode.VALIDATED,
            lines=self._lines(checked, True),
            now=now,
        )

    # -- queries ------------------------------------------------------------------------------------------------

    def get_status(self, track_id: str) -> Reply:
        """GetStatus by CUFE/CUDE: the stored answer, the last rejection, or 66."""
        key = (track_id or "").strip()
        row = self.store.one("SELECT key, kind, number, file_name, answer FROM document WHERE key = ?", key)
        if row is not None:
            return Reply(
                True,
                "00",
                OK,
                _AUTHORIZED_TEXT[row["kind"]].format(n=row["number"]),
                xml=bytes(row["answer"]),
                key=row["key"],
                file_name=row["file_name"],
            )
        row = self.store.one("SELECT cude, code, number, file_name, answer FROM event WHERE cude = ?", key)
        if row is not None:
            label = EventCode(row["code"]).label
            return Reply(
                True,
                "00",
                OK,
                f"El evento {row['code']} ({label}) {row['number']}, ha sido registrado.",
                xml=bytes(row["answer"]),
                key=row["cude"],
                file_name=row["file_name"],
            )
        row = self.store.one("SELECT * FROM rejection WHERE key = ?", key)
        if row is not None:
            return Reply(
                False,
                "99",
                ERRORS,
                errors=tuple(json.loads(row["messages"])),
                xml=bytes(row["answer"]) if row["answer"] else None,
                key=row["key"],
                file_name=row["file_name"],
            )
        return Reply(False, "66", NOT_FOUND, key=key or None)

    def get_status_event(self, track_id: str, *, now: dt.datetime | None = None) -> Reply:
        """GetStatusEvent by invoice CUFE: the title's chain in DIAN's layout (radian.py, A.12)."""
        return self.radian.status_events(track_id, now=now or self.clock())

    def get_xml_by_document_key(self, track_id: str, *, caller_nit: str | None) -> XmlReply:
        """GetXmlByDocumentKey: 100 with the XML to the issuer, the receiver or their providers; 401; 404."""
        key = (track_id or "").strip()
        row = self.store.one("SELECT issuer_nit, receiver_nit, xml, validated_at FROM document WHERE key = ?", key)
        owners: tuple[str, ...]
        if row is not None:
            owners = (row["issuer_nit"], row["receiver_nit"])
            moment = row["validated_at"]
        else:
            row = self.store.one(
                "SELECT e.sender_nit, e.receiver_nit, e.xml, e.registered_at, e.invoice_key, d.issuer_nit, "
                "d.receiver_nit AS buyer "
                "FROM event e JOIN document d ON d.key = e.invoice_key WHERE e.cude = ?",
                key,
            )
            if row is None:
                return XmlReply("404", "Documento no encontrado.")
            owners = (row["sender_nit"], row["receiver_nit"], row["issuer_nit"], row["buyer"])
            moment = row["registered_at"]
            if caller_nit is not None and not self._authorized(caller_nit, *owners):
                # The title's current holder(s) may read its events too (A.11).
                title = self.radian.title_of(row["invoice_key"])
                owners += tuple(share.nit for share in title.holders) if title is not None else ()
        if not self._authorized(caller_nit, *owners):
            return XmlReply("401", f"NIT {caller_nit} no autorizado para consultar el documento {key}.")
        return XmlReply("100", "Accion completada OK.", moment, bytes(row["xml"]))

    def get_numbering_range(
        self, account_code: str, account_code_t: str, software_code: str, *, caller_nit: str | None
    ) -> RangesReply:
        """GetNumberingRange: the issuer's ranges for a software (401 for a caller not allowed to ask)."""
        allowed = (
            caller_nit is None
            or caller_nit == account_code
            or (caller_nit == account_code_t and self._authorized(caller_nit, account_code))
        )
        if not allowed:
            # The wording of DIAN's real 401 (dian-responses/GetNumberingRange_401_…).
            return RangesReply(
                "401", f"NIT: {caller_nit} no autorizado para consultar rangos de numeración del NIT: {account_code}"
            )
        rows = ranges_for(self.store, account_code, software_code)
        ranges = tuple(
            {
                "ResolutionNumber": r["resolution"],
                "ResolutionDate": r["resolution_date"],
                "Prefix": r["prefix"],
                "FromNumber": r["from_number"],
                "ToNumber": r["to_number"],
                "ValidDateFrom": r["valid_from"],
                "ValidDateTo": r["valid_to"],
                "TechnicalKey": r["technical_key"],
            }
            for r in rows
        )
        if not ranges:
            return RangesReply("301", "No se encontraron rangos de numeración para el software indicado.")
        return RangesReply("100", "Accion completada OK.", ranges)

    def get_exchange_emails(self) -> EmailsReply:
        """GetExchangeEmails: the registered reception e-mails as CSV."""
        rows = self.store.all("SELECT nit, name, email, updated FROM exchange_email ORDER BY nit")
        lines = ["Nit,RazonSocial,CorreoElectronico,FechaActualizacion"]
        for r in rows:
            cells = [r["nit"], r["name"] or "", r["email"], r["updated"] or ""]
            lines.append(",".join('"' + c.replace('"', '""') + '"' if ("," in c or '"' in c) else c for c in cells))
        return EmailsReply(True, "0", f"{len(rows)} registro(s).", ("\r\n".join(lines) + "\r\n").encode("utf-8"))

    def get_acquirer(self, id_type: str, id_number: str) -> AcquirerReply:
        """GetAcquirer: the buyer's name and e-mail; empty fields when unknown."""
        row = self.store.one("SELECT name, email FROM acquirer WHERE id_type = ? AND id_number = ?", id_type, id_number)
        if row is None:
            return AcquirerReply("00", "No se encontró información del adquiriente.", None, None)
        return AcquirerReply("00", "Consulta exitosa.", row["name"], row["email"])

    # -- packaged operations ------------------------------------------------------------------------------------

    def send_bill_sync(self, members: list[ZipMember], *, caller_nit: str | None) -> Reply:
        """SendBillSync: exactly one XML in the zip (else 89), then :meth:`process_document`."""
        xmls = [m for m in members if m.name.lower().endswith(".xml")]
        if len(xmls) != 1 or len(members) != 1:
            if not xmls:
                return _packaging("El archivo zip no contiene documentos XML.")
            return _packaging("El método síncrono solo puede recibir un documento.")
        return self.process_document(xmls[0].data, file_name=xmls[0].name, caller_nit=caller_nit)

    def send_event(self, members: list[ZipMember], *, caller_nit: str | None) -> Reply:
        """SendEventUpdateStatus: one ApplicationResponse in the zip (else 89)."""
        xmls = [m for m in members if m.name.lower().endswith(".xml")]
        if len(xmls) != 1 or len(members) != 1:
            if not xmls:
                return _packaging("El archivo zip no contiene documentos XML.")
            return _packaging("El método síncrono solo puede recibir un documento.")
        return self.process_event(xmls[0].data, file_name=xmls[0].name, caller_nit=caller_nit)

    def send_bill_async(
        self, members: list[ZipMember], *, caller_nit: str | None, test_set_id: str | None = None
    ) -> UploadReply:
        """SendBillAsync / SendTestSetAsync: validate each XML now (in zip order; a note cannot reference an invoice
        of the same upload, peers-wave2 2.5) and keep the answers under a new ZipKey, answered by GetStatusZip once
        the test set's delay (or :attr:`async_delay`) has passed; a test set's documents count toward its quota."""
        xmls = [m for m in members if m.name.lower().endswith(".xml")]
        if test_set_id is not None and self.environment is Environment.PRODUCTION:
            return UploadReply(None, ((None, "Acción no disponible en producción.", None),))
        if not xmls:
            return UploadReply(None, ((None, "El archivo zip no contiene documentos XML.", None),))
        if len(xmls) > MAX_BATCH:  # radian-issuing-facts B.7
            return UploadReply(None, ((None, f"La cantidad de archivos excede máximo permitido: {MAX_BATCH}", None),))
        now = self.clock()
        batch: set[str] = set()
        documents: list[tuple[str, str | None, Reply]] = []
        for member in xmls:
            reply = self.process_document(member.data, file_name=member.name, caller_nit=caller_nit, batch=batch)
            if reply.is_valid and reply.key:
                batch.add(reply.key)
            documents.append((*_kind_and_number(member.data), reply))
        zip_key = str(uuid.uuid4())
        test_set = (test_set_id or "").strip() or None
        delay = self.test_sets.delay(test_set) if test_set else self.async_delay
        with self.store.transaction() as db:
            db.execute("INSERT INTO upload VALUES (?, ?, ?)", (zip_key, test_set, iso(now)))
            db.execute("INSERT INTO upload_ready VALUES (?, ?)", (zip_key, iso(now + dt.timedelta(seconds=delay))))
            for position, (_kind, _number, reply) in enumerate(documents):
                db.execute(
                    "INSERT INTO upload_item VALUES (?, ?, ?)", (zip_key, position, Store.dumps(reply.to_json()))
                )
            if test_set:
                self.test_sets.record(db, test_set, zip_key, documents, now)
        return UploadReply(zip_key)

    def get_status_zip(self, zip_key: str) -> list[Reply]:
        """GetStatusZip (radian-issuing-facts B.7): 66 for an unknown key or a batch still in validation; a one-document
        batch's own DianResponse; for several documents one 00 whose XmlBase64Bytes is a zip of DIAN's answers."""
        key = (zip_key or "").strip()
        rows = self.store.all("SELECT reply FROM upload_item WHERE zip_key = ? ORDER BY position", key)
        if not rows:
            return [Reply(False, "66", NOT_FOUND)]
        ready = self.store.one("SELECT ready_at FROM upload_ready WHERE zip_key = ?", key)
        if ready is not None and self.clock() < _from_iso(ready["ready_at"]):
            return [Reply(False, "66", IN_PROCESS, IN_PROCESS)]
        replies = [Reply.from_json(json.loads(r["reply"])) for r in rows]
        if len(replies) == 1:
            return replies
        # The answers' zip is dated when the batch's validation ended, not by the machine's clock.
        finished = _from_iso(ready["ready_at"]) if ready is not None else self.clock()
        answers = {f"ar{r.file_name or position}.xml": r.xml for position, r in enumerate(replies) if r.xml}
        accepted = sum(1 for r in replies if r.is_valid)
        return [
            Reply(
                True,
                "00",
                OK,
                f"Batch procesado: {accepted} de {len(replies)} documentos validados.",
                xml=zip_dated(answers, finished),
            )
        ]


def _kind_and_number(xml: bytes) -> tuple[str, str | None]:
    """The kind (invoice, credit_note, debit_note or the root's name) and cbc:ID of a document, read leniently."""
    try:
        root = parse_xml(xml)
    except ParseError:
        return "unreadable", None
    local = etree_local(root)
    number = root.findtext("{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}ID")
    return _COMMERCIAL.get(local, local), (number or "").strip() or None


def etree_local(root: Any) -> str:
    """The local name of an element."""
    tag = root.tag if isinstance(root.tag, str) else ""
    return tag.rpartition("}")[2]
