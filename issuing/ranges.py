"""Numbering ranges: DIAN's authorizations read with GetNumberingRange (never typed by hand), our own series for
notes, which range a document takes its number from, the consecutive itself, and the warnings before a range runs out.

The consecutive is taken by one atomic ``UPDATE … SET next_number = next_number + 1 … RETURNING`` inside the
transaction that stores the signed document (issuing/service.py): on PostgreSQL the range's row stays locked until
that transaction ends, so concurrent issuers queue on it; on SQLite writes are serialized. A document that fails or a
process that dies before the commit rolls its number back with it: no gap, no double. InvoiceTypeCode 01, 02 and 04
share the invoice range; 03 has its own (radian-issuing-facts B.1); notes use our own series (peers-wave2 §2.4).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from dian.codes import DocumentType, Environment
from dian.ubl.build import NumberingRange as DianRange
from store.audit import record
from store.models import NumberingRange

if TYPE_CHECKING:
    from dian.soap.results import NumberingRanges

__all__ = [
    "OWN_SERIES_END",
    "RangeError",
    "RangeKind",
    "RangeWarning",
    "SyncReport",
    "choose_range",
    "dian_range",
    "ensure_note_series",
    "kind_for",
    "list_ranges",
    "range_warnings",
    "set_next_number",
    "sync_ranges",
    "take_number",
]

OWN_SERIES_END = 9_999_999_999  # our own series for notes: from 1 up to this
USED_WARNING = 0.9  # warn when this share of a range is used
EXPIRY_WARNING_DAYS = 30  # … or when it ends within this many days


class RangeKind(StrEnum):
    """Which documents a range numbers."""

    INVOICE = "invoice"  # 01, 02, 04
    CONTINGENCY = "contingency"  # 03: the issuer's own contingency range
    CREDIT_NOTE = "credit_note"  # 91, our own series
    DEBIT_NOTE = "debit_note"  # 92, our own series
    SUPPORT_DOCUMENT = "support_document"  # 05: its own DIAN authorization (radian-issuing-facts C.5)
    SUPPORT_ADJUSTMENT = "support_adjustment"  # 95, our own series

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def from_dian(self) -> bool:
        """True for the kinds DIAN authorizes (the others are our own series)."""
        return self in (RangeKind.INVOICE, RangeKind.CONTINGENCY, RangeKind.SUPPORT_DOCUMENT)


_LABELS = {
    RangeKind.INVOICE: "facturas",
    RangeKind.CONTINGENCY: "facturas de contingencia (03)",
    RangeKind.CREDIT_NOTE: "notas crédito",
    RangeKind.DEBIT_NOTE: "notas débito",
    RangeKind.SUPPORT_DOCUMENT: "documentos soporte",
    RangeKind.SUPPORT_ADJUSTMENT: "notas de ajuste al documento soporte",
}


def kind_for(document_type: DocumentType) -> RangeKind:
    """The range kind a document type is numbered from."""
    if document_type is DocumentType.CONTINGENCY_INVOICE:
        return RangeKind.CONTINGENCY
    if document_type is DocumentType.CREDIT_NOTE:
        return RangeKind.CREDIT_NOTE
    if document_type is DocumentType.DEBIT_NOTE:
        return RangeKind.DEBIT_NOTE
    if document_type is DocumentType.SUPPORT_DOCUMENT:
        return RangeKind.SUPPORT_DOCUMENT
    if document_type is DocumentType.SUPPORT_ADJUSTMENT:
        return RangeKind.SUPPORT_ADJUSTMENT
    return RangeKind.INVOICE


class RangeError(Exception):
    """No number can be given: the sentence says why (Spanish); ``pointer`` names the request's field, if any."""

    def __init__(self, message: str, pointer: str = "") -> None:
        self.pointer = pointer
        super().__init__(message)


class NumberingClient(Protocol):
    """The part of dian.soap.DianClient range syncing uses."""

    def get_numbering_range(self, account_code: str, account_code_t: str, software_code: str) -> NumberingRanges: ...


@dataclass
class SyncReport:
    """What one GetNumberingRange brought: DIAN's operation code and text, and the ranges added, changed, retired."""

    operation_code: str
    description: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"operation_code": self.operation_code, "added": self.added, "updated": self.updated,
                "retired": self.retired, "unchanged": len(self.unchanged)}  # fmt: skip


def _date(text: str | None, what: str) -> dt.date | None:
    if not text or not text.strip():
        return None
    try:
        return dt.date.fromisoformat(text.strip()[:10])
    except ValueError:
        raise RangeError(f"la DIAN envió una fecha ilegible en {what}: {text!r}") from None


def _label(row: NumberingRange) -> str:
    return f"{row.prefix or '(sin prefijo)'} {row.from_number}-{row.to_number} (resolución {row.resolution_number})"


def sync_ranges(
    sessions: sessionmaker[Session],
    client: NumberingClient,
    *,
    nit: str,
    owner_nit: str,
    software_id: str,
    environment: Environment,
    now: dt.datetime,
    actor: str,
) -> SyncReport:
    """Read our ranges from DIAN and keep them: new ones added (their next number is their first), changed ones
    updated (the next number never moves back), ranges DIAN no longer lists retired. RangeError when DIAN answers
    anything but OperationCode 100 (its description quoted)."""
    answer = client.get_numbering_range(nit, owner_nit, software_id)
    if not answer.ok:
        raise RangeError(
            f"la DIAN no entregó rangos de numeración (OperationCode {answer.operation_code}: "
            f"{answer.description or 'sin descripción'})"
        )
    report = SyncReport(answer.operation_code, answer.description)
    with sessions() as s:
        existing = {
            (row.prefix, row.resolution_number): row
            for row in s.execute(
                sa.select(NumberingRange).where(
                    NumberingRange.environment == environment, NumberingRange.source == "dian"
                )
            ).scalars()
        }
        seen = set()
        for info in answer.ranges:
            if info.from_number > info.to_number:
                raise RangeError(f"la DIAN envió el rango {info.prefix} {info.from_number}-{info.to_number} al revés")
            values = {
                "resolution_date": _date(info.resolution_date, "ResolutionDate"),
                "from_number": info.from_number,
                "to_number": info.to_number,
                "valid_from": _date(info.valid_from, "ValidDateFrom"),
                "valid_to": _date(info.valid_to, "ValidDateTo"),
                "technical_key": (info.technical_key or "").strip() or None,
                "software_id": software_id,
            }
            key = (info.prefix, info.resolution_number)
            seen.add(key)
            row = existing.get(key)
            if row is None:
                row = NumberingRange(kind=RangeKind.INVOICE.value, source="dian", environment=environment,
                                     prefix=info.prefix, resolution_number=info.resolution_number,
                                     next_number=info.from_number, active=True, fetched_at=now, **values)  # fmt: skip
                s.add(row)
                report.added.append(_label(row))
                continue
            changed = not row.active or any(getattr(row, name) != value for name, value in values.items())
            for name, value in values.items():
                setattr(row, name, value)
            row.active, row.fetched_at = True, now
            row.next_number = max(row.next_number, row.from_number)
            (report.updated if changed else report.unchanged).append(_label(row))
        for key, row in existing.items():
            if key not in seen and row.active:
                row.active = False
                report.retired.append(_label(row))
        record(s, actor=actor, action="numbering.synced", subject=nit,
               data={**report.as_dict(), "environment": environment.value}, at=now)  # fmt: skip
        s.commit()
    return report


def ensure_note_series(
    sessions: sessionmaker[Session], kind: RangeKind, environment: Environment, prefix: str, now: dt.datetime
) -> None:
    """Create our own series for ``kind`` (credit or debit notes) the first time one is issued."""
    with sessions() as s:
        found = s.execute(
            sa.select(NumberingRange.id).where(
                NumberingRange.environment == environment, NumberingRange.kind == kind.value,
                NumberingRange.source == "own",
            )
        ).first()  # fmt: skip
        if found is not None:
            return
        s.add(NumberingRange(kind=kind.value, source="own", environment=environment, prefix=prefix,
                             resolution_number="", from_number=1, to_number=OWN_SERIES_END, next_number=1,
                             active=True, fetched_at=now))  # fmt: skip
        try:
            s.commit()
        except IntegrityError:  # another process created it at the same moment
            s.rollback()


def list_ranges(session: Session, environment: Environment | None = None) -> list[NumberingRange]:
    """Every range, active first, by kind and prefix."""
    query = sa.select(NumberingRange).order_by(
        NumberingRange.active.desc(), NumberingRange.kind, NumberingRange.prefix, NumberingRange.id
    )
    if environment is not None:
        query = query.where(NumberingRange.environment == environment)
    return list(session.execute(query).scalars())


def _valid_on(row: NumberingRange, day: dt.date) -> bool:
    return (row.valid_from is None or row.valid_from <= day) and (row.valid_to is None or day <= row.valid_to)


def choose_range(
    session: Session,
    kind: RangeKind,
    environment: Environment,
    day: dt.date,
    *,
    prefix: str | None = None,
    resolution_number: str | None = None,
    number: int | None = None,
) -> NumberingRange:
    """The range a document of ``kind`` issued on ``day`` takes its number from: the caller's prefix, resolution and
    number must fall in an active range valid that day; without them, the valid range with numbers left that ends
    first. RangeError (with the field) otherwise."""
    rows = [
        row
        for row in session.execute(
            sa.select(NumberingRange)
            .where(NumberingRange.environment == environment, NumberingRange.kind == kind.value, NumberingRange.active)
            .order_by(NumberingRange.valid_to.is_(None), NumberingRange.valid_to, NumberingRange.id)
        ).scalars()
    ]
    if not rows:
        hint = " (léalos con `buzon ranges sync`)" if kind.from_dian else ""
        raise RangeError(f"no hay un rango de numeración de {kind.label} leído de la DIAN para este ambiente{hint}")
    if prefix is not None:
        rows = [row for row in rows if row.prefix == prefix]
        if not rows:
            raise RangeError(f"el prefijo {prefix!r} no es el de ningún rango de {kind.label} autorizado", "/prefix")
    if resolution_number is not None:
        rows = [row for row in rows if row.resolution_number == resolution_number]
        if not rows:
            raise RangeError(
                f"la resolución {resolution_number} no autoriza ningún rango de {kind.label} con ese prefijo",
                "/resolution_number",
            )
    valid = [row for row in rows if _valid_on(row, day)]
    if not valid:
        row = rows[0]
        raise RangeError(f"la resolución {row.resolution_number} ({_label(row)}) no está vigente el {day} "
                         f"({row.valid_from} a {row.valid_to})")  # fmt: skip
    if number is not None:
        inside = [row for row in valid if row.from_number <= number <= row.to_number]
        if not inside:
            spans = ", ".join(f"{row.prefix}{row.from_number}-{row.prefix}{row.to_number}" for row in valid)
            raise RangeError(f"el número {number} está fuera de los rangos autorizados ({spans})", "/number")
        return inside[0]
    left = [row for row in valid if row.next_number <= row.to_number]
    if not left:
        raise RangeError(f"los rangos de {kind.label} vigentes están agotados ({', '.join(map(_label, valid))}); "
                         "solicite una nueva resolución a la DIAN y léala con `buzon ranges sync`")  # fmt: skip
    return left[0]


def take_number(session: Session, range_id: int, requested: int | None = None) -> int:
    """The consecutive this document takes from range ``range_id``, inside the caller's transaction (which must also
    store the document). Without ``requested``, the range's next number, by one atomic UPDATE; with it (the caller
    chose it, checked inside the range), the next number moves past it when it was ahead."""
    table = NumberingRange.__table__
    if requested is None:
        taken = session.execute(
            sa.update(table)
            .where(table.c.id == range_id, table.c.next_number <= table.c.to_number)
            .values(next_number=table.c.next_number + 1)
            .returning(table.c.next_number)
        ).scalar_one_or_none()
        if taken is None:
            raise RangeError("el rango de numeración se agotó mientras se expedía el documento")
        return int(taken) - 1
    session.execute(
        sa.update(table)
        .where(table.c.id == range_id, table.c.next_number <= requested)
        .values(next_number=requested + 1)
    )
    return requested


def set_next_number(session: Session, row: NumberingRange, number: int, used_up_to: int | None) -> None:
    """Move a range's next number forward (a range partly used by another software before Buzón); never back below
    a number Buzón already used, never outside the range."""
    if not row.from_number <= number <= row.to_number + 1:
        raise RangeError(f"{number} está fuera del rango {_label(row)}")
    if used_up_to is not None and number <= used_up_to:
        raise RangeError(f"Buzón ya usó el número {used_up_to} de este rango; el siguiente no puede ser {number}")
    row.next_number = number


def dian_range(row: NumberingRange) -> DianRange | None:
    """The authorization the invoice's InvoiceControl and CUFE carry (None for our own series)."""
    if row.source != "dian" or row.valid_from is None or row.valid_to is None or not row.technical_key:
        return None
    return DianRange(authorization=row.resolution_number, start_date=row.valid_from, end_date=row.valid_to,
                     prefix=row.prefix, from_number=row.from_number, to_number=row.to_number,
                     technical_key=row.technical_key)  # fmt: skip


def number_for(
    session: Session, kind: RangeKind, environment: Environment, day: dt.date, wanted: Any
) -> tuple[NumberingRange, int, DianRange | None]:
    """A new document's number (invoices and notes, issuing/service.py; the documento soporte, support_service.py):
    its range (choose_range, with the ``prefix``, ``resolution_number`` and ``number`` the request ``wanted``, each
    may be None), the consecutive taken (take_number) and DIAN's authorization of the range; a RangeError when a DIAN
    range lacks its dates or technical key."""
    number = wanted.number
    chosen = choose_range(session, kind, environment, day, prefix=wanted.prefix,
                          resolution_number=wanted.resolution_number, number=number)  # fmt: skip
    authorization = dian_range(chosen)
    if kind.from_dian and authorization is None:
        raise RangeError(f"el rango {chosen.prefix} no trae de la DIAN sus fechas o su clave técnica")
    return chosen, take_number(session, chosen.id, number), authorization


@dataclass(frozen=True)
class RangeWarning:
    """A range about to stop numbering: ``kind`` used | expiring | exhausted | expired, and the sentence."""

    range_id: int
    prefix: str
    resolution_number: str
    kind: str
    message: str


def range_warnings(
    ranges: Iterable[NumberingRange],
    today: dt.date,
    *,
    used_share: float = USED_WARNING,
    days: int = EXPIRY_WARNING_DAYS,
) -> list[RangeWarning]:
    """Warnings for DIAN's active ranges: 90 % used or exhausted, ending within 30 days or ended."""
    found = []
    for row in ranges:
        if row.source != "dian" or not row.active:
            continue
        size = row.to_number - row.from_number + 1
        used = row.next_number - row.from_number
        name = _label(row)

        def warn(kind: str, message: str, row: NumberingRange = row) -> None:
            found.append(RangeWarning(row.id, row.prefix, row.resolution_number, kind, message))

        if used >= size:
            warn("exhausted", f"El rango {name} está agotado: solicite una nueva resolución a la DIAN.")
        elif size > 0 and used / size >= used_share:
            warn("used", f"El rango {name} lleva {used / size:.0%} usado ({size - used} números disponibles).")
        if row.valid_to is not None:
            left = (row.valid_to - today).days
            if left < 0:
                warn("expired", f"La resolución del rango {name} venció el {row.valid_to}.")
            elif left <= days:
                warn("expiring", f"La resolución del rango {name} vence el {row.valid_to} (en {left} días).")
    return found
