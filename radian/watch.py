"""The endorsement watch: whom must we pay for each supplier invoice we owe? (issue 17, payable side)

A supplier may endorse its accepted credit invoice to a factor (037) — from then on paying the supplier pays the wrong
party — or a judge may limit it (041) and freeze its payment. DIAN's RADIAN is the only place this is written, so one
sweep (job ``title_watch``, ``buzon title watch --once``) asks DIAN about every unpaid received credit invoice:

1. **Enrol** (set-based): each received credit invoice that is accepted (033/034, or its claim window lapsed) or
   already a title gets a ``value_titles`` row, role obligor, payee = the supplier, due to be watched now.
2. **Select** (one index range, ``ix_value_titles_watch``): the obligor titles whose ``next_watch_at`` is due, not
   paid, not more than ``past_due_days`` past their due date, soonest first, ``batch`` of them.
3. **Ask** GetStatusEvent for each, ``concurrency`` threads with one DIAN client each, together at most
   ``rate_per_second`` calls a second (``RateLimit``). The listed CUDEs are compared with the events on file: when
   nothing is new the title is only re-scheduled, many at once (one UPDATE per chunk). The listing is read before its
   signature is weighed *only* to skip: an unverified answer can make the watch do work, never change a payee.
4. **Settle** each title where DIAN lists something new, one transaction each: ``events.sync.sync_document`` (the
   sync job's own path) weighs DIAN's signed answer (``dian.proof``) and records every new event observed and
   registered, fetched with GetXmlByDocumentKey; then every RADIAN event on the invoice is **proven** on its own —
   its signature and signer (``dian.reception.verify_received``), its reference to this invoice — and the holder is
   replayed (``radian.title.ValueTitle.of``, A.11). The ``value_titles`` row takes the result; a new payee raises a
   ``holder_changed`` alert (in-app, mail to treasury and AP, webhook ``title.holder_changed``), an active 041 a
   ``limited`` one (payment frozen). An event that cannot be proven is left out of the replay and marks the title
   ``unproven``: the payment run refuses it until someone looks (radian/payables.py).
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session, object_session, sessionmaker

from dian.calendar import BOGOTA
from dian.codes import DocumentState, DocumentType, EventCode, PaymentMeans
from dian.errors import ParseError
from dian.radian.chain import read_status_events
from dian.radian.model import RadianEvent, Share
from dian.radian.parse import parse_radian_event
from dian.reception import verify_received
from dian.soap import DianFault, DianResponse, DianTransportError
from dian.soap.results import DocumentInfo, DocumentXml
from dian.trust import TrustStore
from dian.xades import Outcome
from events.answers import ForgedAnswer
from events.context import EventContext, utc_now
from events.sync import SyncReport, sync_document
from radian.alerts import AlertDraft, raise_alert
from radian.store import event_columns, event_parties, refresh_title
from radian.title import ChainLink
from radian.title import ValueTitle as Title
from store.audit import record
from store.models import (
    AlertKind,
    DocumentEvent,
    EventParty,
    ReceivedDocument,
    SubmissionState,
    TitleRole,
    TitleState,
    ValueTitle,
)

__all__ = [
    "WATCHED",
    "Due",
    "Look",
    "RateLimit",
    "WatchPlan",
    "WatchReport",
    "ask_each",
    "drafts",
    "due_titles",
    "enrol",
    "holder_disputed",
    "look",
    "prove_title",
    "settle",
    "sweep",
]

E = EventCode
# The events that move the payee, freeze or settle a title we owe (issue 17); others (043 mandates, 046 reports,
# 048 protests) are recorded and replayed too when they come along with these.
WATCHED = frozenset({E.INSCRIPCION_TITULO, E.ENDOSO_PROPIEDAD, E.ENDOSO_GARANTIA, E.ENDOSO_PROCURACION,
                     E.ENDOSO_CESION, E.TRANSFERENCIA_DERECHOS, E.NOTIFICACION_TRANSFERENCIA,
                     E.LIMITACION_CIRCULACION, E.TERMINACION_LIMITACION, E.PAGO})  # fmt: skip
_RADIAN_CODES = tuple(code for code in EventCode if code >= E.AVAL)
# Received invoices that are (or may become) titles: accepted expressly or tacitly, a lapsed claim window waiting for
# the supplier's 034, or registered already. A claimed (031) invoice can never become one (A.5).
_ENROLLED_STATES = (DocumentState.ACCEPTED, DocumentState.TACITLY_ACCEPTED, DocumentState.TITLE)
UNPROVEN = "unproven"  # value_titles.watch_status while an event on the title could not be proven
_CHUNK = 500
_PREFETCH = 50  # at most this many new events' XML fetched per look (a longer chain: the rest when settling)
THREADS_PER_CLIENT = 16  # dian.soap.transport.POOL_SIZE: the connections one client keeps to DIAN


class DianWatch(Protocol):
    """What the watch asks DIAN (dian.soap.DianClient has it)."""

    def get_status_event(self, cufe: str) -> DianResponse: ...
    def get_xml_by_document_key(self, track_id: str) -> DocumentXml: ...


@dataclass(frozen=True)
class WatchPlan:
    """How the sweep runs ([radian] settings): how often one title is asked about, for how long after its due date,
    how hard DIAN may be asked, how many titles per run; and where alerts are mailed from and to."""

    interval: timedelta = timedelta(hours=1)
    past_due_days: int = 60
    rate_per_second: float = 10.0
    concurrency: int = 4
    batch: int = 2000
    retry: timedelta = timedelta(minutes=10)  # after a failure, doubled per consecutive failure up to ``interval``
    from_address: str = ""
    alert_emails: tuple[str, ...] = ()


class RateLimit:
    """At most ``per_second`` calls a second across every thread that shares it: each call takes the next free slot
    (slots ``1/per_second`` apart) and sleeps until it comes; no burst beyond one slot."""

    def __init__(
        self,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_second <= 0:
            raise ValueError("the rate must be positive")
        self.spacing = 1.0 / per_second
        self._clock, self._sleep = clock, sleep
        self._next = float("-inf")
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Block until this caller's slot."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self.spacing
        if slot > now:
            self._sleep(slot - now)


@dataclass(frozen=True)
class Due:
    """One title to ask about: its row, its invoice, and the CUDEs already registered on file for that invoice."""

    title_id: int
    document_id: int
    cufe: str
    known: frozenset[str] = frozenset()
    recheck: bool = False  # an earlier look left an event unproven: settle again whatever DIAN lists


@dataclass(frozen=True)
class Look:
    """What GetStatusEvent said about one title: DIAN's status code, the CUDEs it lists (read, not yet proven), the
    answer itself, or the error that kept it from answering."""

    due: Due
    status: str | None
    listed: frozenset[str] = frozenset()
    response: DianResponse | None = field(default=None, repr=False)
    error: str | None = None
    fetched: dict[str, DocumentXml] = field(default_factory=dict, repr=False)  # new CUDE (lower) -> its XML
    info: DocumentInfo | None = field(default=None, repr=False)  # GetDocumentInfo's unsigned view, a cross-check

    @property
    def new(self) -> frozenset[str]:
        """The CUDEs DIAN lists that are not registered on file."""
        return self.listed - self.due.known

    @property
    def changed(self) -> bool:
        """True when the title must be settled: something new is listed (or an unproven event waits)."""
        return self.error is None and (bool(self.new) or self.due.recheck) and self.response is not None


@dataclass
class WatchReport:
    enrolled: int = 0
    asked: int = 0
    unchanged: int = 0
    settled: int = 0
    observed: int = 0  # events newly recorded
    holder_changed: int = 0
    limited: int = 0
    unproven: int = 0
    disputed: int = 0  # GetDocumentInfo named another holder than the proven replay (alert only)
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"enrolled": self.enrolled, "asked": self.asked, "unchanged": self.unchanged, "settled": self.settled,
                "observed": self.observed, "holder_changed": self.holder_changed, "limited": self.limited,
                "unproven": self.unproven, "disputed": self.disputed, "failed": self.failed, "errors": self.errors[:5],
                "seconds": round(self.seconds, 3)}  # fmt: skip


# -- 1. enrol and 2. select -------------------------------------------------------------------------------------


def enrol(s: Session, now: datetime, *, past_due_days: int = 60) -> int:
    """Give every received credit invoice that is or may become a title a value_titles row (role obligor), payee the
    supplier, due to be watched now; the caller commits. Returns how many rows were added."""
    since = now.astimezone(BOGOTA).date() - timedelta(days=past_due_days)
    candidates = s.execute(
        sa.select(ReceivedDocument.id, ReceivedDocument.cufe, ReceivedDocument.number, ReceivedDocument.issuer_nit,
                  ReceivedDocument.issuer_name, ReceivedDocument.buyer_nit, ReceivedDocument.buyer_name,
                  ReceivedDocument.currency, ReceivedDocument.due_date, ReceivedDocument.payable_amount)
        .outerjoin(ValueTitle, ValueTitle.document_id == ReceivedDocument.id)
        .where(
            ValueTitle.id.is_(None),
            ReceivedDocument.document_type == DocumentType.INVOICE,
            ReceivedDocument.payment_means == PaymentMeans.CREDIT,
            sa.or_(
                ReceivedDocument.state.in_(_ENROLLED_STATES),
                sa.and_(ReceivedDocument.state == DocumentState.GOODS_RECEIVED,
                        ReceivedDocument.window_closed_at.is_not(None)),
            ),
            sa.or_(ReceivedDocument.due_date.is_(None), ReceivedDocument.due_date >= since),
        )
    ).all()  # fmt: skip
    rows = [
        {
            "document_id": c.id,
            "role": TitleRole.OBLIGOR,
            "invoice_cufe": c.cufe,
            "invoice_number": c.number[:60],
            "state": TitleState.UNREGISTERED,
            "issuer_nit": c.issuer_nit,
            "issuer_name": c.issuer_name,
            "debtor_nit": c.buyer_nit,
            "debtor_name": c.buyer_name,
            "holder_nit": c.issuer_nit,
            "holder_name": c.issuer_name,
            "holders": [{"nit": c.issuer_nit, "name": c.issuer_name, "amount": None}],
            "payee_nit": c.issuer_nit,
            "payee_name": c.issuer_name,
            "currency": c.currency,
            "due_date": c.due_date,
            "value": c.payable_amount,
            "paid": Decimal(0),
            "outstanding": c.payable_amount,
            "limited": False,
            "chain_length": 0,
            "chain_etag": "",
            "chain_version": 0,
            "watch_failures": 0,
            "next_watch_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for c in candidates
    ]
    for start in range(0, len(rows), _CHUNK):
        s.execute(sa.insert(ValueTitle), rows[start : start + _CHUNK])
    return len(rows)


def _known(s: Session, document_ids: Sequence[int]) -> dict[int, set[str]]:
    known: dict[int, set[str]] = {}
    for start in range(0, len(document_ids), _CHUNK):
        chunk = document_ids[start : start + _CHUNK]
        for document_id, cude in s.execute(
            sa.select(DocumentEvent.document_id, DocumentEvent.cude).where(
                DocumentEvent.document_id.in_(chunk),
                DocumentEvent.submission_state == SubmissionState.REGISTERED,
                DocumentEvent.cude.is_not(None),
            )
        ):
            known.setdefault(document_id, set()).add(cude.lower())
    return known


def due_titles(s: Session, now: datetime, *, past_due_days: int = 60, limit: int = 2000) -> list[Due]:
    """The obligor titles whose next look is due, unpaid and not long past due, soonest first, with what is on file."""
    since = now.astimezone(BOGOTA).date() - timedelta(days=past_due_days)
    rows = s.execute(
        sa.select(ValueTitle.id, ValueTitle.document_id, ValueTitle.invoice_cufe, ValueTitle.watch_status)
        .where(
            ValueTitle.role == TitleRole.OBLIGOR,
            ValueTitle.next_watch_at <= now,
            ValueTitle.document_id.is_not(None),
            ValueTitle.state != TitleState.PAID,
            sa.or_(ValueTitle.due_date.is_(None), ValueTitle.due_date >= since),
        )
        .order_by(ValueTitle.next_watch_at, ValueTitle.id)
        .limit(limit)
    ).all()
    known = _known(s, [row.document_id for row in rows])
    return [
        Due(
            row.id,
            row.document_id,
            row.invoice_cufe,
            frozenset(known.get(row.document_id, ())),
            row.watch_status == UNPROVEN,
        )
        for row in rows
    ]


# -- 3. ask ----------------------------------------------------------------------------------------------------


def look(client: DianWatch, due: Due, *, rate: RateLimit | None = None) -> Look:
    """Ask GetStatusEvent about one title and read which CUDEs it lists (unproven: only to decide whether to settle).
    With ``rate``, the XML of each new event is fetched too (GetXmlByDocumentKey, each call paced by ``rate``), so the
    settling that follows waits for no DIAN answer; nothing fetched here is believed before it is proven there."""
    try:
        response = client.get_status_event(due.cufe)
    except (DianTransportError, DianFault) as exc:
        return Look(due, None, error=exc.words[:500])
    code = (response.status_code or "").strip()
    if code == "67":  # no events yet (A.12)
        return Look(due, code, response=response)
    if code != "00":
        return Look(due, code, response=response, error=f"GetStatusEvent {code}: {response.status_description}"[:500])
    try:
        listed = frozenset(entry.cude.lower() for entry in read_status_events(response.xml or b""))
    except ParseError as exc:
        return Look(due, code, response=response, error=f"respuesta ilegible: {exc}"[:500])
    found = Look(due, code, listed, response)
    if rate is None or not found.new:
        return found
    fetched: dict[str, DocumentXml] = {}
    for cude in sorted(found.new)[:_PREFETCH]:
        rate.wait()
        try:
            fetched[cude] = client.get_xml_by_document_key(cude)
        except (DianTransportError, DianFault):
            break  # settling asks again, and counts the failure there
    return replace(found, fetched=fetched, info=_document_info(client, due.cufe, rate))


def _document_info(client: DianWatch, cufe: str, rate: RateLimit) -> DocumentInfo | None:
    """GetDocumentInfo where the client has it and DIAN answers; None otherwise (it is only a cross-check)."""
    ask = getattr(client, "get_document_info", None)
    if ask is None:
        return None
    rate.wait()
    try:
        info = ask(cufe)
    except (DianTransportError, DianFault):
        return None
    return info if isinstance(info, DocumentInfo) and info.found else None


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


def ask_each(
    dues: Sequence[Due],
    client_factory: Callable[[], DianWatch],
    *,
    rate: RateLimit,
    concurrency: int,
    ask: Callable[..., Look] = look,
) -> Iterator[Look]:
    """Ask about every title, ``concurrency`` threads paced together by ``rate``; each look is yielded as soon as it
    is done (not in input order), so the caller settles a changed title while the others are still being asked.
    A client serves up to ``THREADS_PER_CLIENT`` threads (its connection pool's size): building one loads the
    company's certificate, which costs more than many calls."""
    clients: dict[int, DianWatch] = {}
    lock = threading.Lock()
    local = threading.local()
    counter = itertools.count()
    slots = max(1, -(-concurrency // THREADS_PER_CLIENT))

    def one(due: Due) -> Look:
        client = getattr(local, "client", None)
        if client is None:
            slot = next(counter) % slots
            with lock:
                if slot not in clients:
                    clients[slot] = client_factory()
                client = local.client = clients[slot]
        rate.wait()
        return ask(client, due, rate=rate)

    try:
        if concurrency <= 1:
            for due in dues:
                yield one(due)
            return
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="title-watch") as pool:
            futures = [pool.submit(one, due) for due in dues]
            try:
                for future in as_completed(futures):
                    yield future.result()
            finally:
                for future in futures:
                    future.cancel()
    finally:
        for client in clients.values():
            close = getattr(client, "close", None)
            if close is not None:
                close()


# -- 4. settle -------------------------------------------------------------------------------------------------


class _Answered:
    """The client as sync_document sees it: GetStatusEvent answers what the look already got and GetXmlByDocumentKey
    what the look fetched (no second call); anything else goes to ``client``."""

    def __init__(self, client: DianWatch, cufe: str, response: DianResponse,
                 fetched: dict[str, DocumentXml] | None = None) -> None:  # fmt: skip
        self._client, self._cufe, self._response = client, cufe, response
        self._fetched = dict(fetched or {})

    def get_status_event(self, cufe: str) -> DianResponse:
        return self._response if cufe == self._cufe else self._client.get_status_event(cufe)

    def get_xml_by_document_key(self, track_id: str) -> DocumentXml:
        found = self._fetched.pop((track_id or "").lower(), None)
        return found if found is not None else self._client.get_xml_by_document_key(track_id)


class _Lazy:
    """A DIAN client built on its first call (settling usually needs none: the looks fetched what it reads)."""

    def __init__(self, factory: Callable[[], DianWatch]) -> None:
        self._factory = factory
        self.client: DianWatch | None = None

    def _get(self) -> DianWatch:
        if self.client is None:
            self.client = self._factory()
        return self.client

    def get_status_event(self, cufe: str) -> DianResponse:
        return self._get().get_status_event(cufe)

    def get_xml_by_document_key(self, track_id: str) -> DocumentXml:
        return self._get().get_xml_by_document_key(track_id)

    def close(self) -> None:
        close = getattr(self.client, "close", None)
        if close is not None:
            close()


@dataclass(frozen=True)
class Proven:
    """A title's RADIAN events on file, split into those proven (with their signing time) and those that are not."""

    events: tuple[tuple[RadianEvent, datetime, DocumentEvent], ...]
    unproven: tuple[tuple[DocumentEvent, str], ...]

    def title(self, issuer: Share) -> Title | None:
        """The title replayed from the proven events (None while no RADIAN event is proven)."""
        if not self.events:
            return None
        return Title.of(((event, at) for event, at, _ in self.events), issuer=issuer)


def _prove(ctx: EventContext, document: ReceivedDocument, row: DocumentEvent, known: set[str]) -> tuple[
    RadianEvent | None, datetime | None, str]:  # fmt: skip
    if not row.signed_xml_blob:
        return None, None, "la DIAN no entregó el XML del evento (GetXmlByDocumentKey)"
    xml = ctx.blobs.get(row.signed_xml_blob)
    report = verify_received(xml, trust=ctx.trust or TrustStore(), keys=ctx.keys)
    failed = [c for c in report.checks if c.outcome is Outcome.FAIL and c.name.startswith("event.")]
    signature = report.document_signature
    if failed or report.event is None or signature is None or signature.signed_element is None:
        return None, None, failed[0].detail if failed else "la firma del evento no verifica"
    try:
        event = parse_radian_event(signature.signed_element)
    except ParseError as exc:
        return None, None, f"el evento no se puede leer: {exc}"
    if (event.cude or "").lower() != (row.cude or "").lower():
        return None, None, "el XML entregado es de otro evento (otro CUDE)"
    reference = (event.reference.uuid or "").lower()
    if event.reference.is_event and reference not in known:
        return None, None, "el evento termina otro evento que no está registrado sobre esta factura"
    if not event.reference.is_event and reference != document.cufe.lower():
        return None, None, f"el evento es sobre otra factura ({event.reference.id})"
    signed_at = row.signing_time or signature.signing_time
    if signed_at is None:
        return None, None, "el evento no dice cuándo se firmó (xades:SigningTime)"
    if row.signing_time is None:
        row.signing_time = signed_at  # fetched again after a failure: its moment is its signed SigningTime
    return event, signed_at, ""


def _fetch_missing(s: Session, ctx: EventContext, client: DianWatch, document: ReceivedDocument) -> None:
    """Ask DIAN again for the XML of registered RADIAN events recorded without it (GetXmlByDocumentKey failed then)."""
    missing = s.scalars(
        sa.select(DocumentEvent).where(
            DocumentEvent.document_id == document.id,
            DocumentEvent.submission_state == SubmissionState.REGISTERED,
            DocumentEvent.signed_xml_blob.is_(None),
            DocumentEvent.code.in_(_RADIAN_CODES),
            DocumentEvent.cude.is_not(None),
        )
    )
    for row in missing:
        found = client.get_xml_by_document_key(row.cude or "")
        if found.found and found.xml:
            row.signed_xml_blob = ctx.blobs.put(found.xml)


def prove_title(s: Session, ctx: EventContext, document: ReceivedDocument) -> Proven:
    """Every RADIAN event registered on ``document``, each proven on its own: its signature and signer, that it is
    about this invoice (or ends an event on it); DIAN's registration was proven when it was recorded."""
    rows = list(
        s.scalars(
            sa.select(DocumentEvent)
            .where(DocumentEvent.document_id == document.id,
                   DocumentEvent.submission_state == SubmissionState.REGISTERED)
            .order_by(DocumentEvent.signing_time, DocumentEvent.id)
        )
    )  # fmt: skip
    known = {(row.cude or "").lower() for row in rows}
    proven: list[tuple[RadianEvent, datetime, DocumentEvent]] = []
    unproven: list[tuple[DocumentEvent, str]] = []
    for row in rows:
        if row.code not in _RADIAN_CODES:
            continue
        event, signed_at, why = _prove(ctx, document, row, known)
        if event is None or signed_at is None:
            unproven.append((row, why))
        else:
            _record_details(row, event)
            proven.append((event, signed_at, row))
    return Proven(tuple(proven), tuple(unproven))


def _record_details(row: DocumentEvent, event: RadianEvent) -> None:
    """Give an observed RADIAN event, once proven, the columns and parties our own events get when emitted or synced
    (``radian.store.event_columns`` / ``event_parties``): variant, figures, value block, dates, names, shares.
    events.sync records the counterpart's event without them; filled once (with its variant), never overwritten."""
    if row.operation is not None:
        return
    for key, value in event_columns(event).items():
        setattr(row, key, value)
    # Added by event_id rather than through row.parties: assigning the collection would load it first (a flush and a
    # SELECT per event) only to find it empty.
    session = object_session(row)
    assert session is not None
    session.add_all(EventParty(event_id=row.id, **party) for party in event_parties(event))


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


def settle(
    s: Session,
    ctx: EventContext,
    client: DianWatch,
    look_: Look,
    now: datetime,
    plan: WatchPlan,
    report: WatchReport,
    *,
    actor: str = "job:title_watch",
) -> None:
    """Record what DIAN lists that is new on one title (the sync's path), prove its RADIAN events, derive the row
    again (``radian.store.refresh_title``) and raise the alerts its change calls for; the caller commits.
    ForgedAnswer, DianTransportError and DianFault propagate (the caller rolls back)."""
    due = look_.due
    row = s.get(ValueTitle, due.title_id)
    document = s.get(ReceivedDocument, due.document_id)
    if row is None or document is None or look_.response is None:
        return
    before = {"payee_nit": row.payee_nit, "payee_name": row.payee_name, "holder_nit": row.holder_nit,
              "limited": row.limited, "state": row.state}  # fmt: skip
    synced = SyncReport()
    answered = _Answered(client, document.cufe, look_.response, look_.fetched)
    sync_document(s, ctx, answered, document, now, synced, actor=actor)
    report.observed += len(synced.observed)
    s.flush()
    _fetch_missing(s, ctx, answered, document)
    proven = prove_title(s, ctx, document)
    refresh_title(s, ctx.blobs, row, now)
    _schedule(row, now, plan, look_.status, error=None)
    if proven.unproven:
        row.watch_status = UNPROVEN
        report.unproven += len(proven.unproven)
    title = proven.title(Share(document.issuer_nit, document.issuer_name, document.issuer_dv))
    found = drafts(before, row, title, proven)
    disputed = holder_disputed(look_.info, row)
    if disputed is not None:
        found.append(disputed)
        report.disputed += 1
    for draft in found:
        alert = raise_alert(s, ctx, row, draft, now, from_address=plan.from_address,
                            extra_recipients=plan.alert_emails, actor=actor)  # fmt: skip
        if alert is not None and draft.kind in (AlertKind.HOLDER_CHANGED, AlertKind.TRANSFERRED):
            report.holder_changed += 1
        elif alert is not None and draft.kind is AlertKind.LIMITED:
            report.limited += 1
    report.settled += 1


def _schedule(row: ValueTitle, now: datetime, plan: WatchPlan, status: str | None, *, error: str | None) -> None:
    row.last_watched_at = now
    row.watch_status = status
    if error is None:
        row.watch_failures, row.watch_error = 0, None
        row.next_watch_at = now + plan.interval
    else:
        row.watch_failures += 1
        row.watch_error = error[:2000]
        row.next_watch_at = now + min(plan.interval, plan.retry * 2 ** min(row.watch_failures - 1, 16))


def _reschedule(s: Session, title_ids: list[int], now: datetime, plan: WatchPlan, status: str) -> None:
    """The titles DIAN lists nothing new on: looked at now, next look one interval on (one UPDATE per chunk)."""
    for start in range(0, len(title_ids), _CHUNK):
        s.execute(
            sa.update(ValueTitle)
            .where(ValueTitle.id.in_(title_ids[start : start + _CHUNK]))
            .values(
                last_watched_at=now,
                next_watch_at=now + plan.interval,
                watch_status=status,
                watch_failures=0,
                watch_error=None,
                updated_at=now,
            )
        )


# -- the sweep -------------------------------------------------------------------------------------------------


def sweep(
    sessions: sessionmaker[Session],
    ctx: EventContext,
    client_factory: Callable[[], DianWatch],
    plan: WatchPlan,
    *,
    now: Callable[[], datetime] = utc_now,
    actor: str = "job:title_watch",
) -> WatchReport:
    """One pass of the watch: enrol, select, ask (concurrently, rate-limited) and, as each answer comes, settle a
    changed title at once (one transaction each, in this thread) while the other threads go on asking; the unchanged
    are re-scheduled in bulk. DIAN's failures are counted and retried later, never raised."""
    started = time.perf_counter()
    report = WatchReport()
    moment = now()
    with sessions() as s:
        report.enrolled = enrol(s, moment, past_due_days=plan.past_due_days)
        s.commit()
        dues = due_titles(s, moment, past_due_days=plan.past_due_days, limit=plan.batch)
    if not dues:
        report.seconds = time.perf_counter() - started
        return report
    unchanged: dict[str, list[int]] = {}
    failed: list[Look] = []
    settling = _Lazy(client_factory)
    looks = ask_each(dues, client_factory, rate=RateLimit(plan.rate_per_second), concurrency=plan.concurrency)
    try:
        for item in looks:
            report.asked += 1
            if item.error is not None:
                failed.append(item)
            elif item.changed:
                _settle_one(sessions, ctx, settling, item, now(), plan, report, actor)
            else:
                unchanged.setdefault(item.status or "", []).append(item.due.title_id)
                if sum(len(ids) for ids in unchanged.values()) >= _CHUNK:
                    _record_looks(sessions, unchanged, [], now(), plan, report)
                    unchanged = {}
    finally:
        looks.close()  # after an error here: the asks not yet started are cancelled, the clients closed
        settling.close()
    _record_looks(sessions, unchanged, failed, now(), plan, report)
    report.seconds = time.perf_counter() - started
    return report


def _record_looks(sessions: sessionmaker[Session], unchanged: dict[str, list[int]], failed: list[Look],
                  moment: datetime, plan: WatchPlan, report: WatchReport) -> None:  # fmt: skip
    """Re-schedule the titles DIAN listed nothing new on (in bulk) and those it could not answer about (backoff)."""
    if not unchanged and not failed:
        return
    with sessions() as s:
        for status, ids in unchanged.items():
            _reschedule(s, ids, moment, plan, status)
            report.unchanged += len(ids)
        for item in failed:
            row = s.get(ValueTitle, item.due.title_id)
            if row is not None:
                _schedule(row, moment, plan, item.status, error=item.error)
            report.failed += 1
            report.errors.append(f"{item.due.cufe[:12]}…: {item.error}")
        s.commit()


def _settle_one(sessions: sessionmaker[Session], ctx: EventContext, client: DianWatch, item: Look, moment: datetime,
                plan: WatchPlan, report: WatchReport, actor: str) -> None:  # fmt: skip
    with sessions() as s:
        try:
            settle(s, ctx, client, item, moment, plan, report, actor=actor)
        except (DianTransportError, DianFault) as exc:
            s.rollback()
            error = f"{exc.__class__.__name__}: {exc}"[:500]
            _failed(s, item, moment, plan, error, report)
        except ForgedAnswer as exc:
            s.rollback()
            record(s, actor=actor, action="title.watch.refused", subject=item.due.cufe,
                   data={"error": str(exc)}, at=moment)  # fmt: skip
            _failed(s, item, moment, plan, f"respuesta de la DIAN no auténtica: {exc}", report)
        s.commit()


def _failed(s: Session, item: Look, moment: datetime, plan: WatchPlan, error: str, report: WatchReport) -> None:
    row = s.get(ValueTitle, item.due.title_id)
    if row is not None:
        _schedule(row, moment, plan, item.status, error=error)
    report.failed += 1
    report.errors.append(f"{item.due.cufe[:12]}…: {error}")
