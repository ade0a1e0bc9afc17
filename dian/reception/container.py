"""The AttachedDocument's own signature, weighed last (dian-facts 3.3.6)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from lxml import etree

from dian.cdata import SetAside
from dian.proof import UNCONFIRMED, Level
from dian.trust import TrustStore
from dian.xades import Check, Outcome, SignatureReport, verify


def _can_change_verdict(checks: Iterable[Check], level: Level) -> bool:
    """Whether a warning could still change the verdict: nothing has failed or warned so far, except "sin confirmar"
    warnings (which an online confirmation may settle later, ``settle_confirmed``), and DIAN's word is not invalid."""
    if level is Level.INVALID:
        return False
    return all(
        c.outcome is Outcome.PASS or (c.outcome is Outcome.WARN and c.detail.startswith(UNCONFIRMED)) for c in checks
    )


@dataclass
class ContainerSignature:
    """The AttachedDocument's own signature, weighed last (dian-facts 3.3.6): it is optional and often copied rather
    than computed, so it can only pass or warn, never fail; a warning changes the verdict only of a document that has
    nothing else against it (valid → valid with warnings). So it is verified only then: when the document already
    warns or fails on its own, the check says the signature was not verified and why, and ``report`` stays None."""

    root: etree._Element | None = None  # the container's tree, held while a signature on it is pending
    trust: TrustStore | None = None
    now: dt.datetime | None = None
    aside: SetAside | None = None  # the payloads set aside when the tree was parsed: C14N puts their text back
    report: SignatureReport | None = None
    signed: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.signed = self.root is not None

    def settled(self, checks: list[Check], level: Level) -> tuple[Check, ...]:
        """``checks`` with the container's check added (verifying its signature when it can change the verdict)."""
        root, self.root = self.root, None
        if not self.signed:
            check = Check("container.signature", Outcome.PASS, "el contenedor no está firmado (la firma es opcional)")
        elif not _can_change_verdict(checks, level):
            check = Check(
                "container.signature",
                Outcome.PASS,
                "la firma del contenedor no se verificó: es opcional y no cambiaría el veredicto, porque el documento "
                "ya tiene advertencias o fallas propias",
            )
        else:
            assert root is not None and self.trust is not None
            aside = self.aside.canonical() if self.aside is not None else ()
            self.report = report = verify(root, trust=self.trust, now=self.now, owned=True, set_aside=aside)
            if report.core_valid:
                check = Check(
                    "container.signature", Outcome.PASS, f"la firma del contenedor verifica ({report.signer_subject})"
                )
            else:
                reasons = "; ".join(report.reasons()[:2])
                check = Check(
                    "container.signature",
                    Outcome.WARN,
                    "la firma del contenedor no verifica (es opcional y suele copiarse de la factura; no afecta la "
                    f"validez del documento): {reasons}",
                )
        return (*checks, check)
