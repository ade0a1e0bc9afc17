"""Checking a pack offline, from its bytes alone (no database): the seal's signature, the SHA-256 of SHA256SUMS it
signs, and every file against SHA256SUMS — a changed byte, a removed file or an added one is named."""

from __future__ import annotations

import hashlib
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from dian.trust import TrustStore
from store.archive.seal import SEAL_NAME, SUMS_NAME, SealError, VerifiedSeal, read_seal

_LINE = re.compile(r"^([0-9a-f]{64})  (.+)$")
MAX_SEAL = 1 << 20


@dataclass
class PackCheck:
    """The outcome: ``ok`` only when the seal verifies and every file is as listed."""

    seal: VerifiedSeal | None = None
    problems: list[str] = field(default_factory=list)  # one sentence per bad file (English, named)
    files: int = 0

    @property
    def ok(self) -> bool:
        return self.seal is not None and not self.problems


def _sha256(archive: zipfile.ZipFile, name: str) -> str:
    digest = hashlib.sha256()
    with archive.open(name) as member:
        while piece := member.read(1 << 16):
            digest.update(piece)
    return digest.hexdigest()


def _signer_problem(seal: VerifiedSeal, expect_nit: str | None) -> str | None:
    """The seal names a company; its certificate must be that company's (when the certificate carries a NIT), and
    the one the auditor expects."""
    company = seal.seal.company_nit.split("-")[0]
    if seal.signer_nit and seal.signer_nit != company:
        return f"{SEAL_NAME}: signed by NIT {seal.signer_nit}, but it names company {seal.seal.company_nit}"
    wanted = (expect_nit or "").split("-")[0].strip()
    if wanted and seal.signer_nit != wanted:
        return f"{SEAL_NAME}: signed by NIT {seal.signer_nit or '(none in the certificate)'}, expected {wanted}"
    return None


def verify_pack(path: str | Path, *, trust: TrustStore | None = None, expect_nit: str | None = None) -> PackCheck:
    """Check the pack at ``path`` (with ``expect_nit``, also who signed it); never raises on a bad pack (its problems
    are listed)."""
    check = PackCheck()
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        check.problems.append(f"{path}: not a readable zip ({exc})")
        return check
    with archive:
        names = archive.namelist()
        present = set(names)
        if len(present) != len(names):
            check.problems.append("the zip lists some file twice")
        if SEAL_NAME not in present or SUMS_NAME not in present:
            for name in (SEAL_NAME, SUMS_NAME):
                if name not in present:
                    check.problems.append(f"{name}: missing")
            return check
        if archive.getinfo(SEAL_NAME).file_size > MAX_SEAL:
            check.problems.append(f"{SEAL_NAME}: larger than any seal Buzón writes")
            return check
        try:
            check.seal = read_seal(archive.read(SEAL_NAME), trust=trust)
            if problem := _signer_problem(check.seal, expect_nit):
                check.problems.append(problem)
        except SealError as exc:
            check.problems.append(str(exc))
        except zipfile.BadZipFile as exc:
            check.problems.append(f"{SEAL_NAME}: unreadable ({exc})")
        try:
            sums_digest = _sha256(archive, SUMS_NAME)
        except zipfile.BadZipFile as exc:
            check.problems.append(f"{SUMS_NAME}: unreadable ({exc})")
            return check
        if check.seal is not None and sums_digest != check.seal.seal.sums_sha256:
            check.problems.append(f"{SUMS_NAME}: its SHA-256 is not the one the seal signs (changed)")
        listed: set[str] = set()
        with archive.open(SUMS_NAME) as sums:
            for number, raw in enumerate(sums, 1):
                match = _LINE.match(raw.decode("utf-8", "replace").rstrip("\n"))
                if match is None:
                    check.problems.append(f"{SUMS_NAME}: line {number} is not '<sha256>  <path>'")
                    continue
                expected, name = match.groups()
                listed.add(name)
                check.files += 1
                if name not in present:
                    check.problems.append(f"{name}: missing (listed in {SUMS_NAME})")
                    continue
                try:
                    actual = _sha256(archive, name)
                except (zipfile.BadZipFile, OSError) as exc:
                    check.problems.append(f"{name}: unreadable ({exc})")
                    continue
                if actual != expected:
                    check.problems.append(f"{name}: SHA-256 {actual} differs from {expected} (changed)")
        if check.seal is not None and check.files != check.seal.seal.files:
            check.problems.append(f"{SUMS_NAME}: lists {check.files} files, the seal {check.seal.seal.files}")
        for name in names:
            if name not in listed and name not in (SEAL_NAME, SUMS_NAME):
                check.problems.append(f"{name}: not listed in {SUMS_NAME} (added)")
    return check
