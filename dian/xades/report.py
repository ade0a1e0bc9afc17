"""The verification report: one graded check per rule (pass / warn / fail), and the verdict they come to."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from cryptography import x509
from lxml import etree

from dian.xades.references import _Detached, _has_comment
from dian.xmlsafe import parse_xml


class Outcome(StrEnum):
    """The outcome of one check."""

    PASS = "pass"  # noqa: S105 - an outcome, not a password
    WARN = "warn"
    FAIL = "fail"


class Verdict(StrEnum):
    """The overall verdict: any fail is invalid, any warn is valid_with_warnings."""

    VALID = "valid"
    VALID_WITH_WARNINGS = "valid_with_warnings"
    UNCONFIRMED = "unconfirmed"  # reception only: the signatures hold, DIAN's validation is not proven
    INVALID = "invalid"


@dataclass(frozen=True)
class Check:
    """One named check with its outcome and a sentence a clerk can read (Spanish)."""

    name: str
    outcome: Outcome
    detail: str

    def to_dict(self) -> dict[str, str]:
        """The check as a JSON-ready dict."""
        return {"name": self.name, "outcome": self.outcome.value, "detail": self.detail}


def verdict_of(checks: Iterable[Check]) -> Verdict:
    """Fold checks into a verdict: any fail → invalid, else any warn → valid_with_warnings, else valid."""
    outcomes = {c.outcome for c in checks}
    if Outcome.FAIL in outcomes:
        return Verdict.INVALID
    if Outcome.WARN in outcomes:
        return Verdict.VALID_WITH_WARNINGS
    return Verdict.VALID


class CheckResults:
    """Looking up checks by name and folding them into a verdict: shared by every report made of checks."""

    checks: tuple[Check, ...]

    @property
    def verdict(self) -> Verdict:
        """valid / valid_with_warnings / invalid."""
        return verdict_of(self.checks)

    def check(self, name: str) -> Check | None:
        """The check called ``name``, if present."""
        return next((c for c in self.checks if c.name == name), None)

    def outcome(self, name: str) -> Outcome | None:
        """The outcome of the check called ``name``, if present."""
        found = self.check(name)
        return found.outcome if found else None

    def reasons(self) -> list[str]:
        """One line per failed check."""
        return [f"{c.name}: {c.detail}" for c in self.checks if c.outcome == Outcome.FAIL]


@dataclass(frozen=True)
class SignatureReport(CheckResults):
    """The graded result of verifying one XAdES signature; ``signed_element`` is what the signature covers."""

    checks: tuple[Check, ...]
    certificate: x509.Certificate | None = field(default=None, compare=False, repr=False)
    signer_subject: str | None = None
    signer_issuer: str | None = None
    signer_serial: str | None = None
    signer_nit: str | None = None
    signing_time: dt.datetime | None = None
    claimed_role: str | None = None
    chain_status: str | None = None
    # The canonical bytes the enveloped reference digested; None when the signature did not verify.
    signed_c14n: bytes | None = field(default=None, compare=False, repr=False)
    # The tree those bytes were digested from and its signature element, when verify() owned that tree and the
    # reference covered its whole root: signed_element then detaches the signature instead of parsing the bytes again.
    digested_tree: tuple[etree._Element, etree._Element] | None = field(default=None, compare=False, repr=False)

    @property
    def signed_element(self) -> etree._Element | None:
        """The document as the enveloped reference covered it: exactly what was digested.

        Fields parsed from it are exactly the signed ones: neither a wrapped element, nor anything inside the
        ds:Signature, nor text split by comments can reach the caller. Built once, on first access: from the tree
        that was digested, with its signature removed as the enveloped transform removed it, when that tree holds no
        comment (the one node the digest of a whole document leaves out, and the one that can split a signed text);
        otherwise re-read from the digested bytes. Either way the two read alike (the tests compare them).
        """
        if self.signed_c14n is None:
            return None
        cached = self.__dict__.get("_signed_element")
        if cached is None:
            held = self.digested_tree
            if held is not None and not _has_comment(held[0]):
                root, signature = held
                _Detached(signature).__enter__()  # for good: the verifier owned this tree, and is done with it
                cached = root
            else:
                cached = parse_xml(self.signed_c14n)
            object.__setattr__(self, "_signed_element", cached)
            object.__setattr__(self, "digested_tree", None)
        return cached

    @property
    def core_valid(self) -> bool:
        """True when SignatureValue and the document digest both verified."""
        return self.outcome("signature") == Outcome.PASS and self.outcome("reference.document") == Outcome.PASS

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable view (no lxml or certificate objects)."""
        return {
            "verdict": self.verdict.value,
            "signer_subject": self.signer_subject,
            "signer_issuer": self.signer_issuer,
            "signer_serial": self.signer_serial,
            "signer_nit": self.signer_nit,
            "signing_time": self.signing_time.isoformat() if self.signing_time else None,
            "claimed_role": self.claimed_role,
            "chain_status": self.chain_status,
            "checks": [c.to_dict() for c in self.checks],
        }
