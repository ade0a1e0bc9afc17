"""DIAN's keys for a run: what DIAN's signature may be anchored in while intake verifies — the policy's trust store
and pins, and the certificates learned from DIAN itself (read once per run, and added to as the run learns more)."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from dian.proof import DianKeys, LearnedCertificate
from inbox.intake.terms import IntakePolicy
from inbox.intake.tx import Tx
from store.dian_certificates import learn, learned_pins


class RunKeys:
    """The ``dian.proof.DianKeys`` of the current run: ``forget`` at the start of a run, so the certificates learned
    meanwhile (by any process) count from then on."""

    def __init__(self, sessions: sessionmaker[Session], policy: IntakePolicy) -> None:
        self.sessions = sessions
        self.policy = policy
        self._keys: DianKeys | None = None

    def __call__(self) -> DianKeys:
        """The keys, read from the database on first use in a run."""
        if self._keys is None:
            with self.sessions() as s:
                learned = learned_pins(s)
            self._keys = DianKeys.of(self.policy.trust, self.policy.dian_pins, learned)
        return self._keys

    def forget(self) -> None:
        """Read the learned certificates again on next use."""
        self._keys = None

    def learn(self, conn: Tx, cert: LearnedCertificate, *, at: datetime, actor: str) -> None:
        """Remember DIAN's certificate that an online confirmation verified; this run proves its answers from now."""
        learn(conn, cert, at=at, actor=actor)
        keys = self()
        self._keys = dataclasses.replace(keys, learned=keys.learned | frozenset(cert.pins))
