"""Webhooks, the sending side: POST each pending webhook_deliveries row, signed, and retry with backoff.

The body is the JSON the producer (store/webhooks.py) fixed when the state changed. The receiver checks
``X-Buzon-Signature: sha256=<hex>``, the HMAC-SHA256 of ``<X-Buzon-Timestamp>.<body>`` under the shared secret, and
may refuse old timestamps against replays. A 2xx answer delivers; anything else (or no answer) is retried, doubling
the wait, until the configured number of attempts. Receivers should de-duplicate on ``X-Buzon-Delivery``: a crash
after the receiver's 2xx and before our commit sends that delivery again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from events.context import Backoff, utc_now
from store.models import WebhookDelivery, WebhookState

SIGNATURE_HEADER = "X-Buzon-Signature"
TIMESTAMP_HEADER = "X-Buzon-Timestamp"
DELIVERY_HEADER = "X-Buzon-Delivery"
EVENT_HEADER = "X-Buzon-Event"


@dataclass(frozen=True)
class WebhookTarget:
    """Where the webhooks go and how hard to try (from [webhooks] and the events' retry settings)."""

    url: str
    secret: str = field(repr=False)
    timeout: float = 10.0
    max_attempts: int = 10
    retry_seconds: int = 30
    retry_max_seconds: int = 3600


@dataclass
class WebhookReport:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"delivered": self.delivered, "retrying": self.retrying, "failed": self.failed,
                "skipped": self.skipped, "errors": self.errors[:5]}  # fmt: skip


def body_bytes(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact, sorted keys, UTF-8."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode("utf-8")


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """sha256=<hex> of HMAC-SHA256(secret, timestamp + "." + body): the timestamp is signed with the body."""
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


# (url, body, headers, timeout) -> HTTP status; raises OSError when there is no answer.
Post = Callable[[str, bytes, dict[str, str], float], int]


def http_post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST with urllib; the status of any answer (an HTTP error status is an answer too)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - configured URL
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code


def deliver_webhooks(
    sessions: sessionmaker[Session],
    target: WebhookTarget | None,
    *,
    now: datetime | None = None,
    post: Post = http_post,
    batch: int = 100,
) -> WebhookReport:
    """Send the deliveries that are due; without a target (no URL configured) they are marked skipped."""
    now = now or utc_now()
    report = WebhookReport()
    if target is None or not target.url:
        with sessions() as s:
            result = s.execute(
                sa.update(WebhookDelivery)
                .where(WebhookDelivery.state == WebhookState.PENDING)
                .values(state=WebhookState.SKIPPED, last_error="Sin URL de webhook configurada", updated_at=now)
            )
            s.commit()
            report.skipped = result.rowcount or 0
        return report
    with sessions() as s:
        due = list(
            s.scalars(
                sa.select(WebhookDelivery.id)
                .where(WebhookDelivery.state == WebhookState.PENDING, WebhookDelivery.next_attempt_at <= now)
                .order_by(WebhookDelivery.id)
                .limit(batch)
            )
        )
    for ident in due:
        _deliver_one(sessions, target, ident, now, post, report)
    return report


def _deliver_one(
    sessions: sessionmaker[Session], target: WebhookTarget, ident: int, now: datetime, post: Post, report: WebhookReport
) -> None:
    with sessions() as s:
        # Claimed under its row lock (another scheduler skips it); the lock is held through the POST so the
        # delivery is attempted once at a time.
        row = s.scalars(
            sa.select(WebhookDelivery)
            .where(WebhookDelivery.id == ident, WebhookDelivery.state == WebhookState.PENDING)
            .with_for_update(skip_locked=True)
        ).one_or_none()
        if row is None:
            return
        body = body_bytes(row.payload)
        timestamp = str(int(now.timestamp()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Buzon-Webhooks/1",
            EVENT_HEADER: row.event,
            DELIVERY_HEADER: str(row.id),
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(target.secret, timestamp, body),
        }
        row.attempts += 1
        try:
            status = post(target.url, body, headers, target.timeout)
            error = None if 200 <= status < 300 else f"HTTP {status}"
        except OSError as exc:  # no answer: refused, timed out, DNS
            status, error = None, f"{exc.__class__.__name__}: {exc}"[:500]
        row.last_status = status
        if error is None:
            row.state, row.delivered_at, row.last_error = WebhookState.DELIVERED, now, None
            report.delivered += 1
        elif row.attempts >= target.max_attempts:
            row.state, row.last_error = WebhookState.FAILED, error
            report.failed += 1
            report.errors.append(f"{row.id}: {error}")
        else:
            row.last_error, row.next_attempt_at = (
                error,
                now + Backoff(target.retry_seconds, target.retry_max_seconds).delay(row.attempts),
            )
            report.retrying += 1
            report.errors.append(f"{row.id}: {error}")
        s.commit()
