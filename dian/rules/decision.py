"""The answer of the rules: a Decision (may the event be sent now; if not, the Spanish reason and DIAN's rule)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    """May the event be sent now; if not, why (a Spanish sentence) and which DIAN rule says so."""

    allowed: bool
    reason: str
    rule: str | None = None


def refuse(reason: str, rule: str | None) -> Decision:
    return Decision(allowed=False, reason=reason, rule=rule)
