"""What issuing needs from the shell, gathered once by buzon/runtime.py: who issues and signs, the environment, where
blobs go, what DIAN's signature may be anchored in, and the outbox's pacing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from dian.codes import Environment
from dian.proof import DianKeys
from issuing.document import Issuer
from store.blobs import BlobStore
from store.retry import Backoff, utc_now

__all__ = ["Backoff", "IssuingContext", "utc_now"]



@dataclass(frozen=True)
class IssuingContext:
    """Our company as issuer (party, software, certificate), the environment and the collaborators issuing uses."""

    issuer: Issuer
    environment: Environment
    blobs: BlobStore
    keys: DianKeys
    # GetNumberingRange's accountCodeT: the NIT of the software's owner (the company itself for own software).
    software_owner_nit: str = ""
    backoff: Backoff = field(default_factory=Backoff)
    lease_seconds: float = 300.0  # a document marked "sent" whose answer never came is sent again after this
    note_prefixes: tuple[str, str] = ("NC", "ND")  # our own series for credit and debit notes
    clock: Callable[[], datetime] = utc_now

    @property
    def nit(self) -> str:
        """Our NIT, without its check digit."""
        return self.issuer.party.nit

    @property
    def owner_nit(self) -> str:
        """accountCodeT of GetNumberingRange."""
        return self.software_owner_nit or self.issuer.software.provider_nit
