"""Habilitación test sets (radian-issuing-facts B.7): the quota of each TestSetId and what counted toward it.

A test set is configured by seed (``{"test_sets": [{"id", "invoices", "credit_notes", "debit_notes",
"delay_seconds"}]}``) or ``POST /_sim/test-sets``; an id never configured gets DIAN's admin-form default 2 invoices +
1 credit note + 1 debit note (B.7) the first time a document arrives for it. Every document sent with
SendTestSetAsync is recorded with its verdict; it counts once its upload is past its delay (GetStatusZip answers it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from dian.simulator.replies import Host, Reply

__all__ = ["DEFAULT_QUOTA", "TestSets"]

DEFAULT_QUOTA = {"invoices": 2, "credit_notes": 1, "debit_notes": 1}
_BUCKET = {"invoice": "invoices", "credit_note": "credit_notes", "debit_note": "debit_notes"}


class TestSets:
    """The simulator's test sets and their quotas."""

    __test__ = False  # not a pytest class

    def __init__(self, host: Host) -> None:
        self.sim = host

    def configure(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Set a test set's quota and delay (ValueError/KeyError/TypeError for a bad spec); returns its state."""
        test_set_id = str(spec["id"]).strip()
        if not test_set_id:
            raise ValueError("id: the TestSetId is required")
        values = {k: int(spec.get(k, DEFAULT_QUOTA[k])) for k in DEFAULT_QUOTA}
        delay = float(spec.get("delay_seconds", 0))
        if min(values.values()) < 0 or delay < 0:
            raise ValueError("quotas and delay_seconds must not be negative")
        self.sim.seed({"test_sets": [{"id": test_set_id, **values, "delay_seconds": delay}]})
        return self.describe(test_set_id)

    def delay(self, test_set_id: str) -> float:
        """Seconds before GetStatusZip answers this test set's uploads."""
        row = self.sim.store.one("SELECT delay_seconds FROM test_set WHERE id = ?", test_set_id)
        return float(row["delay_seconds"]) if row else 0.0

    def record(
        self,
        db: Any,
        test_set_id: str,
        zip_key: str,
        documents: Sequence[tuple[str, str | None, Reply]],
        now: dt.datetime,
    ) -> None:
        """Keep each document of an upload (kind, number, reply) under its test set, inside the upload's transaction."""
        db.execute(
            "INSERT OR IGNORE INTO test_set VALUES (?, ?, ?, ?, 0)",
            (test_set_id, DEFAULT_QUOTA["invoices"], DEFAULT_QUOTA["credit_notes"], DEFAULT_QUOTA["debit_notes"]),
        )
        for position, (kind, number, reply) in enumerate(documents):
            db.execute(
                "INSERT INTO test_set_document VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    test_set_id,
                    zip_key,
                    position,
                    kind,
                    number,
                    reply.key,
                    reply.status_code,
                    1 if reply.is_valid else 0,
                    now.isoformat(),
                ),
            )

    def describe(self, test_set_id: str) -> dict[str, Any]:
        """The test set's quota, what counted so far and whether it is complete (KeyError when unknown)."""
        row = self.sim.store.one("SELECT * FROM test_set WHERE id = ?", test_set_id)
        if row is None:
            raise KeyError(test_set_id)
        now = self.sim.clock().isoformat()
        rows = self.sim.store.all(
            "SELECT d.*, r.ready_at FROM test_set_document d LEFT JOIN upload_ready r ON r.zip_key = d.zip_key "
            "WHERE d.test_set_id = ? ORDER BY d.at, d.zip_key, d.position",
            test_set_id,
        )
        required = {k: int(row[k]) for k in DEFAULT_QUOTA}
        accepted = dict.fromkeys(DEFAULT_QUOTA, 0)
        rejected = dict.fromkeys(DEFAULT_QUOTA, 0)
        documents = []
        for r in rows:
            processed = r["ready_at"] is None or r["ready_at"] <= now
            bucket = _BUCKET.get(r["kind"])
            if processed and bucket:
                (accepted if r["accepted"] else rejected)[bucket] += 1
            documents.append(
                {
                    "zip_key": r["zip_key"],
                    "kind": r["kind"],
                    "number": r["number"],
                    "key": r["key"],
                    "status_code": r["status_code"] if processed else None,
                    "accepted": bool(r["accepted"]) if processed else None,
                    "processed": processed,
                    "sent_at": r["at"],
                }
            )
        complete = all(accepted[k] >= required[k] for k in DEFAULT_QUOTA)
        return {
            "id": test_set_id,
            "required": required,
            "accepted": accepted,
            "rejected": rejected,
            "complete": complete,
            "status": "Aceptado" if complete else "En proceso",
            "delay_seconds": float(row["delay_seconds"]),
            "documents": documents,
        }
