"""`buzon verify`: the verification report of each document in .xml, .zip and .eml files."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from buzon.commands.options import with_settings
from buzon.config import Settings
from buzon.runtime import trust_store

if TYPE_CHECKING:
    from dian.reception import ReceptionReport
    from dian.trust import TrustStore

SYMBOLS = {"pass": "✓", "warn": "!", "fail": "✗", "info": "·"}


@dataclass(frozen=True)
class Result:
    """One verified document (or one unreadable input) as `buzon verify` prints it."""

    file: str
    verdict: str
    report: ReceptionReport | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON line: the fields read from the signed document, and every check."""
        report = self.report
        doc = (report.document or report.unverified_document) if report else None
        checks = [c.to_dict() for c in report.checks] if report else []
        if self.error:
            checks.append({"name": "input", "outcome": "fail", "detail": self.error})
        return {
            "file": self.file,
            "verdict": self.verdict,
            "document_type": doc.document_type.value if doc else None,
            "number": doc.number if doc else None,
            "issuer_nit": doc.supplier.nit if doc else None,
            "buyer_nit": doc.customer.nit if doc else None,
            "cufe": doc.uuid if doc else None,
            "payable_amount": str(doc.monetary_total.payable) if doc else None,
            "issue_date": doc.issue_date.isoformat() if doc else None,
            "line_count": len(doc.lines) if doc else None,
            # False unless DIAN's answer is proven (offline) or confirmed (online): "unconfirmed" is its own verdict.
            "dian_validated": bool(report and report.dian_validated),
            "dian_proof": report.dian_proof.value if report else None,
            # The fields above come from a signature that did not verify: what the document claims, unproven.
            "proven": bool(report and report.document is not None),
            "event": report.to_dict()["event"] if report and report.kind == "event" else None,
            "checks": checks,
        }


def verify_paths(
    paths: list[Path], *, trust: TrustStore, pins: tuple[str, ...], our_nit: str | None
) -> Iterator[Result]:
    """Verify every document found in the given files, in order."""
    from dian.reception import verify_received  # start-up time: verification only when verifying
    from inbox.unpack import UnpackError, unpack

    for path in paths:
        data = path.read_bytes()
        try:
            parts = [p for p in unpack(data, str(path)) if p.kind == "xml"]
        except UnpackError as exc:
            yield Result(str(path), "unreadable", error=str(exc))
            continue
        if not parts:
            yield Result(str(path), "unreadable", error="no electronic document (XML) inside")
            continue
        for part in parts:
            report = verify_received(part.data, trust=trust, our_nit=our_nit, dian_pins=pins)
            verdict = "unreadable" if report.unreadable else report.verdict.value
            yield Result(part.name, verdict, report=report)


def render_text(result: Result) -> str:
    """A report a person reads: the verdict, the document, then one line per check."""
    lines = [f"{result.file}: {result.verdict}"]
    if result.error:
        lines.append(f"  ✗ {result.error}")
    report = result.report
    if report is not None:
        doc = report.document or report.unverified_document
        if doc is not None:
            unproven = "" if report.document is not None else " (sin probar: la firma no verifica; dice ser)"
            lines.append(
                f"  {doc.document_type.label} {doc.number} de {doc.supplier.registration_name} (NIT {doc.supplier.nit})"
                f" para NIT {doc.customer.nit}, {doc.issue_date.isoformat()}, total {doc.monetary_total.payable}"
                f" {doc.currency}{unproven}"
            )
            lines.append(f"  CUFE/CUDE {doc.uuid}")
        event = report.event or report.unverified_event
        if event is not None:
            ref = event.document_reference
            unproven = "" if report.event is not None else " (sin probar)"
            lines.append(
                f"  Evento {event.response_code} {event.id} del NIT {event.sender.nit} al NIT {event.receiver.nit}"
                f" sobre {ref.id if ref else '?'} (CUFE {ref.uuid if ref else '?'}){unproven}"
            )
        if report.kind in {"attached_document", "invoice", "credit_note", "debit_note", "event", "dian_answer"}:
            proof = "validada por DIAN" if report.dian_validated else "validación DIAN sin confirmar"
            if report.dian_proof.value == "invalid":
                proof = "sin validación DIAN válida"
            lines.append(f"  DIAN: {proof}")
        for check in report.checks:
            lines.append(f"  {SYMBOLS.get(check.outcome.value, '?')} {check.name}: {check.detail}")
        for note in report.notifications:
            lines.append(f"  · DIAN {note.code}: {note.description}")
    return "\n".join(lines)


def render_json(result: Result) -> str:
    """One JSON object on one line."""
    return json.dumps(result.to_json(), ensure_ascii=False)


@click.command()
@with_settings
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per document, one per line.")
@click.option(
    "--check-buyer/--no-check-buyer",
    default=False,
    help="Also require the buyer to be our company (company.nit); intake always does.",
)
def verify(settings: Settings, paths: tuple[Path, ...], as_json: bool, check_buyer: bool) -> None:
    """Verify the documents in .xml, .zip and .eml files: signatures, DIAN's validation, and the fields they sign.

    Exit 0 when every document is valid or valid_with_warnings, 1 when any is invalid or unreadable.
    """
    trust = trust_store(settings)
    our_nit = settings.company.nit_number if check_buyer else None
    failed = False
    for result in verify_paths(list(paths), trust=trust, pins=settings.dian.pinned_dian_certificates, our_nit=our_nit):
        click.echo(render_json(result) if as_json else render_text(result))
        failed |= result.verdict in {"invalid", "unreadable"}
    sys.exit(1 if failed else 0)
