"""The auditor's pack of a period, written as a stream: a zip whose members are written one at a time and handed out
as they are written (the command writes them to a file, the web to the response), never the whole pack in memory.

Layout (every path ASCII; <n> is the row id and the document's number):

    recibidos/AAAA-MM/<n>/documento.xml        the signed bytes exactly as received
                         adjunto.xml           the AttachedDocument as received
                         respuesta_dian.xml    DIAN's ApplicationResponse kept with it
                         representacion.pdf    the supplier's PDF, when it came with one
                         verificacion.json     Buzón's verification report
                         eventos/<code>_<n>.xml, eventos/<code>_<n>_respuesta_dian.xml   ours and the counterpart's
    emitidos/AAAA-MM/<n>/documento.xml, respuesta_dian.xml, adjunto.xml, representacion.pdf, eventos/...
    FALTANTES.txt   only when a stored file was missing from the blob store: which (the index says FALTA)
    indice.csv      one row per document and per event: kind, number, CUFE/CUDE, parties, dates, state, the files
                    (paths inside the zip) and their SHA-256
    SHA256SUMS      every file's SHA-256, as ``sha256sum -c`` reads it
    SELLO.xml       the seal (seal.py): the SHA-256 of SHA256SUMS and the audit chain's head, signed (XAdES)

Rows are read in chunks (rows.py), each chunk's events in one query; the index,
the sums and the zip's central directory go to temporary files as they grow and are copied in at the end
(zipstream.py), so memory stays flat whatever the number of members. The PDF of a document we issued is the
stored one, else drawn by the ``render_pdf`` the shell hands in (store may not import issuing).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
import tempfile
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from dian.calendar import BOGOTA
from dian.trust import SigningIdentity
from store import audit
from store.archive.retention import retention_until
from store.archive.rows import events_of, outbound_chunks, received_chunks
from store.archive.seal import SEAL_NAME, SUMS_NAME, Seal, signed_seal
from store.archive.zipstream import ZipStream
from store.blobs import BlobError, BlobStore
from store.models import DocumentEvent, utcnow

INDEX_NAME = "indice.csv"
MISSING_NAME = "FALTANTES.txt"
MISSING_HEADER = ("Archivos que la base de datos nombra y el almacén de Buzón ya no tiene (ruta en el paquete y clave "
                  "SHA-256); el índice los marca FALTA.\n")  # fmt: skip
INDEX_COLUMNS = ("tipo", "id", "clase", "numero", "cufe_cude", "documento_cufe", "emisor_nit", "emisor_nombre",
                 "receptor_nit", "receptor_nombre", "fecha_emision", "fecha_registro", "estado", "conservar_hasta",
                 "archivos", "sha256")  # fmt: skip
COPY = 1 << 16
PdfRenderer = Callable[[bytes, dt.datetime | None], bytes]
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_T = TypeVar("_T")


class PackError(ValueError):
    """A pack that cannot be made (a bad period); the message names the value."""


@dataclass(frozen=True)
class PackRequest:
    period_from: dt.date
    period_to: dt.date
    company_nit: str
    company_name: str
    actor: str

    def __post_init__(self) -> None:
        if self.period_from > self.period_to:
            raise PackError(f"period: {self.period_from} is after {self.period_to}")


@dataclass
class PackSummary:
    """What the last export wrote (filled as it goes; complete once the stream is exhausted)."""

    documents: int = 0
    events: int = 0
    files: int = 0
    missing: list[str] = field(default_factory=list)  # "path (blob key)": a blob the store no longer has
    sums_sha256: str = ""


class _Sink:
    """Where the zip writes (zipstream.py, front to back); ``take`` hands out what was written since."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def _safe(text: str) -> str:
    return _UNSAFE.sub("_", text).strip("._")[:60] or "sin-numero"


class _Writer:
    def __init__(self, sink: _Sink, stamp: dt.datetime, summary: PackSummary) -> None:
        self.zip = ZipStream(sink.write, stamp.astimezone(BOGOTA))
        self.sums: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed in _Pack.finish)
        self.summary = summary

    def add(self, path: str, data: bytes) -> str:
        """One member; its SHA-256 (also written to the sums)."""
        digest = hashlib.sha256(data).hexdigest()
        self.zip.add(path, data)
        self.sums.write(f"{digest}  {path}\n".encode())
        self.summary.files += 1
        return digest

    def add_stream(self, path: str, source: IO[bytes]) -> Generator[None, None, str]:
        """One member copied from a file in pieces (a generator: see ZipStream.add_file); returns its SHA-256 (not
        written to the sums: the caller decides)."""
        digest = hashlib.sha256()
        source.seek(0)
        while piece := source.read(COPY):
            digest.update(piece)
        yield from self.zip.add_file(path, source)
        self.summary.files += 1
        return digest.hexdigest()


@dataclass
class _Files:
    """The files of one row as the index lists them."""

    paths: list[str] = field(default_factory=list)
    sums: list[str] = field(default_factory=list)


def _blob_member(writer: _Writer, blobs: BlobStore, files: _Files, path: str, key: str | None) -> bytes | None:
    if not key:
        return None
    try:
        data = blobs.get(key)
    except BlobError:
        writer.summary.missing.append(f"{path} ({key})")
        files.paths.append(path)
        files.sums.append("FALTA")
        return None
    files.paths.append(path)
    files.sums.append(writer.add(path, data))
    return data


def _day(moment: dt.datetime | dt.date | None) -> str:
    if moment is None:
        return ""
    if isinstance(moment, dt.datetime):
        return moment.astimezone(BOGOTA).isoformat(timespec="seconds")
    return moment.isoformat()


def _chain_head(session: Session) -> tuple[str, str]:
    """The audit chain's head (position, hash) once every entry committed so far is sealed (store/audit_chain.py),
    so the pack names a head that covers the whole log as it stood when the export began."""
    session.commit()  # end any read transaction: the head is read after the seal
    bind = session.get_bind()
    engine = bind if isinstance(bind, sa.Engine) else bind.engine
    audit.seal(engine)
    position, digest = audit.chain_head(session)
    return str(position), str(digest)


class _Pack:
    def __init__(self, blobs: BlobStore, request: PackRequest, render_pdf: PdfRenderer | None, now: dt.datetime,
                 summary: PackSummary) -> None:  # fmt: skip
        self.blobs, self.request, self.render_pdf = blobs, request, render_pdf
        self.now = now
        self.sink = _Sink()
        self.summary = summary
        self.writer = _Writer(self.sink, now, summary)
        self.index_file: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")  # noqa: SIM115
        self.index = csv.writer(self.index_file)
        self.index.writerow(INDEX_COLUMNS)

    def _events(self, folder: str, events: list[Any], document_cufe: str, keep: dt.date | None) -> None:
        for ev in events:
            files = _Files()
            name = f"{ev.code.value}_{_safe(ev.number or '')}_{ev.id}"
            _blob_member(self.writer, self.blobs, files, f"{folder}/eventos/{name}.xml", ev.signed_xml_blob)
            _blob_member(self.writer, self.blobs, files, f"{folder}/eventos/{name}_respuesta_dian.xml",
                         ev.dian_response_blob)  # fmt: skip
            kind = "evento_propio" if ev.direction.value == "emitted" else "evento_contraparte"
            self._row(kind, ev.id, ev.code.value, ev.number or "", ev.cude or "", document_cufe, ev.sender_nit,
                      ev.sender_name, ev.receiver_nit, ev.receiver_name, _day(ev.signing_time),
                      _day(ev.registered_at), ev.submission_state.value, keep, files)  # fmt: skip
            self.summary.events += 1

    def _row(self, kind: str, ident: int, klass: str, number: str, code: str, document: str, from_nit: Any,
             from_name: Any, to_nit: Any, to_name: Any, issued: str, registered: str, state: str,
             keep: dt.date | None, files: _Files) -> None:  # fmt: skip
        self.index.writerow((kind, ident, klass, number, code, document, from_nit or "", from_name or "",
                             to_nit or "", to_name or "", issued, registered, state, _day(keep),
                             ";".join(files.paths), ";".join(files.sums)))  # fmt: skip

    def received(self, session: Session, rows: list[Any]) -> Iterator[bytes]:
        events = events_of(session, DocumentEvent.document_id, [row.id for row in rows])
        for row in rows:
            folder = f"recibidos/{row.issue_date:%Y-%m}/{row.id}_{_safe(row.number)}"
            files = _Files()
            for name, key in (("documento.xml", row.signed_xml_blob), ("adjunto.xml", row.attached_blob),
                              ("respuesta_dian.xml", row.dian_response_blob), ("representacion.pdf", row.pdf_blob)):
                _blob_member(self.writer, self.blobs, files, f"{folder}/{name}", key)
            report = json.dumps(row.report or {}, ensure_ascii=False, sort_keys=True, indent=1).encode()
            files.paths.append(f"{folder}/verificacion.json")
            files.sums.append(self.writer.add(f"{folder}/verificacion.json", report))
            keep = retention_until(row.issue_date)
            self._row("recibido", row.id, row.document_type.value, row.number, row.cufe, "", row.issuer_nit,
                      row.issuer_name, row.buyer_nit, row.buyer_name, _day(row.issued_at), "", row.state.value,
                      keep, files)  # fmt: skip
            self.summary.documents += 1
            self._events(folder, events.get(row.id, []), row.cufe, keep)
            yield self.sink.take()

    def outbound(self, session: Session, rows: list[Any]) -> Iterator[bytes]:
        events = events_of(session, DocumentEvent.outbound_document_id, [row.id for row in rows])
        for row in rows:
            number = f"{row.prefix}{row.number}" if not row.number.startswith(row.prefix) else row.number
            folder = f"emitidos/{row.issued_at.astimezone(BOGOTA):%Y-%m}/{row.id}_{_safe(number)}"
            files = _Files()
            xml = _blob_member(self.writer, self.blobs, files, f"{folder}/documento.xml", row.xml_blob)
            for name, key in (("respuesta_dian.xml", row.dian_response_blob), ("adjunto.xml", row.attached_blob)):
                _blob_member(self.writer, self.blobs, files, f"{folder}/{name}", key)
            pdf_path = f"{folder}/representacion.pdf"
            if row.pdf_blob:
                _blob_member(self.writer, self.blobs, files, pdf_path, row.pdf_blob)
            elif xml is not None and self.render_pdf is not None:
                files.paths.append(pdf_path)
                files.sums.append(self.writer.add(pdf_path, self.render_pdf(xml, row.validated_at)))
            if row.report:
                report = json.dumps(row.report, ensure_ascii=False, sort_keys=True, indent=1).encode()
                files.paths.append(f"{folder}/verificacion.json")
                files.sums.append(self.writer.add(f"{folder}/verificacion.json", report))
            keep = retention_until(row.issue_date or row.issued_at.astimezone(BOGOTA).date())
            self._row("emitido", row.id, row.document_type.value, number, row.cufe or "", "",
                      self.request.company_nit, self.request.company_name, row.buyer_nit, row.buyer_name,
                      _day(row.issued_at), _day(row.validated_at), row.state.value, keep, files)  # fmt: skip
            self.summary.documents += 1
            self._events(folder, events.get(row.id, []), row.cufe or "", keep)
            yield self.sink.take()

    def _drain(self, steps: Generator[None, None, _T]) -> Generator[bytes, None, _T]:
        """Run a writing generator, handing out what each step wrote; its return value."""
        while True:
            try:
                next(steps)
            except StopIteration as done:
                return done.value
            if data := self.sink.take():
                yield data

    def finish(self, chain: tuple[str, str], identity: SigningIdentity) -> Iterator[bytes]:
        if self.summary.missing:  # said inside the pack too, not only by the command: proof, not appearance
            lines = "".join(f"{m}\n" for m in self.summary.missing)
            self.writer.add(MISSING_NAME, (MISSING_HEADER + lines).encode())
        self.index_file.flush()
        index_binary = self.index_file.buffer  # type: ignore[attr-defined]
        digest = yield from self._drain(self.writer.add_stream(INDEX_NAME, index_binary))
        self.writer.sums.write(f"{digest}  {INDEX_NAME}\n".encode())
        self.index_file.close()
        sums = self.writer.sums
        sums.flush()
        self.summary.sums_sha256 = yield from self._drain(self.writer.add_stream(SUMS_NAME, sums))
        files_listed = self.summary.files - 1  # SHA256SUMS does not list itself
        sums.close()
        seal = Seal(company_nit=self.request.company_nit, company_name=self.request.company_name,
                    period_from=self.request.period_from, period_to=self.request.period_to, generated_at=self.now,
                    files=files_listed, sums_sha256=self.summary.sums_sha256, chain_position=chain[0],
                    chain_hash=chain[1], documents=self.summary.documents,
                    events=self.summary.events)  # fmt: skip
        self.writer.zip.add(SEAL_NAME, signed_seal(seal, identity))
        self.summary.files += 1
        yield from self._drain(self.writer.zip.close())
        if data := self.sink.take():
            yield data


def stream_pack(
    session: Session,
    blobs: BlobStore,
    identity: SigningIdentity,
    request: PackRequest,
    *,
    render_pdf: PdfRenderer | None = None,
    now: dt.datetime | None = None,
    summary: PackSummary | None = None,
) -> Iterator[bytes]:
    """The pack's bytes, piece by piece, read through ``session``; once exhausted, ``summary`` is complete and the
    export is audited and committed (``archive.exported``: the period, the counts, the SHA-256 of SHA256SUMS)."""
    now = now or utcnow()
    summary = summary if summary is not None else PackSummary()
    pack = _Pack(blobs, request, render_pdf, now, summary)
    chain = _chain_head(session)
    for rows in received_chunks(session, request.period_from, request.period_to):
        yield from pack.received(session, rows)
    for rows in outbound_chunks(session, request.period_from, request.period_to):
        yield from pack.outbound(session, rows)
    yield from pack.finish(chain, identity)
    audit.record(session, actor=request.actor, action="archive.exported",
                 subject=f"periodo:{request.period_from}..{request.period_to}",
                 data={"period_from": request.period_from.isoformat(), "period_to": request.period_to.isoformat(),
                       "documents": summary.documents, "events": summary.events, "files": summary.files,
                       "missing": len(summary.missing), "sums_sha256": summary.sums_sha256,
                       "audit_chain": chain[0]})  # fmt: skip
    session.commit()


def write_pack(path: Any, *args: Any, **kwargs: Any) -> PackSummary:
    """stream_pack into a file: written beside it under a temporary name, renamed when complete."""
    from pathlib import Path

    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    summary = kwargs.pop("summary", None) or PackSummary()
    try:
        with open(partial, "wb") as out:
            for piece in stream_pack(*args, summary=summary, **kwargs):
                out.write(piece)
            out.flush()
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return summary

