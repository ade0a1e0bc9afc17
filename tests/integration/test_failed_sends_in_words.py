"""Migration 0021 on SQLite and PostgreSQL: a queued event and a queued invoice whose last failed send was recorded
in the client's English (before the outboxes wrote Spanish) read in the clerk's words after `buzon init`; DIAN's own
refusal, a not-final answer and a row that is not queued are left as they were."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from dian.codes import DocumentType, Environment, EventCode
from store.models import Direction, DocumentEvent, OutboundDocument, OutboundState, SubmissionState
from tests.integration.upgrade_bed import database_at, init

pytestmark = pytest.mark.integration

# What the client wrote before (dian/soap/client.py, reply.py), and what the clerk now reads.
EVENTS = {
    "SendEventUpdateStatus: HTTP 503 without a SOAP answer":
        "el servicio de la DIAN respondió HTTP 503 (servicio no disponible)",
    "SendEventUpdateStatus: timed out after (5.0, 30.0) s: The read operation timed out":
        "la DIAN no respondió a tiempo",
    "SendEventUpdateStatus: connection failed or reset: [Errno 111] Connection refused":
        "no se pudo conectar con el servicio de la DIAN",
    "Regla 90 sin confirmar: GetStatusEvent: TLS failed: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed":
        "Regla 90 sin confirmar: falló la conexión segura (TLS) con la DIAN",
    "SOAP fault s:Sender: An error occurred when verifying security for the message.":
        "el servicio de la DIAN respondió con un error SOAP",
    "SendEventUpdateStatus: unreadable answer: no SOAP 1.2 envelope": "la respuesta de la DIAN no se pudo leer",
    "GetStatusEvent: the answer is longer than 10485760 bytes": "la respuesta de la DIAN no se pudo leer",
    # Already Spanish: left as written.
    "DIAN aún procesa el evento (98 En Proceso); se volverá a consultar (intento 1 de 8).":
        "DIAN aún procesa el evento (98 En Proceso); se volverá a consultar (intento 1 de 8).",
}  # fmt: skip


def _event(n: int, state: SubmissionState, error: str) -> dict[str, object]:
    return dict(id=n, code=EventCode.ACUSE_RECIBO, direction=Direction.EMITTED, cude=f"{n:096x}",
                submission_state=state, attempts=1, last_error=error, dian_messages=[],
                created_at=datetime.now(UTC), updated_at=datetime.now(UTC))  # fmt: skip


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_init_puts_the_old_english_of_queued_sends_in_words(kind: str, tmp_path: Path) -> None:
    english = "SendBillSync: HTTP 502 without a SOAP answer"
    with database_at(kind, tmp_path, "0020") as (engine, config):
        with engine.begin() as conn:
            for n, error in enumerate(EVENTS, 1):
                conn.execute(sa.insert(DocumentEvent.__table__).values(**_event(n, SubmissionState.SEND_FAILED, error)))
            # DIAN's refusal and a registered event's last words are not a queued send's: untouched.
            conn.execute(sa.insert(DocumentEvent.__table__).values(**_event(90, SubmissionState.REJECTED, english)))
            conn.execute(sa.insert(DocumentEvent.__table__).values(**_event(91, SubmissionState.REGISTERED, english)))
            conn.execute(sa.insert(OutboundDocument.__table__).values(
                id=1, document_type=DocumentType.INVOICE, environment=Environment.TESTING, number="SETP990000001",
                buyer_nit="900654321", buyer_name="Cliente S.A.S.", payable_amount=Decimal("119000.00"),
                state=OutboundState.SEND_FAILED, attempts=1, last_error=english,
                created_at=datetime.now(UTC), updated_at=datetime.now(UTC)))  # fmt: skip
        assert "upgraded from 0020" in init(config)
        with engine.connect() as conn:
            errors = dict(conn.execute(sa.select(DocumentEvent.id, DocumentEvent.last_error)).all())
            invoice = conn.scalar(sa.select(OutboundDocument.last_error))
        assert [errors[n] for n in range(1, len(EVENTS) + 1)] == list(EVENTS.values())
        assert errors[90] == errors[91] == english
        assert invoice == "el servicio de la DIAN respondió HTTP 502 (puerta de enlace inválida)"
