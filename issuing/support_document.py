"""A documento soporte (05) or its adjustment note (95) request → signed UBL with its CUDS, QR text and zip.

Totals come from issuing/totals.py (the seller sits in the payload's ``customer``, so every amount is computed the way
an invoice's is); the line withholdings of a 05 are added here (ReteIVA on the line's IVA, ReteRenta on its amount,
grouped into the document's cac:WithholdingTaxTotal; never subtracted from PayableAmount, C.3). The draft is
issuing.document.draft_of's with the roles inverted (C.1): the seller is AccountingSupplierParty, we are
AccountingCustomerParty, and our software, range and certificate sign it. Nothing is read from configuration or the
clock here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from dian.codes import DocumentType, Environment
from dian.errors import BuildError, SignatureError
from dian.soap.packaging import zip_one
from dian.support.build import Generation, SupportDraft, SupportKey, build_support, support_key
from dian.ubl.build import DraftLine
from dian.ubl.model import BillingReference, DiscrepancyResponse, TaxTotal
from dian.xades import sign
from issuing.document import BOGOTA, Issuer, Numbering, _numbering_problems, _subtotal, _tax_totals, draft_of
from issuing.problems import PayloadError, Problem
from issuing.support_request import SupportRequest
from issuing.totals import TaxAmount, TaxGroup, Totals, check_declared, compute_totals, group_amounts, percent_of

__all__ = ["IssuedSupport", "issue_support", "support_totals"]

_FILE_PREFIX = {DocumentType.SUPPORT_DOCUMENT: "ds", DocumentType.SUPPORT_ADJUSTMENT: "nas"}  # [?] no source names them
_NAMES = {"05": "ReteIVA", "06": "ReteRenta"}


@dataclasses.dataclass(frozen=True)
class IssuedSupport:
    """A signed 05 or 95: its totals, line withholdings, number, CUDS (``key``), signed bytes and zip."""

    request: SupportRequest
    totals: Totals
    line_withholdings: tuple[tuple[TaxAmount, ...], ...]
    number: str
    issued_at: dt.datetime
    key: SupportKey
    xml: bytes
    file_name: str
    zip_name: str

    @property
    def zip_bytes(self) -> bytes:
        """The zip DIAN receives: what the client sends (``zip_one``), byte for byte."""
        return zip_one(self.file_name, self.xml)

    @property
    def uuid(self) -> str:
        return self.key.value

    @property
    def qr_text(self) -> str:
        return self.key.qr_text


def support_totals(request: SupportRequest) -> tuple[Totals, tuple[tuple[TaxAmount, ...], ...]]:
    """The totals of a 05/95 and each line's withholdings (grouped into ``totals.withholdings``)."""
    totals = compute_totals(request.payload)
    per_line = []
    problems = []
    for index, (line, held) in enumerate(zip(totals.lines, request.withholdings or (), strict=False)):
        iva = sum((tax.amount for tax in line.taxes if tax.scheme == "01"), Decimal("0.00"))
        found = []
        for item in held:
            base = iva if item.scheme == "05" else line.line_extension
            if item.scheme == "05" and iva == 0:
                problems.append(Problem(f"/lines/{index}/withholdings", "ReteIVA se calcula sobre el IVA y la línea "
                                        "no tiene IVA"))  # fmt: skip
            found.append(TaxAmount(item.scheme, _NAMES[item.scheme], base, percent_of(base, item.rate), rate=item.rate))
        per_line.append(tuple(found))
    if problems:
        raise PayloadError(problems)
    per_line += [()] * (len(totals.lines) - len(per_line))
    groups: tuple[TaxGroup, ...] = group_amounts(item for line in per_line for item in line)
    return dataclasses.replace(totals, withholdings=groups), tuple(per_line)


def _draft(request: SupportRequest, totals: Totals, withholdings: tuple[tuple[TaxAmount, ...], ...], *,
           issuer: Issuer, number: str, issued_at: dt.datetime, environment: Environment) -> SupportDraft:  # fmt: skip
    payload = request.payload
    # draft_of writes the payload's customer (our seller) as the customer: swap the roles (C.1).
    base = draft_of(dataclasses.replace(payload, type=DocumentType.INVOICE, reference=None, concept=None), totals,
                    supplier=issuer.party, number=number, issued_at=issued_at, environment=environment)  # fmt: skip
    lines = tuple(
        dataclasses.replace(line, withholdings=tuple(TaxTotal(t.amount, (_subtotal(t),)) for t in held))
        if isinstance(line, DraftLine) else line
        for line, held in zip(base.lines, withholdings, strict=True)
    )  # fmt: skip
    reference = payload.reference
    draft = dataclasses.replace(
        base,
        supplier=base.customer,
        customer=issuer.party,
        document_type=payload.type,
        lines=lines,
        withholdings=_tax_totals(totals.withholdings),
        billing_references=(
            BillingReference(reference.number, reference.uuid, reference.uuid_scheme, reference.issue_date),
        )
        if reference is not None
        else (),
        discrepancy_response=DiscrepancyResponse(reference.number, payload.concept, payload.concept_description)
        if reference is not None and payload.concept is not None
        else None,
    )
    generations = tuple(Generation(mode, start) for mode, start in (g for g in request.generations if g))
    return SupportDraft(draft=draft, resident=request.resident, generations=generations)


def _date_problems(request: SupportRequest, day: dt.date) -> list[Problem]:
    problems = []
    for index, generation in enumerate(request.generations):
        if generation is None:
            continue
        mode, start = generation
        if start > day:
            problems.append(Problem(f"/lines/{index}/generation/start", f"empieza después de la expedición ({day})"))
        elif mode == "2" and (day - start).days > 13:
            problems.append(Problem(f"/lines/{index}/generation/start", "un acumulado semanal empieza en la semana "
                                    f"de la compra; {start} es muy anterior a {day}"))  # fmt: skip
    reference = request.payload.reference
    if reference is not None and reference.issue_date > day:
        problems.append(Problem("/reference/issue_date", "el documento soporte referenciado es posterior a la nota"))
    return problems


def issue_support(
    request: SupportRequest,
    *,
    issuer: Issuer,
    numbering: Numbering,
    environment: Environment,
    issued_at: dt.datetime,
) -> IssuedSupport:
    """Compute, build, key (CUDS), sign and zip one 05/95; PayloadError lists every reason it cannot be issued."""
    if issued_at.tzinfo is None or issued_at.utcoffset() is None:
        raise ValueError(f"issued_at must carry a UTC offset, got {issued_at!r}")
    day = issued_at.astimezone(BOGOTA).date()
    totals, withholdings = support_totals(request)
    problems = [*check_declared(totals, request.payload.declared), *_date_problems(request, day)]
    if request.kind is DocumentType.SUPPORT_DOCUMENT:
        # The invoice's range checks (prefix, number inside, resolution in force) hold for the DS's own range (C.5).
        problems += _numbering_problems(dataclasses.replace(request.payload, type=DocumentType.INVOICE), numbering, day)
    if problems:
        raise PayloadError(problems)
    number = numbering.document_number
    support = _draft(request, totals, withholdings, issuer=issuer, number=number, issued_at=issued_at,
                     environment=environment)  # fmt: skip
    try:
        unsigned = build_support(support, software=issuer.software, numbering=numbering.range)
        signed = sign(unsigned, issuer.identity, signing_time=issued_at.astimezone(BOGOTA), role=issuer.role)
    except (BuildError, SignatureError) as exc:
        raise PayloadError([Problem("", f"no se pudo construir el documento: {exc}")]) from exc
    key = support_key(support, pin=issuer.software.pin)
    sequence = numbering.file_sequence if numbering.file_sequence is not None else numbering.number
    stem = f"{issuer.party.nit.zfill(10)}{issuer.provider_code}{day:%y}{sequence % 0x100000000:08X}"
    file_name = f"{_FILE_PREFIX[request.kind]}{stem}.xml"
    zip_name = f"z{stem}.zip"
    return IssuedSupport(request=request, totals=totals, line_withholdings=withholdings, number=number,
                         issued_at=issued_at, key=key, xml=signed, file_name=file_name, zip_name=zip_name)  # fmt: skip
