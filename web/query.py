"""The inbox's filter query: InboxQuery read and checked from the request's parameters (a Spanish FilterError names
a wrong one), its sorts and their keyset cursors, and the DIAN-events and closing-window pieces of its SQL.

The search box's text search, the WHERE of a whole query and its pages are web/search.py's.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from dian.calendar import BOGOTA, BusinessCalendar
from dian.codes import DocumentState, DocumentType
from store.models import Direction, DocumentEvent, ReceivedDocument, SubmissionState, Verdict
from store.state import IN_FLIGHT
from web.deadline import MAX_DUE

MAX_CLOSING_WITHIN = 30  # business days; the claim window itself is 3
# Issue dates a filter may ask for: wide enough for any invoice, narrow enough that a day's Bogota midnight in UTC
# (and the day after the last one) is a representable datetime on every backend.
MIN_DATE, MAX_DATE = date(1900, 1, 1), date(2199, 12, 31)
# What happened to our own events, for the inbox filter ``dian``: one still on its way, or the last one of a code that
# DIAN rejected (no later one of that code sent since).
DIAN_FILTERS = {"pending": "Evento en cola o esperando a la DIAN", "rejected": "Evento rechazado por la DIAN"}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# The text parameters' characters (q, supplier, assigned, order): what an XML document can carry, as the OpenAPI
# document promises with TEXT_PATTERN; C0 controls (but tab, newline, carriage return) and U+FFFE/U+FFFF are refused.
TEXT_PATTERN = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\uFFFE\\uFFFF]*$"
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class FilterError(ValueError):
    """A filter, sort or cursor the user (or an ERP) sent is malformed; the message is Spanish, for a 400."""


@dataclass(frozen=True)
class Sort:
    """One way to order the inbox: a column, its direction, and how its value is written in a cursor."""

    key: str
    column: Any
    descending: bool
    kind: Literal["time", "money", "text"]
    label: str
    nullable: bool = False  # NULLs come last whatever the direction


D = ReceivedDocument
SORTS: dict[str, Sort] = {
    s.key: s
    for s in (
        Sort("-issued", D.issued_at, True, "time", "Más recientes primero"),
        Sort("issued", D.issued_at, False, "time", "Más antiguos primero"),
        # Running windows only: a decided or lapsed invoice keeps its window_ends_at but sorts with the NULLs.
        Sort("window", D.open_window_ends_at, False, "time", "Plazo más próximo primero", nullable=True),
        Sort("-amount", D.payable_amount, True, "money", "Mayor valor primero"),
        Sort("amount", D.payable_amount, False, "money", "Menor valor primero"),
        Sort("supplier", D.issuer_name, False, "text", "Proveedor (A–Z)"),
    )
}
DEFAULT_SORT = "-issued"

# The states a filter may ask for, in the order of the document's life (DESIGN.md section 4).
STATES = tuple(DocumentState)
# The invoices of every kind (a note cites its invoice, not a purchase order): what "no_order" looks among.
INVOICE_TYPES = tuple(t for t in DocumentType if t.is_invoice)
# The verification verdicts a filter may ask for: "unconfirmed" is validación DIAN sin confirmar (DESIGN.md 5a).
VERDICTS = tuple(Verdict)


@dataclass(frozen=True)
class InboxQuery:
    """What the user asked the inbox for; every field empty means "everything, newest first"."""

    states: tuple[DocumentState, ...] = ()
    verdicts: tuple[Verdict, ...] = ()
    supplier: str = ""  # a NIT (with or without its check digit), or part of the supplier's name
    date_from: date | None = None  # issue date, America/Bogota, inclusive
    date_to: date | None = None
    amount_min: Decimal | None = None  # payable amount
    amount_max: Decimal | None = None
    closing_within: int | None = None  # claim window closing within this many business days
    due: int | None = None  # claim window ending at most this many business days after today (0: today)
    quarantined: bool = False  # only documents marked invalid or whose mail is in quarantine
    search: str = ""  # part of a number or supplier name (accents and case ignored), a CUFE's start, or a NIT
    assigned: str = ""  # the username the documents are assigned to
    order: str = ""  # the buyer's purchase order, exactly as the supplier wrote it (spaces around it ignored)
    no_order: bool = False  # only invoices that cite no purchase order (what a buyer who demands one chases)
    dian: str = ""  # a key of DIAN_FILTERS
    sort: str = DEFAULT_SORT

    # The query-string names, shared by the page, the CSV export and the API (English, like the API).
    PARAMS = (
        ("states", "status"),
        ("verdicts", "verdict"),
        ("supplier", "supplier"),
        ("date_from", "from"),
        ("date_to", "to"),
        ("amount_min", "min_amount"),
        ("amount_max", "max_amount"),
        ("closing_within", "closing_within"),
        ("due", "due"),
        ("quarantined", "quarantined"),
        ("search", "q"),
        ("assigned", "assigned"),
        ("order", "order"),
        ("no_order", "no_order"),
        ("dian", "dian"),
        ("sort", "sort"),
    )

    @classmethod
    def from_args(cls, args: Any, *, user: str | None = None) -> InboxQuery:
        """Parse request.args (a MultiDict); a malformed value raises FilterError naming the parameter.

        ``assigned=me`` means ``user`` (the signed-in user's name), so "Mis facturas" is one link for everyone."""
        values: dict[str, Any] = {}
        states = []
        for raw in args.getlist("status"):
            for part in raw.split(","):
                if part.strip():
                    try:
                        states.append(DocumentState(part.strip()))
                    except ValueError:
                        known = ", ".join(s.value for s in STATES)
                        raise FilterError(f"status: estado desconocido {part!r}; use uno de: {known}.") from None
        values["states"] = tuple(dict.fromkeys(states))
        verdicts = []
        for raw in args.getlist("verdict"):
            for part in raw.split(","):
                if part.strip():
                    try:
                        verdicts.append(Verdict(part.strip()))
                    except ValueError:
                        known = ", ".join(v.value for v in VERDICTS)
                        raise FilterError(f"verdict: verificación desconocida {part!r}; use una de: {known}.") from None
        values["verdicts"] = tuple(dict.fromkeys(verdicts))
        values["supplier"] = _text(args.get("supplier", ""), "supplier", 450)
        values["search"] = _text(args.get("q", ""), "q", 120)
        values["date_from"] = _date(args.get("from", ""), "from")
        values["date_to"] = _date(args.get("to", ""), "to")
        values["amount_min"] = _amount(args.get("min_amount", ""), "min_amount")
        values["amount_max"] = _amount(args.get("max_amount", ""), "max_amount")
        closing = args.get("closing_within", "").strip()
        if closing:
            if not digits(closing) or not 1 <= int(closing) <= MAX_CLOSING_WITHIN:
                raise FilterError(f"closing_within: días hábiles entre 1 y {MAX_CLOSING_WITHIN}, no {closing!r}.")
            values["closing_within"] = int(closing)
        due = args.get("due", "").strip()
        if due:
            if not digits(due) or not 0 <= int(due) <= MAX_DUE:
                raise FilterError(f"due: días hábiles entre 0 (hoy) y {MAX_DUE}, no {due!r}.")
            values["due"] = int(due)
        assigned = _text(args.get("assigned", ""), "assigned", 80)
        if assigned == "me":
            if not user:
                raise FilterError("assigned: «me» necesita un usuario con sesión iniciada.")
            assigned = user
        values["assigned"] = assigned
        values["order"] = _text(args.get("order", ""), "order", 100)
        dian = args.get("dian", "").strip()
        if dian and dian not in DIAN_FILTERS:
            raise FilterError(f"dian: use uno de: {', '.join(DIAN_FILTERS)}, no {dian!r}.")
        values["dian"] = dian
        values["quarantined"] = _flag(args, "quarantined")
        values["no_order"] = _flag(args, "no_order")
        sort = args.get("sort", "").strip() or DEFAULT_SORT
        if sort not in SORTS:
            raise FilterError(f"sort: orden desconocido {sort!r}; use uno de: {', '.join(SORTS)}.")
        values["sort"] = sort
        if values["date_from"] and values["date_to"] and values["date_from"] > values["date_to"]:
            raise FilterError("from: la fecha inicial es posterior a la final.")
        low, high = values["amount_min"], values["amount_max"]
        if low is not None and high is not None and low > high:
            raise FilterError("min_amount: el valor mínimo es mayor que el máximo.")
        return cls(**values)

    def to_args(self) -> dict[str, Any]:
        """The query-string parameters that reproduce this query (defaults left out), for links and url_for."""
        out: dict[str, Any] = {}
        for attr, name in self.PARAMS:
            value = getattr(self, attr)
            if attr in ("states", "verdicts"):
                if value:
                    out[name] = [s.value for s in value]
            elif attr in ("quarantined", "no_order"):
                if value:
                    out[name] = "1"
            elif attr == "sort":
                if value != DEFAULT_SORT:
                    out[name] = value
            elif value not in (None, ""):
                out[name] = value.isoformat() if isinstance(value, date) else str(value)
        return out

    @property
    def filtered(self) -> bool:
        """Whether any filter or search narrows the list (the sort alone does not)."""
        return any(getattr(self, f.name) not in (None, "", (), False) for f in fields(self) if f.name != "sort")


def _text(value: str, name: str, limit: int) -> str:
    value = value.strip()
    bad = _NOT_TEXT.search(value)
    if bad is not None:
        raise FilterError(f"{name}: contiene un carácter no permitido (U+{ord(bad.group()):04X}); use texto sin "
                          "controles.")  # fmt: skip
    if len(value) > limit:
        raise FilterError(f"{name}: el texto es demasiado largo (máximo {limit} caracteres).")
    return value


def _flag(args: Any, name: str) -> bool:
    """A yes/no parameter: 1/true/on/sí or 0/false/empty; anything else is refused by name."""
    value = args.get(name, "").strip().lower()
    if value not in ("", "0", "1", "true", "false", "on", "si", "sí"):
        raise FilterError(f"{name}: use 1 o 0, no {value!r}.")
    return value in ("1", "true", "on", "si", "sí")


def digits(value: str) -> bool:
    """ASCII digits only (str.isdigit also takes "²" and other Unicode digits that int() refuses)."""
    return value.isascii() and value.isdigit()


def _dmy(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"  # strftime writes year 1 as "1"


def _date(value: str, name: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    if len(value) > 10:
        raise FilterError(f"{name}: fecha inválida {value[:20]!r}; use AAAA-MM-DD o DD/MM/AAAA.")
    for parse in (date.fromisoformat, lambda v: datetime.strptime(v, "%d/%m/%Y").date()):
        try:
            day = parse(value)
        except ValueError:
            continue
        if not MIN_DATE <= day <= MAX_DATE:
            raise FilterError(
                f"{name}: la fecha {_dmy(day)} está fuera del rango que se puede buscar "
                f"({_dmy(MIN_DATE)} a {_dmy(MAX_DATE)})."
            )
        return day
    raise FilterError(f"{name}: fecha inválida {value!r}; use AAAA-MM-DD o DD/MM/AAAA.")


def _amount(value: str, name: str) -> Decimal | None:
    """A plain decimal (1234567.89), or the Colombian way when it has a comma (1.234.567,89)."""
    text = value.strip().replace("$", "").replace(" ", "")
    if not text:
        return None
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise FilterError(f"{name}: valor inválido {value!r}.") from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e16"):
        raise FilterError(f"{name}: valor fuera de rango {value!r}.")
    return amount


def dian_condition(kind: str) -> Any:
    """Documents with one of our events still on its way to DIAN, or whose last event of some code DIAN rejected."""
    E = DocumentEvent
    ours = sa.and_(E.direction == Direction.EMITTED, E.document_id.is_not(None))
    if kind == "pending":
        return D.id.in_(sa.select(E.document_id).where(ours, E.submission_state.in_(IN_FLIGHT)))
    later = aliased(DocumentEvent)
    redone = sa.exists().where(
        later.document_id == E.document_id, later.code == E.code, later.id > E.id, later.direction == Direction.EMITTED
    )
    return D.id.in_(sa.select(E.document_id).where(ours, E.submission_state == SubmissionState.REJECTED, ~redone))


def closing_cutoff(now: datetime, days: int, calendar: BusinessCalendar) -> datetime:
    """The end of the days-th business day counting from today (today itself when it is a business day).

    A window in the result has, in the countdown's terms, fewer than ``days`` whole business days left.
    """
    today = now.astimezone(BOGOTA).date()
    first = today if calendar.is_business_day(today) else calendar.add_business_days(today, 1)
    last = calendar.add_business_days(first, days - 1)
    return datetime.combine(last, time.max, tzinfo=BOGOTA)


# --- Keyset cursors -------------------------------------------------------------------------------------------------


def _micros(moment: datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def encode_cursor(sort: Sort, doc: ReceivedDocument) -> str:
    """Where the next page starts: the last row's sort value and id, URL-safe and exact."""
    return encode(sort, getattr(doc, sort.column.key), doc.id)


def encode(sort: Sort, value: Any, ident: int) -> str:
    if value is None:
        text = "n"
    elif sort.kind == "time":
        text = str(_micros(value))
    elif sort.kind == "money":
        text = format(Decimal(value), "f")
    else:
        text = base64.urlsafe_b64encode(str(value).encode("utf-8")).decode("ascii").rstrip("=")
    return f"{text}_{ident}"


def decode_cursor(sort: Sort, cursor: str) -> tuple[Any, int]:
    """The (value, id) of a cursor for this sort; a malformed one raises FilterError (a 400, never a first page)."""
    text, _, ident = cursor.rpartition("_")
    bad = FilterError("Cursor de paginación inválido.")
    # An id beyond 18 digits is no row of ours and would overflow SQLite's INTEGER.
    if not digits(ident) or len(ident) > 18 or not text or len(cursor) > 1000:
        raise bad
    if text == "n":
        if not sort.nullable:
            raise bad
        return None, int(ident)
    if sort.kind == "time":
        if not digits(text.lstrip("-")):
            raise bad
        try:
            return _EPOCH + timedelta(microseconds=int(text)), int(ident)
        except OverflowError:
            raise bad from None
    if sort.kind == "money":
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise bad from None
        if not value.is_finite():
            raise bad
        return value, int(ident)
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True).decode("utf-8"), int(
            ident
        )
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise bad from None


def args_of(query: InboxQuery, **extra: Any) -> Mapping[str, Any]:
    """The query's parameters plus extra ones (e.g. the cursor), for url_for."""
    return {**query.to_args(), **{k: v for k, v in extra.items() if v is not None}}
