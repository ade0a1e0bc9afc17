"""The buyer who answers on its own: after DIAN validates a credit invoice, the simulator plays its buyer's events.

Policies (per buyer NIT, or ``*`` for every buyer; default ``off``), set by ``POST /_sim/buyer-policy``:

* ``off`` — nothing; the admin ``/_sim/counterparts`` actions stay manual.
* ``accept`` — acuse 030, recibo 032, then aceptación expresa 033.
* ``claim`` — 030, 032, then reclamo 031 with ``concept`` (01-04, default 02).
* ``silence`` — 030 and 032, then nothing: the seller may send its tacit 034 after three business days.

The events go through the counterparts (counterparts.py), i.e. DIAN's same checks; their outcomes are kept in
:attr:`BuyerPlay.log` (newest last) for ``GET /_sim/buyer-policy``.
"""

from __future__ import annotations

from typing import Any

from dian.codes import DocumentType, PaymentMeans
from dian.simulator.replies import Host
from dian.ubl.model import CommercialDocument

__all__ = ["POLICIES", "BuyerPlay"]

POLICIES = ("off", "accept", "claim", "silence")
_STEPS = {
    "accept": ("acknowledge", "receipt", "accept"),
    "claim": ("acknowledge", "receipt", "claim"),
    "silence": ("acknowledge", "receipt"),
}
_CONCEPTS = ("01", "02", "03", "04")
_LOG_SIZE = 100


class BuyerPlay:
    """Which buyers answer by themselves, and how."""

    def __init__(self, host: Host) -> None:
        self.sim = host
        self.log: list[dict[str, Any]] = []

    def set(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Set a policy from ``{"policy", "buyer_nit"?, "concept"?}`` (ValueError for a bad one); returns all."""
        policy = str(spec.get("policy", ""))
        if policy not in POLICIES:
            raise ValueError(f"policy: one of {', '.join(POLICIES)}, got {policy!r}")
        buyer = str(spec.get("buyer_nit") or "*").strip()
        if buyer != "*" and not buyer.isdigit():
            raise ValueError("buyer_nit: digits without check digit, or '*'")
        concept = str(spec.get("concept") or "02")
        if concept not in _CONCEPTS:
            raise ValueError(f"concept: one of {', '.join(_CONCEPTS)}")
        with self.sim.store.transaction() as db:
            db.execute("INSERT OR REPLACE INTO buyer_policy VALUES (?, ?, ?)", (buyer, policy, concept))
        return self.describe()

    def describe(self) -> dict[str, Any]:
        """The policies and the last automatic events."""
        rows = self.sim.store.all("SELECT * FROM buyer_policy ORDER BY buyer_nit")
        return {
            "policies": [{"buyer_nit": r["buyer_nit"], "policy": r["policy"], "concept": r["concept"]} for r in rows],
            "log": list(self.log),
        }

    def _policy(self, buyer_nit: str) -> tuple[str, str]:
        row = self.sim.store.one("SELECT policy, concept FROM buyer_policy WHERE buyer_nit = ?", buyer_nit)
        row = row or self.sim.store.one("SELECT policy, concept FROM buyer_policy WHERE buyer_nit = '*'")
        return (row["policy"], row["concept"] or "02") if row else ("off", "02")

    def after_validation(self, doc: CommercialDocument) -> None:
        """Play the buyer's policy on an invoice DIAN just validated (credit sales only: events need them, LGC62)."""
        if doc.document_type not in _INVOICES or doc.payment_means is not PaymentMeans.CREDIT:
            return
        policy, concept = self._policy(doc.customer.nit)
        from dian.simulator.counterparts import CounterpartError

        for action in _STEPS.get(policy, ()):
            spec: dict[str, Any] = {"action": action, "cufe": doc.uuid}
            if action == "claim":
                spec["concept"] = concept
            try:
                outcome = self.sim.counterparts.act(spec)
            except CounterpartError as exc:
                self._remember({"cufe": doc.uuid, "action": action, "registered": False, "errors": [str(exc)]})
                return
            entry = outcome.to_json()
            self._remember(
                {
                    "cufe": doc.uuid,
                    "number": doc.number,
                    "action": action,
                    "registered": entry["registered"],
                    "code": outcome.code.value,
                    "cude": entry.get("cude"),
                    "errors": entry.get("errors", []),
                }
            )
            if not entry["registered"]:
                return

    def _remember(self, entry: dict[str, Any]) -> None:
        self.log.append(entry)
        del self.log[:-_LOG_SIZE]


_INVOICES = frozenset(
    {
        DocumentType.INVOICE,
        DocumentType.EXPORT_INVOICE,
        DocumentType.CONTINGENCY_INVOICE,
        DocumentType.DIAN_CONTINGENCY_INVOICE,
    }
)
