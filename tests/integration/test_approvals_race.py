"""Four-eyes under a race (issue 20): two clerks ask for the same held event on the same invoice at the same instant,
from two threads, on SQLite and PostgreSQL. Exactly one request waits; both people are told it waits for approval
(the second that it was already asked for) — never that the event was signed by another simultaneous action."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from dian.codes import ClaimReason, EventCode
from events.emit import ApprovalPending, EventRefused, EventRequest
from store.models import Approval, ApprovalState, AuditEntry
from tests.integration.events_fixtures import EventsBed
from tests.integration.events_fixtures import events_bed as events_bed  # the fixture, re-exported
from tests.integration.test_approvals import four_eyes, received, service, users

pytestmark = pytest.mark.integration
ROUNDS = 4


def both_at_once(bed: EventsBed, doc_id: int, request: EventRequest) -> dict[str, BaseException | None]:
    """ana and beto ask for ``request`` on the same document, released by one barrier; what each got."""
    events = service(bed)
    barrier = threading.Barrier(2)
    outcome: dict[str, BaseException | None] = {}

    def ask(who: str) -> None:
        barrier.wait()
        try:
            events.emit(doc_id, request, actor=f"user:{who}", source="web")
            outcome[who] = None
        except BaseException as exc:  # the test reads it
            outcome[who] = exc

    threads = [threading.Thread(target=ask, args=(who,)) for who in ("ana", "beto")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcome


def test_two_clerks_asking_at_once_both_read_that_it_waits_for_approval(events_bed: EventsBed) -> None:
    bed = events_bed
    users(bed)
    documents = [received(bed) for _ in range(ROUNDS)]
    four_eyes(bed, events=("033",))  # every 033 waits for a second clerk
    accept = EventRequest(EventCode.ACEPTACION_EXPRESA)
    claim = EventRequest(EventCode.RECLAMO, claim_reason=ClaimReason.NOT_DELIVERED_TOTALLY, note="Faltan 2 cajas")
    for doc_id in documents:
        outcome = both_at_once(bed, doc_id, accept)
        assert all(isinstance(exc, ApprovalPending) for exc in outcome.values()), outcome
        held = {exc.approval_id for exc in outcome.values()}  # type: ignore[union-attr]
        assert len(held) == 1, outcome  # one request waits, both point at it
        approval_id = held.pop()
        words = sorted(exc.reason for exc in outcome.values() if exc is not None)
        assert all("Pendiente de aprobación" in w and f"n.º {approval_id}" in w for w in words), words
        assert sum("ya estaba pedida" in w for w in words) == 1, words  # the second learns it was already asked
        assert not any("simultánea" in w or "firmado" in w for w in words), words
        with bed.sessions() as s:
            rows = s.execute(sa.select(Approval).where(Approval.document_id == doc_id)).scalars().all()
            requested = s.execute(sa.select(sa.func.count()).select_from(AuditEntry).where(
                AuditEntry.action == "approval.requested", AuditEntry.subject == bed.document(doc_id).cufe)).scalar()
        assert [r.state for r in rows] == [ApprovalState.PENDING] and requested == 1
        assert [e.code for e in bed.events(doc_id)] == [EventCode.ACUSE_RECIBO, EventCode.RECIBO_BIEN]  # unsigned
    # A twin that is not held keeps its words: the one signed event, the other refused as signed simultaneously or
    # found queued (an event not under four-eyes).
    outcome = both_at_once(bed, documents[0], claim)
    signed = [who for who, exc in outcome.items() if exc is None]
    refused = [exc for exc in outcome.values() if exc is not None]
    assert len(signed) == 1 and len(refused) == 1 and isinstance(refused[0], EventRefused), outcome
    assert not isinstance(refused[0], ApprovalPending)
    assert "simultánea" in refused[0].reason or "en cola" in refused[0].reason, refused[0].reason
