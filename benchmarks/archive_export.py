"""The auditor's pack of a period at scale: MB/s and peak-RSS growth of `store.archive.pack.write_pack` over N
received documents (a real signed invoice each, made unique, with DIAN's answer, the verification report, and an
emitted 030 with its answer on every fourth), at two sizes: flat RSS between them is what streaming means.

Run from the repository root:
``.venv/bin/python benchmarks/archive_export.py [--documents 20000 40000] [--database sqlite|postgresql|both]``.
Prints figures; asserts nothing. Each export runs in a fresh child process (benchmarks/_measure.py's ``measured``:
the peak RSS it adds over the process's RSS before it starts). Setup (not timed): rows from benchmarks/web.py's
``rows`` written with Core INSERTs, blobs with ``BlobStore.put_keyed`` in batches. No issued documents: drawing their
PDFs (issuing/pdf.py, about 20-40 ms each) would measure reportlab, not the pack.

Measured 2026-12-06 on the shared 2-core machine (reference loop 45.5 ms), 20k → 40k documents (70k → 140k files,
161 → 321 MB of zip from ~435 → 869 MB of stored bytes): SQLite 18.0 s → 42.2 s (8.9 and 7.6 MB/s of zip, about
1,000 documents/s), peak RSS +16.5 → +16.7 MB; PostgreSQL 14.4 s → 19.0 s (11.1 and 16.9 MB/s), +15.6 → +15.5 MB.
Flat: a year of 200k documents needs the same memory. (Before the central directory was spooled, Python's zipfile
grew it +84 → +161 MB.)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._measure import measured, reference_line  # noqa: E402
from benchmarks.web import COLUMNS, rows  # noqa: E402
from store.blobs import BlobStore  # noqa: E402
from store.db import make_engine, migrate  # noqa: E402
from store.models import DocumentEvent, ReceivedDocument  # noqa: E402

SAMPLE = "invoice_alpha_FV937_sw890930534.xml"
BATCH = 2000


def _sample() -> bytes:
    shared = Path(os.environ.get("BUZON_SHARED", REPO.parent / "shared"))
    return (shared / "samples" / SAMPLE).read_bytes()


def _answer(n: int) -> bytes:
    body = "".join(f"<cbc:Description>Regla {i}: la validación {n} fue exitosa</cbc:Description>" for i in range(40))
    return f'<?xml version="1.0" encoding="UTF-8"?><ApplicationResponse n="{n}">{body}</ApplicationResponse>'.encode()


def fill(url: str, blobs: BlobStore, count: int) -> None:
    """``count`` received documents with unique signed bytes and DIAN's answer; a 030 on every fourth."""
    sample = _sample()
    engine = make_engine(url)
    table, events = ReceivedDocument.__table__, DocumentEvent.__table__
    json_columns = {"taxes", "lines", "report"}
    try:
        with engine.begin() as conn:
            batch, stored, event_rows = [], {}, []
            for n, row in enumerate(rows(count), 1):
                values = dict(zip(COLUMNS, row, strict=True))
                for key in json_columns:
                    values[key] = json.loads(values[key])
                xml = sample + f"<!-- copia {n} -->".encode()
                answer = _answer(n)
                values["signed_xml_blob"] = key = hashlib.sha256(xml).hexdigest()
                values["dian_response_blob"] = answer_key = hashlib.sha256(answer).hexdigest()
                values["pdf_blob"] = None
                stored[key], stored[answer_key] = xml, answer
                batch.append(values)
                if n % 4 == 0:
                    event = _answer(-n)
                    event_key = hashlib.sha256(event).hexdigest()
                    stored[event_key] = event
                    event_rows.append({"document_id": n, "code": "030", "direction": "emitted", "number": f"AR{n}",
                                       "cude": hashlib.sha384(f"e{n}".encode()).hexdigest(),
                                       "signed_xml_blob": event_key, "dian_response_blob": answer_key,
                                       "submission_state": "registered", "actor": "bench",
                                       "created_at": values["issued_at"], "updated_at": values["issued_at"],
                                       "dian_messages": [], "attempts": 1})  # fmt: skip
                if len(batch) == BATCH:
                    conn.execute(table.insert(), batch)
                    conn.execute(events.insert(), event_rows) if event_rows else None
                    blobs.put_keyed(stored)
                    batch, stored, event_rows = [], {}, []
            if batch:
                conn.execute(table.insert(), batch)
                if event_rows:
                    conn.execute(events.insert(), event_rows)
                blobs.put_keyed(stored)
    finally:
        engine.dispose()


def child(url: str, blob_dir: str, out: str) -> None:
    """One export, measured; prints a JSON line."""
    from dian.trust import SigningIdentity
    from store.archive.pack import PackRequest, PackSummary, write_pack
    from store.db import session_factory
    from tests.pki import pki

    company = pki().company
    identity = SigningIdentity(company.key, company.cert, company.chain)
    engine = make_engine(url)
    sessions = session_factory(engine)
    blobs = BlobStore(Path(blob_dir))
    request = PackRequest(date(2023, 12, 1), date(2024, 12, 31), "900123456-8", "Empresa Demo S.A.S.", "bench")
    summary = PackSummary()

    def run() -> None:
        with sessions() as session:
            write_pack(Path(out), session, blobs, identity, request, summary=summary)

    _, seconds, grown_kb = measured(run)
    size = Path(out).stat().st_size
    print(json.dumps({"seconds": seconds, "rss_kb": grown_kb, "bytes": size, "documents": summary.documents,
                      "events": summary.events, "files": summary.files}))  # fmt: skip
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, nargs="+", default=[20_000, 40_000])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--child", nargs=3, metavar=("URL", "BLOBS", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    print(reference_line())
    kinds = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    for kind in kinds:
        for count in args.documents:
            with tempfile.TemporaryDirectory(prefix="buzon-archive-bench-") as tmp:
                measure(kind, count, Path(tmp))


def measure(kind: str, count: int, tmp: Path) -> None:
    from contextlib import nullcontext

    from benchmarks._scratch import scratch_database

    database = scratch_database("archive") if kind == "postgresql" else nullcontext(f"sqlite:///{tmp / 'b.sqlite3'}")
    with database as url:
        engine = make_engine(url)
        migrate(engine)
        engine.dispose()
        started = time.perf_counter()
        fill(url, BlobStore(tmp / "blobs"), count)
        setup = time.perf_counter() - started
        done = subprocess.run([sys.executable, __file__, "--child", url, str(tmp / "blobs"), str(tmp / "pack.zip")],
                              capture_output=True, text=True, check=True, cwd=REPO)  # fmt: skip
        figures = json.loads(done.stdout.strip().splitlines()[-1])
    mb = figures["bytes"] / 1e6
    raw = count * (len(_sample()) + len(_answer(count)) + 1000) / 1e6  # what went in, roughly
    print(f"{kind:10} {count:>7} documents ({figures['documents']} packed, {figures['events']} events, "
          f"{figures['files']} files; setup {setup:.0f} s): "
          f"pack {mb:.0f} MB from ~{raw:.0f} MB of bytes in {figures['seconds']:.1f} s = {mb / figures['seconds']:.1f}"
          f" MB/s of zip, {raw / figures['seconds']:.1f} MB/s read, {count / figures['seconds']:.0f} documents/s; "
          f"peak RSS +{figures['rss_kb'] / 1024:.1f} MB")  # fmt: skip


if __name__ == "__main__":
    main()
