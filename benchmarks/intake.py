"""Intake throughput and memory: .eml to committed ReceivedDocument with the full verification report.

Run from the repository root: ``.venv/bin/python benchmarks/intake.py [--messages 300] [--rounds 3]``. Prints
figures; asserts nothing. Each message is a distinct supplier mail (a zip with an AttachedDocument signed under a
throw-away demo CA and a PDF); one process, so the rate is per core (for PostgreSQL, also with the CPU its
server's backends spent, read from /proc, added in). Taken in batches, as `buzon poll` and `buzon import` take them
(each batch's outcomes commit together), and one at a time (Intake.take: a clerk's re-processing, a test), in
interleaved rounds on fresh databases; the median is printed, with the range, and the machine's reference loop
(benchmarks/_measure.py), so that figures from different machines can be compared.

A whole mail against its verification (issue 21): in interleaved rounds, the CPU of taking every mail in batches into
a fresh database (receiving, MIME, unpacking, verifying, planning, the rows; for PostgreSQL the server's CPU added)
beside the CPU of ``verify_received`` alone on the AttachedDocument each mail carries, with intake's arguments; the
ratio of the medians is what the rest of a mail costs over its signatures. SQLite is a file under a temporary folder;
PostgreSQL is a fresh database on $BUZON_TEST_PG (skipped when unreachable). Memory: peak RSS growth while taking
one 2 MB zip, in a fresh child process after one warm-up message, read from Linux's VmHWM after resetting it
(/proc/self/clear_refs). Not ru_maxrss: that high-water mark survives exec, so a child started by a large parent
starts at the parent's size and hides anything smaller (it made an earlier version of this script print 5 MB for
what is ~57 MB).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import io
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import sqlalchemy as sa  # noqa: E402

from benchmarks._measure import reference_line  # noqa: E402
from benchmarks._scratch import scratch_database  # noqa: E402
from buzon import demo  # noqa: E402
from dian.reception import verify_received  # noqa: E402
from dian.trust import TrustStore  # noqa: E402
from dian.ubl import Party  # noqa: E402
from inbox.intake import Envelope, Intake, IntakePolicy  # noqa: E402
from inbox.poll import BATCH_MESSAGES, batches  # noqa: E402
from inbox.unpack import unpack  # noqa: E402
from store.blobs import BlobStore  # noqa: E402
from store.db import make_engine, migrate, session_factory  # noqa: E402

NOW = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)
COMPANY = "900654321"
DATABASES = (("sqlite", "SQLite"), ("postgresql", "PostgreSQL"))


def messages_for(pki: demo.DemoPKI, count: int) -> list[bytes]:
    buyer = Party(nit=COMPANY, dv="7", registration_name="EMPRESA COMPRADORA S.A.S.", organization_type="1")
    pdf = demo._pdf("Factura", ["representación gráfica"])
    out = []
    for i in range(count):
        supplier = demo.SUPPLIERS[i % len(demo.SUPPLIERS)]
        items = tuple((f"Artículo {j}", j + 1, f"{1000 + i}.00") for j in range(1 + i % 5))
        doc = demo.make_document(pki, supplier, 10000 + i, items, buyer=buyer, issued=NOW + dt.timedelta(minutes=i))
        out.append(demo.make_mail(doc, to="recepcion@empresa.test", when=NOW, pdf=pdf))
    return out


_BOUNDARY = re.compile(rb'boundary="([^"\r\n]+)"')


def rebounded(mails: list[bytes]) -> list[bytes]:
    """The mails with new MIME boundaries, for a round of its own: Python's e-mail parser compiles a regular
    expression for each boundary it meets (``email.feedparser``), and the ``re`` module's cache (512 patterns) would
    serve a second round of the same mails for free, a saving no real mail, with its own boundary, ever gets."""
    out = []
    for data in mails:
        for boundary in set(_BOUNDARY.findall(data)):
            data = data.replace(boundary, f"=_{secrets.token_hex(16)}".encode())
        out.append(data)
    return out


def intake_for(url: str, blobs: Path, pki: demo.DemoPKI) -> tuple[Intake, sa.Engine]:
    engine = make_engine(url)
    migrate(engine)
    policy = IntakePolicy(our_nit=COMPANY, trust=TrustStore(anchors=(pki.ca,)))
    return Intake(session_factory(engine), BlobStore(blobs), policy, clock=lambda: NOW), engine


def measure(
    url: str, mails: list[bytes], pki: demo.DemoPKI, blobs: Path, *, batched: bool
) -> tuple[int, float, float, float]:
    """Documents filed, wall seconds, CPU seconds of this process and CPU seconds of the database server's processes
    (PostgreSQL's backends serving this run; 0 for SQLite, which runs inside this process), taking every mail into a
    fresh database."""
    intake, engine = intake_for(url, blobs, pki)
    try:
        envelopes = [Envelope(mailbox="bench", data=data, uidvalidity=1, uid=uid) for uid, data in enumerate(mails, 1)]
        gc.collect()
        server = server_cpu(engine)
        started = time.perf_counter()
        cpu = time.process_time()
        filed = 0
        if batched:  # as `buzon poll` and `buzon import` take them
            for batch in batches(envelopes):
                filed += sum(len(result.filed) for result in intake.take_many(batch))
        else:
            for envelope in envelopes:
                filed += len(intake.take(envelope).filed)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        after = server_cpu(engine)
        return filed, wall, cpu, sum(seconds - server.get(pid, 0.0) for pid, seconds in after.items())
    finally:
        engine.dispose()


def server_cpu(engine: sa.Engine) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend connected to this engine's database, read from /proc (the server
    runs on this machine); empty for SQLite. The database is fresh, so every backend on it serves this run."""
    if engine.dialect.name != "postgresql":
        return {}
    with engine.connect() as conn:
        pids = conn.execute(sa.text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")).scalars()
        seconds = {}
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # a server on another machine, or in a container: not counted
                continue
            seconds[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
        return seconds


@contextmanager
def database(kind: str, tmp: Path) -> Iterator[str | None]:
    """The URL of a fresh database (a SQLite file, or a PostgreSQL database dropped afterwards); None when PostgreSQL
    is unreachable."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp / f'buzon_bench_{secrets.token_hex(4)}.sqlite3'}"
        return
    with ExitStack() as stack:
        try:
            url: str | None = stack.enter_context(scratch_database("intake"))
        except Exception as exc:  # the SQLite figures alone
            print(f"PostgreSQL  skipped: {exc.__class__.__name__}: {exc}")
            url = None
        yield url


def rates(mails: list[bytes], pki: demo.DemoPKI, tmp: Path, rounds: int) -> None:
    """Rounds of every database and way of taking mail, interleaved (so that the drift of a shared machine, which moves
    these figures by a tenth or more within minutes, hits all of them alike); the median and the range of each."""
    ways = [(kind, label, batched) for kind, label in DATABASES for batched in (True, False)]
    runs: dict[tuple[str, bool], list[tuple[int, float, float, float]]] = {(kind, b): [] for kind, _, b in ways}
    unreachable: set[str] = set()
    for round_ in range(rounds):
        for kind, _, batched in ways:
            if kind in unreachable:
                continue
            with database(kind, tmp) as url:
                if url is None:  # said once, by database()
                    unreachable.add(kind)
                    continue
                blobs = tmp / f"blobs-{kind}-{round_}-{batched}"
                runs[kind, batched].append(measure(url, rebounded(mails), pki, blobs, batched=batched))
    for kind, label, batched in ways:
        samples = runs.get((kind, batched))
        if not samples:
            continue
        filed = samples[0][0]
        per_core = [f / cpu for f, _, cpu, _ in samples]
        wall = statistics.median(f / w for f, w, _, _ in samples)
        how = f"in batches of {BATCH_MESSAGES}" if batched else "one at a time"
        line = (
            f"{label:<11} {filed} filed {how:<17}: {statistics.median(per_core):.0f} messages/s per core "
            f"(CPU time of this process; median of {rounds}, {min(per_core):.0f}-{max(per_core):.0f}), "
            f"{wall:.0f} messages/s wall"
        )
        if any(server for *_, server in samples):  # PostgreSQL's own work, on another core
            total = statistics.median(f / (cpu + server) for f, _, cpu, server in samples)
            line += f", {total:.0f} messages/s per core counting the server's CPU too"
        print(line)


def mail_vs_verify(mails: list[bytes], pki: demo.DemoPKI, tmp: Path, rounds: int) -> None:
    """A whole mail's CPU (taken in batches into a fresh database) against ``verify_received`` alone on the document
    it carries: each batch taken, then its documents verified alone, so that the drift of a shared machine hits both
    alike; per round the sums, then the medians of the rounds and their ratio."""
    documents = [next(p.data for p in unpack(m, "correo.eml") if p.kind == "xml") for m in mails]
    trust = TrustStore(anchors=(pki.ca,))
    for kind, label in DATABASES:
        whole: list[float] = []
        alone: list[float] = []
        for round_ in range(rounds):
            with database(kind, tmp) as url:
                if url is None:
                    break
                intake, engine = intake_for(url, tmp / f"ratio-{kind}-{round_}", pki)
                fresh = rebounded(mails)
                envelopes = [Envelope(mailbox="bench", data=d, uidvalidity=1, uid=i) for i, d in enumerate(fresh, 1)]
                taken = verified = 0.0
                try:
                    done = 0
                    for batch in batches(envelopes):
                        gc.collect()
                        server = server_cpu(engine)
                        started = time.process_time()
                        filed = sum(len(result.filed) for result in intake.take_many(batch))
                        taken += time.process_time() - started
                        after = server_cpu(engine)
                        taken += sum(seconds - server.get(pid, 0.0) for pid, seconds in after.items())
                        assert filed == len(batch)
                        started = time.process_time()
                        for document in documents[done : done + len(batch)]:
                            verify_received(document, trust=trust, our_nit=COMPANY)
                        verified += time.process_time() - started
                        done += len(batch)
                finally:
                    engine.dispose()
                whole.append(taken)
                alone.append(verified)
        if not whole:
            continue
        mail_ms = statistics.median(whole) / len(mails) * 1000
        verify_ms = statistics.median(alone) / len(mails) * 1000
        server = " (with the server's CPU)" if kind == "postgresql" else ""
        print(
            f"{label:<11} a whole mail{server}: {mail_ms:.2f} ms CPU; its verify_received alone: {verify_ms:.2f} ms; "
            f"ratio {mail_ms / verify_ms:.2f} (median of {len(whole)} rounds, batches interleaved)"
        )


def big_zip_mail(pki: demo.DemoPKI) -> bytes:
    buyer = Party(nit=COMPANY, dv="7", registration_name="EMPRESA COMPRADORA S.A.S.", organization_type="1")
    items = tuple((f"Artículo {j} " + "x" * 40, 1, "1000.00") for j in range(3000))  # a large invoice
    doc = demo.make_document(pki, demo.SUPPLIERS[0], 99999, items, buyer=buyer, issued=NOW)
    filler = secrets.token_bytes(2 * 1024 * 1024 - len(doc.attached) // 6)  # incompressible PDF-like bulk
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("ad.xml", doc.attached)
        archive.writestr("fv.pdf", b"%PDF-1.4\n" + filler)
    data = out.getvalue()
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@b.test", "c@d.test", "900111222;X;PLA99999;01;X"
    message.set_content("adjunto")
    message.add_attachment(data, maintype="application", subtype="zip", filename="z.zip")
    print(f"2 MB case: zip {len(data) / 1048576:.2f} MB, AttachedDocument {len(doc.attached) / 1048576:.2f} MB")
    return message.as_bytes()


def memory_case(folder: Path, *, batched: bool) -> None:
    """In a fresh process: intake warmed up on one message, then the peak RSS growth while it takes the big one, alone
    or at the end of a full batch (the small mails before it fill the batch's byte budget, as a poll would)."""
    from cryptography import x509

    ca = x509.load_pem_x509_certificate((folder / "ca.pem").read_bytes())
    name = "big-batched" if batched else "big-alone"  # each case on a database and blob store of its own
    engine = make_engine(f"sqlite:///{folder / f'{name}.sqlite3'}")
    migrate(engine)
    policy = IntakePolicy(our_nit=COMPANY, trust=TrustStore(anchors=(ca,)))
    intake = Intake(session_factory(engine), BlobStore(folder / f"blobs-{name}"), policy, clock=lambda: NOW)
    try:
        intake.take(Envelope(mailbox="warm", data=(folder / "warm.eml").read_bytes(), uidvalidity=1, uid=1))
        batch = [Envelope(mailbox="big", data=(folder / "big.eml").read_bytes(), uidvalidity=1, uid=1)]
        if batched:
            small = sorted(folder.glob("small-*.eml"))
            batch[:0] = [
                Envelope(mailbox="big", data=p.read_bytes(), uidvalidity=1, uid=i) for i, p in enumerate(small, 2)
            ]
        gc.collect()
        Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS now
        baseline = _status_kb("VmRSS")
        started = time.perf_counter()
        result = intake.take_many(batch)[-1]
        took = time.perf_counter() - started
        peak = _status_kb("VmHWM")
    finally:
        engine.dispose()
    how = f"after {len(batch) - 1} small mails in its batch" if batched else "alone"
    print(
        f"2 MB zip   {result.status.value} {how} in {took:.2f} s; peak RSS {peak / 1024:.0f} MB, "
        f"{(peak - baseline) / 1024:.1f} MB over the baseline before it (a fresh process, warmed up)"
    )


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3, help="fresh databases per way of taking mail; the median")
    parser.add_argument("--memory-case", type=Path, help=argparse.SUPPRESS)  # the child process of the memory figure
    parser.add_argument("--batched", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_case:
        memory_case(args.memory_case, batched=args.batched)
        return
    pki = demo.make_pki(NOW)
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        (tmp / "ca.pem").write_bytes(pki.ca_pem)
        (tmp / "big.eml").write_bytes(big_zip_mail(pki))
        warm, *small = messages_for(pki, BATCH_MESSAGES)
        (tmp / "warm.eml").write_bytes(warm)
        for index, data in enumerate(small):
            (tmp / f"small-{index:03}.eml").write_bytes(data)
        subprocess.run([sys.executable, __file__, "--memory-case", str(tmp)], check=True)
        subprocess.run([sys.executable, __file__, "--memory-case", str(tmp), "--batched"], check=True)
        mails = messages_for(pki, args.messages)
        print(f"{len(mails)} distinct supplier mails of {sum(map(len, mails)) / len(mails) / 1024:.0f} KB on average")
        print(reference_line())
        mail_vs_verify(mails, pki, tmp, max(args.rounds, 3))
        rates(mails, pki, tmp, args.rounds)


if __name__ == "__main__":
    main()
