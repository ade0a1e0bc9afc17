"""Bulk actions from the inbox list: acknowledge (030) or mark received (030 + 032) the ticked documents.

Everything goes through events.service.emit_many (dian/rules.py decides per document), then deliver_now; the answer
is a page with one row per document saying what was sent, what DIAN said, and why anything was refused.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app, render_template, request
from flask_login import current_user

from dian.codes import EventCode
from events.emit import EventRequest
from store.models import Direction, DocumentEvent, ReceivedDocument, SubmissionState
from store.state import IN_FLIGHT
from web.document_labels import EVENT_SHORT, SUBMISSION_LABELS
from web.documents import UNAVAILABLE, person_of, profile_person

MAX_SELECTED = 200
BULK_ACTIONS = {
    "acuse": ("Acusar recibo (030)", (EventCode.ACUSE_RECIBO,)),
    "recibido": ("Marcar recibido (030 + 032)", (EventCode.ACUSE_RECIBO, EventCode.RECIBO_BIEN)),
}


def _done(db: Any, ids: list[int], code: EventCode) -> set[int]:
    """The documents on which this event is already registered, or ours and on its way to DIAN."""
    live = sa.or_(
        DocumentEvent.submission_state == SubmissionState.REGISTERED,
        sa.and_(DocumentEvent.direction == Direction.EMITTED, DocumentEvent.submission_state.in_(IN_FLIGHT)),
    )
    return set(
        db.scalars(
            sa.select(DocumentEvent.document_id).where(
                DocumentEvent.document_id.in_(ids), DocumentEvent.code == code, live
            )
        )
    )


def selected_ids(form: Any) -> list[int]:
    """The ticked document ids, in the order ticked, without repeats or junk."""
    seen: dict[int, None] = {}
    for value in form.getlist("ids"):
        if str(value).isdigit():
            seen[int(value)] = None
    return list(seen)[:MAX_SELECTED]


def run_bulk(form: Any) -> tuple[str, int]:
    """Send the chosen action on the ticked documents and render the result row by row."""
    db = current_app.extensions["buzon.db"]()
    action = form.get("action", "")
    if action not in BULK_ACTIONS:
        return render_template("bulk_result.html", title="Acción masiva", rows=[], problem="Acción desconocida."), 400
    title, codes = BULK_ACTIONS[action]
    ids = selected_ids(form)
    service = current_app.extensions.get("buzon.events")
    problem = None
    if not ids:
        problem = "No seleccionó ningún documento: marque las casillas de la bandeja y vuelva a intentarlo."
    elif service is None:
        problem = UNAVAILABLE
    if problem:
        return render_template("bulk_result.html", title=title, rows=[], problem=problem), 200
    documents = {d.id: d for d in db.scalars(sa.select(ReceivedDocument).where(ReceivedDocument.id.in_(ids)))}
    ids = [i for i in ids if i in documents]
    actor = current_user.actor
    person = person_of(profile_person(current_user.load(db)))
    outcome: dict[int, dict[str, dict[str, str]]] = {i: {} for i in ids}
    emitted_ids: dict[int, tuple[int, str]] = {}  # event id -> (document id, code)
    blocked: set[int] = set()  # a refused 030 makes the 032 after it pointless
    for code in codes:
        done = _done(db, ids, code)
        requests = []
        for i in ids:
            if i in done:
                outcome[i][code.value] = {"kind": "skip", "text": "Ya enviado antes"}
            elif i in blocked:
                outcome[i][code.value] = {"kind": "skip", "text": "No se envió (ver el evento anterior)"}
            else:
                requests.append((i, EventRequest(code, person=person)))
        if not requests:
            continue
        sent, refused = service.emit_many(requests, actor=actor, source=request.remote_addr)
        for emitted in sent:
            emitted_ids[emitted.id] = (emitted.document_id, code.value)
            outcome[emitted.document_id][code.value] = {"kind": "ok", "text": f"Firmado ({emitted.number})"}
        for document_id, reason in refused.items():
            outcome[document_id][code.value] = {"kind": "refused", "text": f"Rechazado: {reason}"}
            blocked.add(document_id)
    if emitted_ids:
        delivered = service.deliver_now(actor=actor)
        db.expire_all()
        for event in db.scalars(sa.select(DocumentEvent).where(DocumentEvent.id.in_(list(emitted_ids)))):
            document_id, code_value = emitted_ids[event.id]
            text = f"{SUBMISSION_LABELS[event.submission_state]} ({event.number})"
            if event.submission_state is SubmissionState.REJECTED:
                text += ": " + ("; ".join(str(m) for m in event.dian_messages or []) or event.last_error or "")
            elif delivered is None and event.submission_state is not SubmissionState.REGISTERED:
                text += "; la DIAN no responde ahora, se reintentará"
            kind = "refused" if event.submission_state is SubmissionState.REJECTED else "ok"
            outcome[document_id][code_value] = {"kind": kind, "text": text}
    rows = [
        {"doc": documents[i], "results": [(c.value, EVENT_SHORT[c.value], outcome[i].get(c.value)) for c in codes]}
        for i in ids
    ]
    return render_template("bulk_result.html", title=title, rows=rows, codes=codes, problem=None), 200
