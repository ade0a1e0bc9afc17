"""Webhooks end to end on SQLite and PostgreSQL: a state change enqueues a delivery in its own transaction, and the
sender POSTs it, signed, to a real HTTP receiver (http.server in a thread) that fails once, then accepts it."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from buzon.config import ConfigError, parse_settings
from dian.codes import DocumentState, DocumentType, Environment
from events.webhooks import WebhookTarget, deliver_webhooks, signature
from store.models import ReceivedDocument, Verdict, WebhookDelivery, WebhookState

pytestmark = pytest.mark.integration

SECRET = "un-secreto-compartido-de-prueba"


class Receiver:
    """A real HTTP server on a loopback port that answers each POST with the next status in ``statuses``."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = list(statuses)
        self.received: list[tuple[dict[str, str], bytes, int]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                receiver.received.append((dict(self.headers), body, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/buzon"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


def verify(headers: dict[str, str], body: bytes, secret: str = SECRET) -> bool:
    """What a receiver does: recompute the HMAC over timestamp + "." + body and compare in constant time."""
    timestamp = headers["X-Buzon-Timestamp"]
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers["X-Buzon-Signature"], f"sha256={expected}")


@pytest.fixture
def sessions(engine):
    """Real commits (the sender uses its own sessions); the tables are emptied afterwards."""
    from sqlalchemy.orm import sessionmaker

    factory = sessionmaker(engine, expire_on_commit=False)
    yield factory
    with factory() as s:
        s.execute(sa.delete(WebhookDelivery))
        s.execute(sa.delete(ReceivedDocument).where(ReceivedDocument.cufe.like("webhook%")))
        s.commit()


def _document(s: Session) -> ReceivedDocument:
    doc = ReceivedDocument(
        cufe="webhook" + "0" * 89, document_type=DocumentType.INVOICE, environment=Environment.PRODUCTION,
        number="FE900", issuer_nit="900000001", issuer_name="Proveedor Webhook S.A.S.", buyer_nit="900123456",
        buyer_name="Empresa Demo S.A.S.", issue_date=date(2025, 3, 3), issued_at=datetime(2025, 3, 3, tzinfo=UTC),
        line_extension_amount=Decimal(100), tax_exclusive_amount=Decimal(100), tax_inclusive_amount=Decimal(119),
        payable_amount=Decimal("119.00"), signed_xml_blob="b" * 64, verdict=Verdict.VALID,
    )  # fmt: skip
    s.add(doc)
    s.commit()
    return doc


def test_a_state_change_enqueues_once_with_the_change_and_a_rollback_enqueues_nothing(sessions):
    with sessions() as s:
        doc = _document(s)
        assert s.scalar(sa.select(sa.func.count()).select_from(WebhookDelivery)) == 0  # an arrival is no change
        doc.state = DocumentState.ACKNOWLEDGED
        s.rollback()
        assert s.scalar(sa.select(sa.func.count()).select_from(WebhookDelivery)) == 0
        doc = s.get(ReceivedDocument, doc.id)
        doc.state = DocumentState.VALIDATED  # assigned but unchanged (refresh_state does this)
        s.commit()
        assert s.scalar(sa.select(sa.func.count()).select_from(WebhookDelivery)) == 0
        doc.state = DocumentState.ACKNOWLEDGED
        s.commit()
        (delivery,) = s.scalars(sa.select(WebhookDelivery)).all()
        assert delivery.document_id == doc.id
        assert delivery.state is WebhookState.PENDING
        assert delivery.payload["event"] == "document.state_changed"
        assert delivery.payload["document"] | {"window_ends_at": None} == {
            "cufe": doc.cufe, "number": "FE900", "document_type": "01", "issuer_nit": "900000001",
            "issuer_name": "Proveedor Webhook S.A.S.", "buyer_nit": "900123456", "issue_date": "2025-03-03",
            "payable_amount": "119.0000",
            "currency": "COP", "state": "acknowledged", "previous_state": "validated", "window_ends_at": None,
        }  # fmt: skip


def test_signed_delivery_retried_after_a_500_and_delivered_once(sessions):
    with sessions() as s:
        doc = _document(s)
        doc.state = DocumentState.ACKNOWLEDGED
        s.commit()
        doc.state = DocumentState.GOODS_RECEIVED
        s.commit()
    now = datetime.now(UTC) + timedelta(seconds=1)
    with Receiver([500]) as receiver:
        target = WebhookTarget(receiver.url, SECRET, timeout=5, max_attempts=3, retry_seconds=30)
        first = deliver_webhooks(sessions, target, now=now)
        assert (first.delivered, first.retrying) == (1, 1)  # the first got the 500, the second went through
        assert first.errors and "HTTP 500" in first.errors[0]
        assert deliver_webhooks(sessions, target, now=now + timedelta(seconds=10)).delivered == 0  # backing off
        second = deliver_webhooks(sessions, target, now=now + timedelta(seconds=31))
        assert second.delivered == 1
        assert deliver_webhooks(sessions, target, now=now + timedelta(hours=1)).as_dict()["delivered"] == 0
    statuses = [status for _, _, status in receiver.received]
    assert statuses == [500, 200, 200]
    for headers, body, _ in receiver.received:
        assert verify(headers, body)
        assert not verify(headers, body, secret="otro-secreto-cualquiera")
        assert headers["X-Buzon-Event"] == "document.state_changed"
        assert headers["Content-Type"] == "application/json; charset=utf-8"
    bodies = [json.loads(body) for _, body, _ in receiver.received]
    assert [b["document"]["state"] for b in bodies] == ["acknowledged", "goods_received", "acknowledged"]
    delivered_ids = sorted(h["X-Buzon-Delivery"] for h, _, status in receiver.received if status == 200)
    assert len(set(delivered_ids)) == 2  # each delivered exactly once
    with sessions() as s:
        rows = s.scalars(sa.select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
        assert [(r.state, r.attempts, r.last_status) for r in rows] == [
            (WebhookState.DELIVERED, 2, 200), (WebhookState.DELIVERED, 1, 200)
        ]  # fmt: skip


def test_gives_up_after_max_attempts_and_an_unreachable_receiver_is_retried(sessions):
    with sessions() as s:
        doc = _document(s)
        doc.state = DocumentState.ACKNOWLEDGED
        s.commit()
    now = datetime.now(UTC) + timedelta(seconds=1)
    with Receiver([503, 503]) as receiver:
        target = WebhookTarget(receiver.url, SECRET, timeout=5, max_attempts=2, retry_seconds=1)
        assert deliver_webhooks(sessions, target, now=now).retrying == 1
        assert deliver_webhooks(sessions, target, now=now + timedelta(seconds=2)).failed == 1
        closed = receiver.url
    with sessions() as s:
        row = s.scalars(sa.select(WebhookDelivery)).one()
        assert (row.state, row.attempts, row.last_error) == (WebhookState.FAILED, 2, "HTTP 503")
        row.state, row.attempts = WebhookState.PENDING, 0
        s.commit()
    nobody = deliver_webhooks(
        sessions, WebhookTarget(closed, SECRET, timeout=1, max_attempts=5), now=now + timedelta(seconds=9)
    )
    assert nobody.retrying == 1
    assert "URLError" in nobody.errors[0] or "ConnectionRefused" in nobody.errors[0]


def test_without_a_url_pending_deliveries_are_skipped(sessions):
    with sessions() as s:
        doc = _document(s)
        doc.state = DocumentState.ACKNOWLEDGED
        s.commit()
    assert deliver_webhooks(sessions, None).skipped == 1
    with sessions() as s:
        assert s.scalars(sa.select(WebhookDelivery.state)).one() is WebhookState.SKIPPED


def test_the_signature_covers_the_timestamp():
    assert signature(SECRET, "1700000000", b"{}") != signature(SECRET, "1700000001", b"{}")


@pytest.mark.parametrize(
    ("webhooks", "message"),
    [
        ({"url": "ftp://x.test/h", "secret": SECRET}, "webhooks.url: expected an http(s):// URL"),
        ({"url": "http://erp.example.com/h", "secret": SECRET}, "webhooks.url: plain http is only allowed"),
        ({"url": "https://erp.example.com/h", "secret": "corto"}, "webhooks.secret"),
        ({"url": "https://erp.example.com/h", "secret": SECRET, "max_attempts": 0}, "webhooks.max_attempts"),
        ({"url": "https://erp.example.com/h", "secret": SECRET, "timeout": 0}, "webhooks.timeout"),
        ({"urls": "https://erp.example.com/h"}, "webhooks.urls: unknown key"),
    ],
)
def test_the_webhooks_settings_are_checked(tmp_path, webhooks, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_settings({"webhooks": webhooks}, base=tmp_path, env={})
    ok = parse_settings({"webhooks": {"url": "http://127.0.0.1:9/h", "secret": "env:S"}}, base=tmp_path,
                        env={"S": SECRET})  # fmt: skip
    assert ok.webhooks.secret == SECRET
    assert SECRET not in repr(ok.webhooks)
