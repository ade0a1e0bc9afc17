"""What became of one of our events, told to the clerk where the eye is (the result box atop the document page).

Three honest kinds, each with its own colour and words: ``registered`` (green: DIAN registered it), ``queued`` (amber:
DIAN did not answer, or answered 98/66 that is not final; it will be sent again at a given time and can be retried
now), ``rejected`` (red: DIAN refused it; each rule code explained in Spanish with a next step). DIAN's own texts are
Spanish, and so is the outbox's record of a failed send (``last_error``, written from the error's attributes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import get_flashed_messages

from dian.calendar import BOGOTA
from dian.soap.results import NOT_FINAL_CODES
from events.outbox import unresolved
from store.models import DocumentEvent, SubmissionState
from web.dian_rules_es import Explained, explain_all
from web.document_labels import EVENT_SHORT

REGISTERED, QUEUED, REJECTED = "registered", "queued", "rejected"
ERROR = "error"  # not DIAN's answer: the action itself could not be done (a refusal here, a form problem)
_SEVERITY = {REGISTERED: 0, QUEUED: 1, REJECTED: 2, ERROR: 2}
# Our events still waiting for DIAN's word: signed, sent, or sent and failed (to be sent again).
WAITING = (SubmissionState.SIGNED, SubmissionState.SENT, SubmissionState.SEND_FAILED)
# Flask's flash categories as result kinds.
FLASH_KINDS = {"success": REGISTERED, "info": QUEUED, "warning": QUEUED, "message": QUEUED, "error": ERROR}


def _undecided(event: DocumentEvent) -> str:
    """DIAN's not-final answer in words, from the status code the outbox kept (98 or 66)."""
    code = event.dian_status_code or ""
    return f"{code} {NOT_FINAL_CODES.get(code, 'sin respuesta definitiva')}".strip()


def failure_words(event: DocumentEvent) -> str:
    """Why the last send got no DIAN answer, as the outbox wrote it for the clerk (Spanish, at the source)."""
    return event.last_error or "la DIAN no dio una respuesta válida"


def at_time(moment: datetime, now: datetime | None = None) -> str:
    """ "las 14:05" today (Bogotá), else "el 07/12/2026 a las 09:00"."""
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    local = moment.astimezone(BOGOTA)
    today = (now or datetime.now(UTC)).astimezone(BOGOTA).date()
    if local.date() == today:
        return f"las {local:%H:%M}"
    return f"el {local:%d/%m/%Y} a las {local:%H:%M}"


@dataclass
class EventOutcome:
    event_id: int
    code: str
    kind: str  # registered, queued, rejected
    title: str
    detail: str = ""
    rules: list[Explained] = field(default_factory=list)
    retry: bool = False  # "Reintentar ahora" applies


def _name(event: DocumentEvent) -> str:
    code = event.code.value
    number = f" n.º {event.number}" if event.number else ""
    return f"{EVENT_SHORT.get(code, event.code.label)} ({code}){number}"


def outcome_of(event: DocumentEvent, now: datetime | None = None) -> EventOutcome:
    """The clerk's account of ``event`` as it stands now."""
    name, state = _name(event), event.submission_state
    base = {"event_id": event.id, "code": event.code.value}
    if state is SubmissionState.REGISTERED:
        return EventOutcome(**base, kind=REGISTERED, title=f"{name}: registrado por la DIAN.")
    if state is SubmissionState.REJECTED:
        return EventOutcome(
            **base,
            kind=REJECTED,
            title=f"{name}: rechazado por la DIAN.",
            detail="La DIAN no registró el evento. Esto dice la DIAN y lo que puede hacer:",
            rules=explain_all([str(m) for m in event.dian_messages or []] or [event.last_error or ""]),
        )
    when = at_time(event.next_attempt_at, now) if event.next_attempt_at else ""
    if state is SubmissionState.SEND_FAILED and unresolved(event):
        return EventOutcome(
            **base,
            kind=QUEUED,
            title=f"{name}: la DIAN no da respuesta definitiva.",
            detail=f"Tras {event.attempts} intentos la DIAN sigue sin decidir ({_undecided(event)}); "
            "ya no se consulta sola. Reintente, o revise el evento en el portal de la DIAN.",
            retry=True,
        )
    if state is SubmissionState.SEND_FAILED and event.dian_status_code in NOT_FINAL_CODES:
        return EventOutcome(
            **base,
            kind=QUEUED,
            title=f"{name}: la DIAN aún no da respuesta definitiva; se volverá a consultar a {when}.",
            detail=f"La DIAN lo recibió pero no ha decidido ({_undecided(event)}).",
            retry=True,
        )
    if state is SubmissionState.SEND_FAILED:
        return EventOutcome(
            **base,
            kind=QUEUED,
            title=f"{name}: la DIAN no respondió; se reintentará a {when}.",
            detail=f"El evento está firmado y en cola: {failure_words(event)}. Se enviará solo; "
            "puede reintentar ahora.",
            retry=True,
        )
    if state is SubmissionState.SENT:
        return EventOutcome(**base, kind=QUEUED, title=f"{name}: enviado; esperando la respuesta de la DIAN.")
    return EventOutcome(
        **base,
        kind=QUEUED,
        title=f"{name}: firmado y en cola para la DIAN.",
        detail="Se enviará en cuanto la DIAN registre el evento anterior de esta factura, o puede reintentar ahora.",
        retry=True,
    )


@dataclass
class Result:
    """The result box: the worst kind among its items decides its colour and its role (alert for a rejection)."""

    items: list[EventOutcome]
    notes: list[tuple[str, str]] = field(default_factory=list)  # (kind, text) of results that are not events

    @property
    def kind(self) -> str:
        kinds = [i.kind for i in self.items] + [k for k, _ in self.notes]
        return max(kinds, key=lambda k: _SEVERITY.get(k, 1)) if kinds else QUEUED

    @property
    def role(self) -> str:
        return "alert" if self.kind in (REJECTED, ERROR) else "status"

    @property
    def heading(self) -> str:
        if not self.items:
            return {REGISTERED: "Hecho", ERROR: "No se pudo hacer"}.get(self.kind, "Para tener en cuenta")
        return {REGISTERED: "Registrado por la DIAN", REJECTED: "Rechazado por la DIAN", ERROR: "No se pudo hacer"}.get(
            self.kind, "Pendiente de la DIAN"
        )

    @property
    def retry(self) -> bool:
        return any(i.retry for i in self.items)


def result_box(events: list[DocumentEvent], waiting: Callable[[DocumentEvent], bool]) -> tuple[Result | None, bool]:
    """The result box of a page whose actions send events: what the last action came to (flashed by it; focused),
    else the page's events still waiting for DIAN (``waiting``; not focused). Returns (result, focus). A refused
    comment's text (category "draft") belongs to its form, not to the box."""
    ids: list[int] = []
    notes: list[tuple[str, str]] = []
    for category, message in get_flashed_messages(with_categories=True):
        if category == "draft":
            continue
        if category == "outcome" and isinstance(message, dict):
            ids.extend(int(i) for i in message.get("events", []) if str(i).isdigit())
        else:
            notes.append((FLASH_KINDS.get(category, QUEUED), str(message)))
    by_id = {e.id: e for e in events}
    items: list[EventOutcome] = [outcome_of(by_id[i]) for i in ids if i in by_id]
    if items or notes:
        return Result(items, notes), True
    pending = [outcome_of(e) for e in events if waiting(e)]
    return (Result(pending), False) if pending else (None, False)
