"""The documento soporte's façade (05 and its adjustment note 95): what the API, `buzon issue`, the weekly
accumulation and the web form call.

It rides on the IssuingService for everything a DS shares with our invoices — the context (our party, software,
certificate, environment, blobs), the idempotency keys, the outbox that sends it with SendBillSync, reading a
document back (``Issued``) — and differs in what it issues: ``issue_support`` (support_document.py) instead of
``issue_document``, the 05's own DIAN range (RangeKind.SUPPORT_DOCUMENT, marked with `buzon ranges kind PREFIX
support_document`, C.5), the 95's own series (prefix ``ADJUSTMENT_PREFIX``), and a 95 whose DS is ours is refused when
that DS was rejected, or when the notes on it would exceed its total. The number is taken in the transaction that
stores the signed document, so a failure gives the number back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dian.codes import DocumentType
from issuing import ranges
from issuing.document import BOGOTA, Numbering
from issuing.problems import PayloadError, Problem
from issuing.service import Issued, IssuingService
from issuing.signed_row import signed_columns
from issuing.support_document import IssuedSupport, issue_support
from issuing.support_request import SupportRequest
from store.audit import record
from store.models import OutboundDocument, OutboundState

__all__ = ["ADJUSTMENT_PREFIX", "SupportService"]

ADJUSTMENT_PREFIX = "NDS"  # our own series for 95 (apidian's examples use NDS)
SUPPORT_TYPES = (DocumentType.SUPPORT_DOCUMENT, DocumentType.SUPPORT_ADJUSTMENT)


@dataclass
class SupportService:
    """Issue documentos soporte and their adjustment notes; deliver and read them through ``issuing``."""

    issuing: IssuingService

    def issue(self, request: SupportRequest, *, actor: str, idempotency_key: str | None = None,
              client_key: str = "api", deliver: bool = False, client: Any = None) -> Issued:  # fmt: skip
        """Issue one 05/95: PayloadError with every problem and its field; IdempotencyConflict when the key was used
        for another request; with ``deliver`` sent to DIAN at once (an outage leaves it queued)."""
        service = self.issuing
        if idempotency_key is not None and not (0 < len(idempotency_key) <= 200):
            raise PayloadError([Problem("/idempotency_key", "la clave de idempotencia tiene de 1 a 200 caracteres")])
        earlier = service._earlier(client_key, idempotency_key, request.digest)
        if earlier is not None:
            return earlier
        ctx, now = service.ctx, service.clock()
        kind = ranges.kind_for(request.kind)
        if not kind.from_dian:
            ranges.ensure_note_series(service.sessions, kind, ctx.environment, ADJUSTMENT_PREFIX, now)
        try:
            document_id = self._issue(request, kind, now, actor, idempotency_key, client_key)
        except IntegrityError:
            earlier = service._earlier(client_key, idempotency_key, request.digest)
            if earlier is not None:
                return earlier
            if request.number is not None:
                raise PayloadError([Problem("/number", f"el número {request.number} ya fue usado")]) from None
            raise
        if deliver:
            service.deliver(only=[document_id], client=client)
        return service.result(document_id)

    def _issue(self, request: SupportRequest, kind: ranges.RangeKind, now: dt.datetime, actor: str,
               idempotency_key: str | None, client_key: str) -> int:  # fmt: skip
        ctx = self.issuing.ctx
        day = now.astimezone(BOGOTA).date()
        with self.issuing.sessions() as s:
            reference = self._reference(s, request)
            try:
                chosen, consecutive, authorization = ranges.number_for(s, kind, ctx.environment, day, request)
            except ranges.RangeError as exc:
                s.rollback()
                raise PayloadError([Problem(exc.pointer, str(exc))]) from None
            try:
                document = issue_support(request, issuer=ctx.issuer, environment=ctx.environment, issued_at=now,
                                         numbering=Numbering(chosen.prefix, consecutive, authorization))  # fmt: skip
            except PayloadError:
                s.rollback()
                raise
            row = self._row(document, chosen.id, consecutive, chosen.prefix, now, actor, reference)
            row.idempotency_key, row.client_key, row.payload_digest = idempotency_key, client_key, request.digest
            s.add(row)
            s.flush()
            record(s, actor=actor, action="outbound.support_issued", subject=document.uuid,
                   data={"id": row.id, "number": row.number, "type": request.kind.value,
                         "payable": str(document.totals.payable), "seller": row.buyer_nit,
                         "idempotency_key": idempotency_key}, at=now)  # fmt: skip
            s.commit()
            return row.id

    def _reference(self, s: Session, request: SupportRequest) -> OutboundDocument | None:
        """The DS a 95 adjusts, when we issued it: refused when rejected, of another seller, or already adjusted
        beyond its total (VLR02)."""
        reference = request.payload.reference
        if reference is None:
            return None
        row = s.execute(sa.select(OutboundDocument).where(OutboundDocument.cufe == reference.uuid.lower())
                        ).scalar_one_or_none()  # fmt: skip
        if row is None:
            return None
        problems = []
        if row.document_type is not DocumentType.SUPPORT_DOCUMENT:
            problems.append(Problem("/reference/uuid", f"{row.number} no es un documento soporte"))
        if row.number != reference.number:
            problems.append(Problem("/reference/number", f"el documento soporte con ese CUDS es el {row.number}"))
        if row.state is OutboundState.REJECTED:
            problems.append(Problem("/reference/uuid", f"la DIAN rechazó el documento soporte {row.number}"))
        if row.buyer_nit != request.payload.customer.id:
            problems.append(Problem("/seller/id", f"el documento soporte {row.number} es del vendedor {row.buyer_nit}"))
        notes = sa.select(sa.func.coalesce(sa.func.sum(OutboundDocument.payable_amount), 0)).where(
            OutboundDocument.reference_id == row.id, OutboundDocument.state != OutboundState.REJECTED
        )
        adjusted = s.execute(notes).scalar_one()
        if problems:
            raise PayloadError(problems)
        from issuing.support_document import support_totals

        payable = support_totals(request)[0].payable
        if Decimal(adjusted) + payable > row.payable_amount:
            raise PayloadError([Problem("/lines", f"las notas de ajuste sumarían {Decimal(adjusted) + payable:.2f}, "
                                        f"más que el documento soporte ({row.payable_amount:.2f})")])  # fmt: skip
        return row

    def _row(self, document: IssuedSupport, range_id: int, consecutive: int, prefix: str, now: dt.datetime,
             actor: str, reference: OutboundDocument | None) -> OutboundDocument:  # fmt: skip
        request, seller = document.request, document.request.payload.customer
        # The buyer_* columns hold the counterpart: for a DS, the seller not obliged to invoice (C.1).
        return OutboundDocument(
            document_type=request.kind, buyer_nit=seller.id, buyer_name=seller.name,
            buyer_email=seller.email if request.mail_seller else None,
            report={"support": {"resident": request.resident, "mail_seller": request.mail_seller,
                                "generations": [list(map(str, g)) if g else None for g in request.generations]}},
            next_attempt_at=now,
            **signed_columns(self.issuing.ctx, document, request, range_id=range_id, consecutive=consecutive,
                             prefix=prefix, now=now, actor=actor, reference=reference),
        )  # fmt: skip

    # -- what the web form needs before it issues -----------------------------------------------------------------

    def totals(self, request: SupportRequest) -> Any:
        """The totals Buzón will sign ("Calcular"): issuing.totals' figures with the line withholdings (PayloadError
        when the arithmetic cannot stand)."""
        from issuing.support_document import support_totals

        return support_totals(request)[0]

    def preview(self, request: SupportRequest) -> IssuedSupport:
        """The document built and signed in memory with the next number of its range (NOT taken: another DS may
        take it first), never stored nor sent; PayloadError as ``issue``. Print it with issuing.pdf_content.read_sheet
        and mark it a preview, as web/issued_form.py does for invoices."""
        service = self.issuing
        ctx, now = service.ctx, service.clock()
        kind = ranges.kind_for(request.kind)
        with service.sessions() as s:
            try:
                if not kind.from_dian:
                    numbering = Numbering(ADJUSTMENT_PREFIX, 0)
                else:
                    chosen = ranges.choose_range(s, kind, ctx.environment, now.astimezone(BOGOTA).date())
                    numbering = Numbering(chosen.prefix, chosen.next_number, ranges.dian_range(chosen))
            except ranges.RangeError as exc:
                raise PayloadError([Problem(exc.pointer, str(exc))]) from None
            finally:
                s.rollback()
        return issue_support(request, issuer=ctx.issuer, numbering=numbering, environment=ctx.environment,
                             issued_at=now)  # fmt: skip

    def adjustment_of(self, document_id: int, concept: str = "2") -> dict[str, Any]:
        """The native body of a 95 on our DS ``document_id`` (the adjustment note in two clicks): its seller and lines
        as issued, the reference with its CUDS, ``concept`` (2: anulación). LookupError when it is not a DS of ours
        that DIAN validated."""
        with self.issuing.sessions() as s:
            row = s.get(OutboundDocument, document_id)
            if row is None or row.document_type is not DocumentType.SUPPORT_DOCUMENT or row.payload is None:
                raise LookupError(f"no hay un documento soporte con el id {document_id}")
            if row.state is not OutboundState.ACCEPTED:
                raise LookupError(f"la DIAN aún no validó el documento soporte {row.number}")
            sent = row.payload
            if "invoice_lines" in sent:  # issued through apidian's shape: read it as the native body
                from issuing.apidian_support import to_native_support

                sent = to_native_support(sent, "support-document")[0] or {}
            lines = [{key: value for key, value in line.items() if key not in ("generation", "withholdings")}
                     for line in sent.get("lines", [])]  # fmt: skip
            return {"kind": "support_adjustment", "seller": sent.get("seller"), "concept": concept, "lines": lines,
                    "reference": {"number": row.number, "uuid": row.cufe,
                                  "issue_date": row.issue_date.isoformat() if row.issue_date else None}}  # fmt: skip

    # -- reading ------------------------------------------------------------------------------------------------

    def list(self, *, limit: int = 50, seller: str | None = None) -> list[OutboundDocument]:
        """Our DS and 95, newest first (detached): the list the web shows."""
        with self.issuing.sessions() as s:
            query = (sa.select(OutboundDocument).where(OutboundDocument.document_type.in_(SUPPORT_TYPES))
                     .order_by(OutboundDocument.id.desc()).limit(limit))  # fmt: skip
            if seller is not None:
                query = query.where(OutboundDocument.buyer_nit == seller)
            rows = list(s.execute(query).scalars())
            s.expunge_all()
            return rows
