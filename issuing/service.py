"""The issuing façade the CLI, the web and the jobs use: issue a document (validate → number → build and sign → keep),
deliver it to DIAN, read the numbering ranges from DIAN.

``issue`` takes the consecutive, signs and stores the document and its row ``signed`` in ONE transaction: a failure
or a crash rolls the number back with the document, so the range has no gap and no double. An idempotency key (unique
per client: an API token, the CLI) makes a retried request return the document its first attempt issued — never a
second one — and a different request under the same key is refused.

While a contingency is under way (issuing/outage.py: declared, or detected from unanswered sends) the façade itself
issues an invoice 01 as type 04 with the contingency's reason and deadline and does not send it (the contingency
sweep transmits it once DIAN receives again): every door — the CLI, the native API, the apidian paths, the form —
gets the same answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from dian.codes import DocumentType
from issuing import outage, ranges
from issuing.context import IssuingContext, utc_now
from issuing.document import BOGOTA, IssuedDocument, Numbering, issue_document
from issuing.problems import PayloadError, Problem
from issuing.request import IssueRequest
from issuing.signed_row import signed_columns
from store.audit import record
from store.models import NumberingRange, OutboundDocument, OutboundState

__all__ = ["IdempotencyConflict", "Issued", "IssuingService"]

CONTINGENCY_WINDOW = outage.CONTINGENCY_WINDOW  # radian-issuing-facts B.3: transmit within 48 h after the outage


class IdempotencyConflict(PayloadError):
    """The idempotency key was already used for a different request."""


@dataclass(frozen=True)
class Issued:
    """What an issue request came to: the document's id, number, CUFE/CUDE, QR text and state (with DIAN's answer
    once it came); ``replayed`` when an earlier request with the same idempotency key had issued it."""

    id: int
    document_type: DocumentType
    number: str
    uuid: str
    state: OutboundState
    qr_text: str | None
    payable: Any
    dian_status_code: str | None = None
    dian_messages: tuple[str, ...] = ()
    last_error: str | None = None
    replayed: bool = False
    # Issued under a contingency (issuing/outage.py): why, and the 48 h deadline to transmit it to DIAN.
    contingency_reason: str | None = None
    contingency_deadline: dt.datetime | None = None

    @classmethod
    def of(cls, row: OutboundDocument, *, replayed: bool = False) -> Issued:
        return cls(id=row.id, document_type=row.document_type, number=row.number, uuid=row.cufe or "",
                   state=row.state, qr_text=row.qr_text, payable=row.payable_amount,
                   dian_status_code=row.dian_status_code, dian_messages=tuple(row.dian_messages or ()),
                   last_error=row.last_error, replayed=replayed, contingency_reason=row.contingency_reason,
                   contingency_deadline=row.contingency_deadline)  # fmt: skip

    @property
    def in_contingency(self) -> bool:
        """Issued while DIAN could not receive and not yet decided by DIAN: it is transmitted later."""
        return self.contingency_reason is not None and self.state not in (OutboundState.ACCEPTED,
                                                                           OutboundState.REJECTED)  # fmt: skip

    @property
    def verdict(self) -> str:
        """DIAN's verdict in words (Spanish)."""
        if self.in_contingency:
            deadline = self.contingency_deadline
            by = f" antes del {deadline.astimezone(BOGOTA):%Y-%m-%d %H:%M}" if deadline is not None else ""
            return (f"expedido en contingencia (tipo {self.document_type.value}): la DIAN no está recibiendo; "
                    f"se le transmitirá cuando vuelva a recibir{by}")  # fmt: skip
        return _VERDICTS.get(self.state, self.state.value)


_VERDICTS = {
    OutboundState.SIGNED: "firmado, aún sin enviar a la DIAN",
    OutboundState.SENT: "enviado, esperando la respuesta de la DIAN",
    OutboundState.ACCEPTED: "validado por la DIAN",
    OutboundState.REJECTED: "rechazado por la DIAN",
    OutboundState.SEND_FAILED: "en cola: la DIAN no respondió; se reintentará",
}


# What a contingency turns into a 04: an ordinary invoice, and a 04 the ERP sent itself (kept with the contingency).
_TURNED_BY_CONTINGENCY = (DocumentType.INVOICE, DocumentType.DIAN_CONTINGENCY_INVOICE)


def _refuse_ourselves_as_buyer(request: IssueRequest, nit: str) -> None:
    """A document of ours to ourselves: DIAN's buyer must be another party than the seller."""
    customer = request.payload.customer
    if customer.id_type == "31" and customer.id.lstrip("0") == nit.lstrip("0"):
        message = f"el comprador no puede ser la misma empresa que expide: el NIT {customer.id} es el nuestro"
        raise PayloadError([Problem("/customer/id", message + "; indique el NIT del cliente")])


def _refused(exc: ranges.RangeError) -> PayloadError:
    return PayloadError([Problem(exc.pointer, str(exc))])


@dataclass
class IssuingService:
    """Issue our invoices and notes, deliver them, and keep DIAN's numbering ranges."""

    sessions: sessionmaker[Session]
    make_context: Callable[[], IssuingContext]
    make_client: Callable[[], Any] | None = None
    clock: Callable[[], dt.datetime] = utc_now
    _ctx: IssuingContext | None = field(default=None, init=False, repr=False)

    @property
    def ctx(self) -> IssuingContext:
        """The issuing context, made on first use (the certificate is loaded then) and kept."""
        if self._ctx is None:
            self._ctx = self.make_context()
        return self._ctx

    # -- issuing ----------------------------------------------------------------------------------------------------

    def issue(
        self,
        request: IssueRequest,
        *,
        actor: str,
        idempotency_key: str | None = None,
        client_key: str = "api",
        deliver: bool = False,
        client: Any = None,
    ) -> Issued:
        """Issue one document: PayloadError (every problem, with its field) when it cannot be; IdempotencyConflict when
        ``idempotency_key`` was used for another request. With ``deliver``, it is sent to DIAN at once and the result
        carries DIAN's answer (an outage leaves it queued, ``send_failed``)."""
        if idempotency_key is not None and not (0 < len(idempotency_key) <= 200):
            raise PayloadError([Problem("/idempotency_key", "la clave de idempotencia tiene de 1 a 200 caracteres")])
        ctx, now = self.ctx, self.clock()
        _refuse_ourselves_as_buyer(request, ctx.nit)
        payload_digest = request.digest
        earlier = self._earlier(client_key, idempotency_key, payload_digest)
        if earlier is not None:
            return earlier
        held = outage.current(self.sessions) if request.payload.type in _TURNED_BY_CONTINGENCY else None
        if held is not None:
            request = outage.for_contingency(request)  # the digest stays the ERP's request's
        kind = ranges.kind_for(request.payload.type)
        if not kind.from_dian:
            prefix = ctx.note_prefixes[0 if kind is ranges.RangeKind.CREDIT_NOTE else 1]
            ranges.ensure_note_series(self.sessions, kind, ctx.environment, prefix, now)
        try:
            document_id = self._issue(request, kind, now, actor, idempotency_key, client_key, payload_digest, held)
        except IntegrityError:
            # A concurrent request with the same key won (its number was rolled back with ours), or the caller's
            # number is taken.
            earlier = self._earlier(client_key, idempotency_key, payload_digest)
            if earlier is not None:
                return earlier
            if request.number is not None:
                raise PayloadError([Problem("/number", f"el número {request.number} ya fue usado")]) from None
            raise
        if deliver and held is None:  # under a contingency the sweep transmits it once DIAN receives again
            self.deliver(only=[document_id], client=client)
        return self.result(document_id)

    def _earlier(self, client_key: str, idempotency_key: str | None, payload_digest: str) -> Issued | None:
        if idempotency_key is None:
            return None
        with self.sessions() as s:
            row = s.execute(
                sa.select(OutboundDocument).where(
                    OutboundDocument.client_key == client_key, OutboundDocument.idempotency_key == idempotency_key
                )
            ).scalar_one_or_none()
            if row is None:
                return None
            if row.payload_digest != payload_digest:
                raise IdempotencyConflict([Problem(
                    "/idempotency_key",
                    f"la clave de idempotencia {idempotency_key!r} ya se usó para otro documento ({row.number}); "
                    "use una clave nueva para un documento distinto",
                )])  # fmt: skip
            return Issued.of(row, replayed=True)

    def _issue(self, request: IssueRequest, kind: ranges.RangeKind, now: dt.datetime, actor: str,
               idempotency_key: str | None, client_key: str, payload_digest: str,
               held: outage.Contingency | None = None) -> int:  # fmt: skip
        ctx, payload = self.ctx, request.payload
        day = now.astimezone(BOGOTA).date()
        with self.sessions() as s:
            reference = self._reference(s, request)
            try:
                chosen, consecutive, authorization = ranges.number_for(s, kind, ctx.environment, day, request)
                range_id, prefix = chosen.id, chosen.prefix
            except ranges.RangeError as exc:
                s.rollback()
                raise _refused(exc) from None
            try:
                document = issue_document(payload, issuer=ctx.issuer, environment=ctx.environment, issued_at=now,
                                          numbering=Numbering(prefix, consecutive, authorization))  # fmt: skip
            except PayloadError:
                s.rollback()  # the number goes back to the range
                raise
            row = self._row(document, request, range_id, consecutive, prefix, now, actor, reference, held)
            row.idempotency_key, row.client_key, row.payload_digest = idempotency_key, client_key, payload_digest
            s.add(row)
            s.flush()
            record(s, actor=actor, action="outbound.issued", subject=document.uuid,
                   data={"id": row.id, "number": row.number, "type": payload.type.value,
                         "payable": str(document.totals.payable), "idempotency_key": idempotency_key,
                         **({"contingency": held.summary} if held is not None else {})},
                   at=now)  # fmt: skip
            s.commit()
            return row.id

    def _reference(self, s: Session, request: IssueRequest) -> OutboundDocument | None:
        """The invoice of ours a note corrects, when we issued it (refused when DIAN rejected it)."""
        reference = request.payload.reference
        if reference is None:
            return None
        row = s.execute(
            sa.select(OutboundDocument).where(OutboundDocument.cufe == reference.uuid.lower())
        ).scalar_one_or_none()
        if row is None:
            return None
        problems = []
        if row.number != reference.number:
            problems.append(Problem("/reference/number", f"la factura con ese CUFE es la {row.number}"))
        if row.state is OutboundState.REJECTED:
            problems.append(Problem("/reference/uuid", f"la DIAN rechazó la factura {row.number}: no admite notas"))
        if problems:
            raise PayloadError(problems)
        return row

    def _row(self, document: IssuedDocument, request: IssueRequest, range_id: int, consecutive: int, prefix: str,
             now: dt.datetime, actor: str, reference: OutboundDocument | None,
             held: outage.Contingency | None = None) -> OutboundDocument:  # fmt: skip
        payload = request.payload
        contingency = payload.type in outage.CONTINGENCY_TYPES
        return OutboundDocument(
            document_type=payload.type, buyer_nit=payload.customer.id, buyer_name=payload.customer.name,
            buyer_email=payload.customer.email, report={},
            contingency_declared_at=(held.started_at if held is not None else now) if contingency else None,
            contingency_deadline=now + CONTINGENCY_WINDOW if contingency else None,
            contingency_reason=held.summary if held is not None else None,
            # Not sent while DIAN is down: the contingency sweep transmits it (each attempt would only push it back).
            next_attempt_at=None if held is not None else now,
            **signed_columns(self.ctx, document, request, range_id=range_id, consecutive=consecutive, prefix=prefix,
                             now=now, actor=actor, reference=reference),
        )  # fmt: skip

    # -- delivering ---------------------------------------------------------------------------------------------

    def deliver(self, *, only: Collection[int] | None = None, client: Any = None, actor: str = "job:deliver_issued",
                limit: int = 100) -> Any:  # fmt: skip
        """Send the due documents (or the due ones among ``only``) to DIAN once; the outbox's DeliveryReport."""
        from issuing.outbox import deliver_issued

        own = client is None
        if own:
            if self.make_client is None:
                raise RuntimeError("no DIAN client was configured for issuing")
            client = self.make_client()
        try:
            return deliver_issued(self.sessions, self.ctx, client, now=self.clock, actor=actor, only=only,
                                  limit=limit)  # fmt: skip
        finally:
            if own:
                client.close()

    # -- reading ------------------------------------------------------------------------------------------------

    def result(self, document_id: int) -> Issued:
        """The document as it stands now."""
        with self.sessions() as s:
            row = s.get(OutboundDocument, document_id)
            if row is None:
                raise LookupError(f"no outbound document {document_id}")
            return Issued.of(row)

    def find(self, key: str | int) -> OutboundDocument | None:
        """One of our issued documents by id, CUFE/CUDE or number (detached)."""
        text = str(key).strip()
        conditions = [OutboundDocument.cufe == text.lower(), OutboundDocument.number == text]
        if text.isdigit() and len(text) < 10:
            conditions.append(OutboundDocument.id == int(text))
        with self.sessions() as s:
            row = s.execute(
                sa.select(OutboundDocument).where(sa.or_(*conditions)).order_by(OutboundDocument.id)
            ).scalars().first()  # fmt: skip
            if row is not None:
                s.expunge(row)
            return row

    # -- numbering ranges ---------------------------------------------------------------------------------------

    def sync_ranges(self, *, actor: str, client: Any = None) -> ranges.SyncReport:
        """Read our numbering ranges from DIAN (GetNumberingRange) and keep them; RangeError when DIAN refuses."""
        ctx = self.ctx
        own = client is None
        if own:
            if self.make_client is None:
                raise RuntimeError("no DIAN client was configured for issuing")
            client = self.make_client()
        try:
            return ranges.sync_ranges(self.sessions, client, nit=ctx.nit, owner_nit=ctx.owner_nit,
                                      software_id=ctx.issuer.software.software_id, environment=ctx.environment,
                                      now=self.clock(), actor=actor)  # fmt: skip
        finally:
            if own:
                client.close()

    def ranges(self, *, all_environments: bool = False) -> list[NumberingRange]:
        """The numbering ranges (detached), of this environment unless ``all_environments``."""
        with self.sessions() as s:
            rows = ranges.list_ranges(s, None if all_environments else self.ctx.environment)
            s.expunge_all()
            return rows

    def _dian_range_locked(self, s: Session, prefix: str) -> NumberingRange:
        """The active DIAN range of this environment with ``prefix``, row-locked; RangeError when there is none."""
        row = s.execute(
            sa.select(NumberingRange).where(
                NumberingRange.environment == self.ctx.environment,
                NumberingRange.prefix == prefix,
                NumberingRange.source == "dian",
                NumberingRange.active,
            ).with_for_update()
        ).scalars().first()  # fmt: skip
        if row is None:
            raise ranges.RangeError(f"no hay un rango vigente de la DIAN con el prefijo {prefix!r}")
        return row

    def set_next_number(self, prefix: str, number: int, *, actor: str) -> NumberingRange:
        """Move the next number of the active DIAN range with ``prefix`` forward (a range partly used by another
        software before Buzón); RangeError when it would go back below a number Buzón used or leave the range."""
        with self.sessions() as s:
            row = self._dian_range_locked(s, prefix)
            used = s.execute(
                sa.select(sa.func.max(OutboundDocument.consecutive)).where(OutboundDocument.range_id == row.id)
            ).scalar_one_or_none()
            before = row.next_number
            ranges.set_next_number(s, row, number, used)
            record(s, actor=actor, action="numbering.next_set", subject=prefix,
                   data={"range_id": row.id, "from": before, "to": number}, at=self.clock())  # fmt: skip
            s.commit()
            s.expunge(row)
            return row

    def set_kind(self, prefix: str, kind: ranges.RangeKind, *, actor: str) -> NumberingRange:
        """Say which documents the active DIAN range with ``prefix`` numbers: invoices (01, 02, 04), the issuer's
        contingency invoices (03, their own authorized range: radian-issuing-facts B.1, B.3) or documentos soporte
        (05, form 1876: C.5). GetNumberingRange does not say, and DIAN refuses a number from a range of the other kind
        (FAB05b / DSAB05b); kept across syncs. RangeError once the range numbered a document, or for our own series."""
        if not kind.from_dian:
            raise ranges.RangeError("las notas se numeran en la serie propia, no en un rango de la DIAN")
        with self.sessions() as s:
            row = self._dian_range_locked(s, prefix)
            used = s.execute(sa.select(OutboundDocument.id).where(OutboundDocument.range_id == row.id)).first()
            if used is not None and row.kind != kind.value:
                raise ranges.RangeError(f"el rango {prefix} ya numeró documentos como {row.kind}; no cambia de uso")
            before, row.kind = row.kind, kind.value
            record(s, actor=actor, action="numbering.kind_set", subject=prefix,
                   data={"range_id": row.id, "from": before, "to": kind.value}, at=self.clock())  # fmt: skip
            s.commit()
            s.expunge(row)
            return row

    def warnings(self, today: dt.date | None = None) -> list[ranges.RangeWarning]:
        """Ranges 90 % used or exhausted, ending within 30 days or ended."""
        day = today or self.clock().astimezone(BOGOTA).date()
        return ranges.range_warnings(self.ranges(), day)
