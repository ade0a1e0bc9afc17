"""DIAN's event rules as one table: who may send each event 030-051, what must precede it, what excludes it, its window.

Sources: dian-facts.md 2.2 and 2.4 (DIAN's 2022 platform code, Código de Comercio art. 773) and, for 035-051,
radian-issuing-facts.md A.3-A.13. Rule codes are DIAN's where the sources name one; ``None`` where they do not.
Refusal reasons are Spanish sentences for a clerk. Everything is pure: the caller passes the facts and the moment.

The package, one noun a module: ``roles`` (who acts), ``rule`` (the shape of a row), ``table`` (the rows, ``RULES``),
``facts`` (what is known about the document, who sends what), ``decision`` (the answer), ``words`` (the Spanish
phrasing), ``windows`` (the time windows), ``check`` (``check``, ``allowed_events``, ``sender_refusal``) and
``state`` (``derive_state``). Import the public names from here.
"""

from __future__ import annotations

from dian.rules.check import allowed_events, check, sender_refusal
from dian.rules.decision import Decision
from dian.rules.facts import DocumentFacts, Sending
from dian.rules.roles import Role, title_role
from dian.rules.rule import EventRule, OperationRule, Window
from dian.rules.state import derive_state
from dian.rules.table import RULES

__all__ = [
    "RULES",
    "Decision",
    "DocumentFacts",
    "EventRule",
    "OperationRule",
    "Role",
    "Sending",
    "Window",
    "allowed_events",
    "check",
    "derive_state",
    "sender_refusal",
    "title_role",
]
