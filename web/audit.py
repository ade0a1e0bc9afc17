"""The audit log for the auditor, in Spanish: who (named), did what (in words), to which document (number and
supplier, linked), with the data as labelled fields; filters, pages of PAGE_SIZE, and a streamed CSV export.

Keyset pages on the id (entries are append-only, so the id order is the order they were written): ``antes`` goes to
older entries, ``despues`` to newer ones. The words come from web/audit_labels.py; this module reads the database.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, render_template, request, stream_with_context, url_for
from sqlalchemy.orm import Session

from dian.calendar import BOGOTA
from store.models import ApiToken, AuditEntry, DocumentEvent, MailMessage, ReceivedDocument, Role, User
from web import tenant
from web.access import roles
from web.audit_labels import ACTION_KINDS, JOB_NAMES, describe_action, describe_actor, readable_fields

bp = Blueprint("audit", __name__)
PAGE_SIZE = 50
EXPORT_BATCH = 1000
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)  # dates outside are refused, never a 500
MAX_DOCUMENTS = 200  # documents a "Documento" filter may stand for
HEX = re.compile(r"^[0-9a-f]+$")
# Non-person actors the "Quién" filter offers; a value ending in ":" takes every actor of that kind.
ACTOR_GROUPS = {
    "job:": "Tareas automáticas",
    "system:": "Buzón (procesos internos)",
    "cli:": "Línea de comandos del servidor",
    "dian:": "La DIAN",
    "anonymous": "Alguien sin sesión",
}
ACTOR_GROUP_VALUES = frozenset(ACTOR_GROUPS)


class FilterError(ValueError):
    """A filter value the log cannot use; the message is Spanish and names the filter."""


def _db() -> Session:
    return tenant.db()


def _day(value: str, label: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise FilterError(f"{label}: «{value[:40]}» no es una fecha; use AAAA-MM-DD.") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise FilterError(
            f"{label}: la fecha {day.isoformat()} está fuera del rango que admite el registro "
            f"({FIRST_DAY.isoformat()} a {LAST_DAY.isoformat()})."
        )
    return day


def _cursor(value: str, label: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 15:
        raise FilterError(f"{label}: cursor de paginación inválido.")
    return int(value)


@dataclass
class Filters:
    """The filters as asked (to refill the form and build the links) and the WHERE clauses they make."""

    asked: dict[str, str]
    where: list[Any] = field(default_factory=list)
    note: str | None = None  # e.g. the documents a "Documento" filter found


ASKED_KEYS = ("desde", "hasta", "quien", "tipo", "documento", "user", "subject", "action", "from", "to")


def _document_subjects(session: Session, text: str) -> tuple[list[Any], str]:
    """The subjects that stand for the documents matching ``text`` (number, part of it, or a CUFE prefix)."""
    needle = text.strip()
    lowered = needle.lower()
    query = sa.select(ReceivedDocument.id, ReceivedDocument.cufe, ReceivedDocument.number, ReceivedDocument.issuer_name)
    if HEX.match(lowered) and len(lowered) >= 8:
        query = query.where(sa.or_(ReceivedDocument.cufe.startswith(lowered, autoescape=True),
                                   sa.func.lower(ReceivedDocument.number) == lowered))  # fmt: skip
    else:
        query = query.where(sa.func.lower(ReceivedDocument.number).contains(lowered, autoescape=True))
    docs = session.execute(query.order_by(ReceivedDocument.id).limit(MAX_DOCUMENTS + 1)).all()
    if not docs:
        # A CUFE not on file (an event seen before its invoice) is still a subject of its own.
        if HEX.match(lowered) and len(lowered) >= 8:
            return [
                AuditEntry.subject.startswith(lowered, autoescape=True)
            ], f"Ningún documento archivado con CUFE {lowered[:16]}…; se buscan entradas con ese CUFE."
        raise FilterError(
            f"Documento: ninguno coincide con «{needle[:60]}» (número, parte del número o inicio del CUFE)."
        )
    if len(docs) > MAX_DOCUMENTS:
        raise FilterError(
            f"Documento: «{needle[:60]}» coincide con más de {MAX_DOCUMENTS} documentos; escriba más del número."
        )
    ids = [d.id for d in docs]
    subjects: set[str] = {d.cufe for d in docs}
    cudes = session.scalars(
        sa.select(DocumentEvent.cude).where(DocumentEvent.document_id.in_(ids), DocumentEvent.cude.is_not(None))
    )
    subjects |= {f"event:{c}" for c in cudes}
    clauses: list[Any] = [AuditEntry.subject.in_(subjects)]
    clauses += [AuditEntry.subject.startswith(f"reminder:{i}:", autoescape=True) for i in ids[:20]]
    names = ", ".join(f"{d.number} ({d.issuer_name})" for d in docs[:5]) + (" y otros" if len(docs) > 5 else "")
    return clauses, f"Documento: {names}."


def parse_filters(args: Any, session: Session) -> Filters:
    """Read the filters from the query string; FilterError (Spanish, naming the filter) for an unusable one."""
    asked = {k: str(args.get(k, "")).strip()[:200] for k in ASKED_KEYS}
    asked = {k: v for k, v in asked.items() if v}
    found = Filters(asked)
    where = found.where
    who = asked.get("quien") or asked.get("user")
    if who:
        if who in ACTOR_GROUP_VALUES and who.endswith(":"):
            where.append(AuditEntry.actor.startswith(who, autoescape=True))
        elif ":" in who or who == "anonymous":
            where.append(AuditEntry.actor == who)
        else:
            where.append(AuditEntry.actor == f"user:{who.lower()}")
    if asked.get("tipo"):
        kind = ACTION_KINDS.get(asked["tipo"])
        if kind is None:
            raise FilterError("Tipo de acción: elija uno de la lista.")
        where.append(sa.or_(*(sa.or_(AuditEntry.action == p, AuditEntry.action.startswith(p + ".", autoescape=True))
                              for p in kind[1])))  # fmt: skip
    if asked.get("action"):
        action = asked["action"]  # an exact code, or its leading whole words: "document.event" finds …observed
        where.append(sa.or_(AuditEntry.action == action, AuditEntry.action.startswith(action + ".", autoescape=True)))
    if asked.get("subject"):
        subject = asked["subject"]  # a CUFE is stored in lower case; other subjects (user:ana, mail:12) as written
        where.append(AuditEntry.subject.in_({subject, subject.lower()}))
    if asked.get("documento"):
        clauses, found.note = _document_subjects(session, asked["documento"])
        where.append(sa.or_(*clauses))
    first = _day(asked.get("desde") or asked.get("from", ""), "Desde")
    last = _day(asked.get("hasta") or asked.get("to", ""), "Hasta")
    if first and last and first > last:
        raise FilterError(
            f"Desde ({first.isoformat()}) es posterior a Hasta ({last.isoformat()}): invierta las fechas."
        )
    if first:
        where.append(AuditEntry.at >= datetime.combine(first, time.min, tzinfo=BOGOTA))
    if last:
        where.append(AuditEntry.at < datetime.combine(last + timedelta(days=1), time.min, tzinfo=BOGOTA))
    return found


# --- Words for the rows -----------------------------------------------------------------------------------------


def _kind_of(document_type: Any) -> str:
    value = getattr(document_type, "value", document_type)
    return {"91": "Nota crédito", "92": "Nota débito"}.get(value, "Factura")


@dataclass(frozen=True)
class Subject:
    """A subject in words: what it is, an optional second line (the supplier), a link and the stored code."""

    text: str
    detail: str = ""
    url: str | None = None
    code: str = ""


class Describer:
    """Turns a batch of entries into words with one query per kind of thing they mention."""

    def __init__(self, session: Session, entries: Iterable[AuditEntry]) -> None:
        entries = list(entries)
        self.people = {
            u.username: (" ".join(p for p in (u.first_name, u.family_name) if p) or u.username, str(u.role))
            for u in session.scalars(sa.select(User))
        }
        subjects = {e.subject for e in entries if e.subject}
        cufes = {s for s in subjects if len(s) >= 64 and HEX.match(s)}
        doc_ids = {
            int(v) for e in entries if isinstance(e.data, dict) and str(v := e.data.get("document_id", "")).isdigit()
        }
        doc_ids |= {int(m.group(1)) for s in subjects if (m := re.match(r"^reminder:(\d{1,15}):", s))}
        cudes = {s[6:] for s in subjects if s.startswith("event:")}
        self.events: dict[str, tuple[str, int | None]] = {}
        if cudes:
            for cude, code, document_id in session.execute(
                sa.select(DocumentEvent.cude, DocumentEvent.code, DocumentEvent.document_id).where(
                    DocumentEvent.cude.in_(cudes)
                )
            ):
                self.events[cude] = (getattr(code, "value", code), document_id)
                if document_id:
                    doc_ids.add(document_id)
        self.by_cufe: dict[str, Any] = {}
        self.by_id: dict[int, Any] = {}
        columns = (ReceivedDocument.id, ReceivedDocument.cufe, ReceivedDocument.number, ReceivedDocument.issuer_name,
                   ReceivedDocument.document_type)  # fmt: skip
        if cufes or doc_ids:
            rows = session.execute(
                sa.select(*columns).where(sa.or_(ReceivedDocument.cufe.in_(cufes), ReceivedDocument.id.in_(doc_ids)))
            )
            for row in rows:
                self.by_cufe[row.cufe] = row
                self.by_id[row.id] = row
        mail_ids = {int(s[5:]) for s in subjects if s.startswith("mail:") and s[5:].isdigit() and len(s) < 20}
        mails = sa.select(MailMessage.id, MailMessage.sender, MailMessage.subject).where(MailMessage.id.in_(mail_ids))
        self.mails = {m.id: m for m in session.execute(mails)} if mail_ids else {}
        token_ids = {int(s[10:]) for s in subjects if s.startswith("api_token:") and s[10:].isdigit() and len(s) < 25}
        tokens = sa.select(ApiToken.id, ApiToken.name, ApiToken.prefix).where(ApiToken.id.in_(token_ids))
        self.tokens = {t.id: t for t in session.execute(tokens)} if token_ids else {}

    def _document(self, row: Any, prefix: str = "") -> Subject:
        return Subject(f"{prefix}{_kind_of(row.document_type)} {row.number}", row.issuer_name,
                       url_for("documents.show", document_id=row.id), row.cufe)  # fmt: skip

    def subject(self, entry: AuditEntry) -> Subject | None:
        raw = entry.subject
        data = entry.data if isinstance(entry.data, dict) else {}
        if not raw:
            return None
        if raw in self.by_cufe:
            return self._document(self.by_cufe[raw])
        kind, _, rest = raw.partition(":")
        if kind == "event" and rest in self.events:
            code, document_id = self.events[rest]
            if document_id in self.by_id:
                found = self._document(self.by_id[document_id], f"Aviso del evento {code} · ")
                return Subject(found.text, found.detail, found.url, raw)
        if kind == "reminder" and (m := re.match(r"^(\d{1,15}):", rest)) and int(m.group(1)) in self.by_id:
            found = self._document(self.by_id[int(m.group(1))], "Recordatorio · ")
            return Subject(found.text, found.detail, found.url, raw)
        if kind == "user" and rest:
            person = self.people.get(rest)
            text = f"Usuario {rest}" + (f" ({person[0]})" if person and person[0] != rest else "")
            return Subject(text, "", url_for("audit.index", subject=raw), raw)
        if kind == "mail" and rest.isdigit():
            mail = self.mails.get(int(rest))
            if mail is not None:
                return Subject(f"Correo n.º {rest} de {mail.sender or 'remitente desconocido'}", f"«{mail.subject}»",
                               url_for("audit.index", subject=raw), raw)  # fmt: skip
            return Subject(f"Correo n.º {rest}", "", url_for("audit.index", subject=raw), raw)
        if kind == "api_token" and rest.isdigit():
            token = self.tokens.get(int(rest))
            detail = f"«{token.name}» ({token.prefix}…)" if token is not None else ""
            return Subject(f"Token de API n.º {rest}", detail, url_for("audit.index", subject=raw), raw)
        if kind == "webhook" and rest.isdigit():
            document_id = data.get("document_id")
            if isinstance(document_id, int) and document_id in self.by_id:
                found = self._document(self.by_id[document_id], f"Webhook n.º {rest} · ")
                return Subject(found.text, found.detail, found.url, raw)
            return Subject(f"Envío de webhook n.º {rest}", "", None, raw)
        if kind == "supplier" and rest:
            return Subject(f"Proveedor NIT {rest}", "", url_for("suppliers.show", nit=rest), raw)
        if kind == "job" and rest:
            return Subject(f"Tarea «{JOB_NAMES.get(rest, rest)}»", "", None, raw)
        if kind == "dian" and rest:
            return Subject(f"DIAN — ambiente {rest}", "", None, raw)
        if entry.action == "dian.certificate.learned":
            return Subject(
                "Certificado de firma de la DIAN", f"huella SPKI {raw}…", url_for("dian_certificates.index"), raw
            )
        if len(raw) >= 64 and HEX.match(raw):
            return Subject("Documento aún no archivado", f"CUFE {raw}", None, raw)
        document_id = data.get("document_id")
        if isinstance(document_id, int) and document_id in self.by_id:
            found = self._document(self.by_id[document_id])
            return Subject(found.text, found.detail, found.url, raw)
        return Subject(raw, "", url_for("audit.index", subject=raw), raw)

    def row(self, entry: AuditEntry) -> dict[str, Any]:
        return {
            "id": entry.id,
            "at": entry.at.astimezone(BOGOTA).strftime("%d/%m/%Y %H:%M:%S"),
            "actor": describe_actor(entry.actor, self.people),
            "actor_code": entry.actor,
            "action": describe_action(entry.action),
            "action_code": entry.action,
            "subject": self.subject(entry),
            "source": entry.source or "",
            "fields": readable_fields(entry.data if isinstance(entry.data, dict) else None),
        }


# --- The page ---------------------------------------------------------------------------------------------------


def _actor_choices(session: Session) -> list[tuple[str, str]]:
    people = [(f"user:{u.username}", describe_actor(f"user:{u.username}", {
        u.username: (" ".join(p for p in (u.first_name, u.family_name) if p) or u.username, str(u.role))}))
        for u in session.scalars(sa.select(User).order_by(User.username))]  # fmt: skip
    return people + list(ACTOR_GROUPS.items())


def _render(filters: Filters | None, *, error: str | None = None, status: int = 200, **page: Any) -> Any:
    session = _db()
    asked = (
        filters.asked if filters else {k: v for k in ASKED_KEYS if (v := str(request.args.get(k, "")).strip()[:200])}
    )
    return render_template(
        "audit.html",
        asked=asked,
        error=error,
        note=filters.note if filters else None,
        actors=_actor_choices(session),
        kinds=[(k, label) for k, (label, _) in ACTION_KINDS.items()],
        first_day=FIRST_DAY.isoformat(),
        last_day=LAST_DAY.isoformat(),
        page_size=PAGE_SIZE,
        **({"rows": [], "newer": None, "older": None, "paged": False} | page),
    ), status


@bp.get("/auditoria")
@roles(Role.AUDITOR, Role.ADMIN)
def index() -> Any:
    """The audit log, newest first, PAGE_SIZE entries a page, with filters; links to older and newer pages."""
    session = _db()
    try:
        filters = parse_filters(request.args, session)
        before = _cursor(request.args.get("antes", "") or request.args.get("before", ""), "Página")
        after = _cursor(request.args.get("despues", ""), "Página")
    except FilterError as exc:
        return _render(None, error=str(exc), status=400)
    query = sa.select(AuditEntry).where(*filters.where)
    if after is not None and before is None:
        entries = list(session.scalars(query.where(AuditEntry.id > after).order_by(AuditEntry.id).limit(PAGE_SIZE)))
        entries.reverse()
    else:
        if before is not None:
            query = query.where(AuditEntry.id < before)
        entries = list(session.scalars(query.order_by(AuditEntry.id.desc()).limit(PAGE_SIZE)))
    newer = older = None
    if entries:
        exists = sa.select(AuditEntry.id).where(*filters.where)
        if session.scalar(exists.where(AuditEntry.id > entries[0].id).limit(1)) is not None:
            newer = entries[0].id
        if session.scalar(exists.where(AuditEntry.id < entries[-1].id).limit(1)) is not None:
            older = entries[-1].id
    describer = Describer(session, entries)
    return _render(filters, rows=[describer.row(e) for e in entries], newer=newer, older=older,
                   paged=before is not None or after is not None)  # fmt: skip


# --- CSV --------------------------------------------------------------------------------------------------------

CSV_HEADERS = ("Fecha y hora (Bogotá)", "Quién", "Qué hizo", "Documento o sujeto", "Proveedor o detalle", "Datos",
               "Origen", "Código de acción", "Actor (código)", "Sujeto (código)")  # fmt: skip


def _cell(text: str) -> str:
    """A cell Excel will not run as a formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_lines(session: Session, filters: Filters) -> Iterator[str]:
    """The filtered log, newest first, as `;`-separated lines with a BOM (Excel in es-CO), EXPORT_BATCH at a time."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")

    def line(values: Iterable[str]) -> str:
        out.seek(0)
        out.truncate()
        writer.writerow([_cell(v) for v in values])
        return out.getvalue()

    yield "\ufeff" + line(CSV_HEADERS)
    before: int | None = None
    while True:
        query = sa.select(AuditEntry).where(*filters.where)
        if before is not None:
            query = query.where(AuditEntry.id < before)
        batch = list(session.scalars(query.order_by(AuditEntry.id.desc()).limit(EXPORT_BATCH)))
        if not batch:
            return
        describer = Describer(session, batch)
        for entry in batch:
            row = describer.row(entry)
            subject: Subject | None = row["subject"]
            data = " | ".join(f"{label}: {value}" for label, value in row["fields"])
            yield line((row["at"], row["actor"], row["action"], subject.text if subject else "",
                        subject.detail if subject else "", data, row["source"], entry.action, entry.actor,
                        entry.subject or ""))  # fmt: skip
        before = batch[-1].id
        for entry in batch:
            session.expunge(entry)  # a long export must not keep every entry it wrote in memory


@bp.get("/auditoria/exportar.csv")
@roles(Role.AUDITOR, Role.ADMIN)
def export_csv() -> Any:
    """The filtered log as CSV, streamed (filters are checked before the first byte, so a bad one is a 400 page)."""
    session = _db()
    try:
        filters = parse_filters(request.args, session)
    except FilterError as exc:
        return _render(None, error=str(exc), status=400)
    stamp = datetime.now(UTC).astimezone(BOGOTA).strftime("%Y%m%d-%H%M")
    return Response(
        stream_with_context(csv_lines(session, filters)),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="auditoria-{stamp}.csv"',
            "Content-Type": "text/csv; charset=utf-8",
        },
    )
