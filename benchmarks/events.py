"""Events built + signed + stored per second per core, and events registered end to end against the simulator.

Run from the repository root: ``.venv/bin/python benchmarks/events.py [--events 400] [--postgresql URL]``.
Prints figures; asserts nothing.

* Setup (not timed): a seeded DIAN simulator on a free loopback port; ``--events`` credit invoices from the seller,
  validated by it, filed as received documents of the buyer (our company) in a migrated database.
* Emit: ``events.emit.emit_and_commit`` of a 030 on every document, one transaction each (a clerk's click) — the rule
  check under the document's row lock, the number from its counter, the ApplicationResponse built and CUDE'd, the
  XAdES signature, the signed blob committed to the blob store (flushed to disk) and the DocumentEvent and audit rows
  committed. Per core = events / CPU seconds of this process.
* Emit many: ``events.emit.emit_many`` of a 032 on every document, 50 per transaction, as bulk actions and the policy
  jobs (auto-acknowledge, auto-receipt) do: the volume path, whose rate is the one to hold against the aim of 800
  events/s per core. For scale, the CPU time of the XAdES signature alone.
* Deliver: ``events.outbox.deliver_events`` over real HTTP to the simulator (in a thread of this process, as in
  benchmarks/dian_roundtrip.py): claim, SendEventUpdateStatus with WS-Security, DIAN's answer verified against the
  simulator's CA, the registration recorded and the document's state refreshed. Events registered per second, wall.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from dian.codes import DocumentType, Environment, EventCode, PaymentMeans  # noqa: E402
from dian.soap import DianClient  # noqa: E402
from dian.ubl import parse_document  # noqa: E402
from events.context import EventContext  # noqa: E402
from events.emit import EventRequest, emit_and_commit, emit_many  # noqa: E402
from events.outbox import deliver_events  # noqa: E402
from store.blobs import BlobStore  # noqa: E402
from store.db import make_engine, migrate, session_factory  # noqa: E402
from store.models import ReceivedDocument, Verdict  # noqa: E402
from tests.integration.dian_fixtures import BUYER, BUYER_SW, make_world  # noqa: E402
from tests.integration.events_fixtures import PERSON  # noqa: E402


def _documents(world, count: int) -> list[ReceivedDocument]:
    now = dt.datetime.now(dt.UTC)
    rows = []
    for i in range(count):
        at = now - dt.timedelta(hours=2, seconds=i)
        invoice = world.invoice(at=at)
        world.simulator.validate(invoice, now=at + dt.timedelta(seconds=5))
        doc = parse_document(invoice)
        rows.append(
            ReceivedDocument(
                cufe=doc.uuid.lower(),
                document_type=DocumentType.INVOICE,
                environment=Environment.TESTING,
                number=doc.number,
                issuer_nit=doc.supplier.nit,
                issuer_dv=doc.supplier.dv,
                issuer_name=doc.supplier.registration_name or "",
                buyer_nit=doc.customer.nit,
                buyer_name=doc.customer.registration_name or "",
                issue_date=doc.issue_date,
                issued_at=doc.issued_at,
                payment_means=PaymentMeans.CREDIT,
                line_extension_amount=Decimal("100000"),
                tax_exclusive_amount=Decimal("100000"),
                tax_inclusive_amount=Decimal("119000"),
                payable_amount=Decimal("119000"),
                signed_xml_blob="0" * 64,
                verdict=Verdict.VALID,
                report={"document_signature": {"signing_time": at.isoformat()}},
            )
        )
    return rows


def run(label: str, url: str, world, count: int, folder: Path) -> None:
    engine = make_engine(url)
    migrate(engine)
    sessions = session_factory(engine)
    from dian.ubl import Person

    ctx = EventContext(
        company=BUYER,
        software=BUYER_SW,
        environment=Environment.TESTING,
        identity=world.buyer,
        blobs=BlobStore(folder / f"blobs-{label}"),
        default_person=Person(id=PERSON["person_id"], first_name="Ana", family_name="Pérez"),
        trust=world.simulator.trust,
    )
    with sessions() as s:
        rows = _documents(world, count)
        s.add_all(rows)
        s.commit()
        ids = [r.id for r in rows]

    cpu0, wall0 = time.process_time(), time.perf_counter()
    for document_id in ids:
        emit_and_commit(sessions, ctx, document_id, EventRequest(EventCode.ACUSE_RECIBO), actor="bench")
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    print(
        f"{label}: emit {count} events: {count / cpu:.0f} events/s per core (CPU {cpu * 1000 / count:.2f} ms each), "
        f"{count / wall:.0f} events/s wall"
    )

    person = ctx.default_person
    batch = 50
    cpu0, wall0 = time.process_time(), time.perf_counter()
    emitted = 0
    for start in range(0, len(ids), batch):
        done, _refused = emit_many(
            sessions,
            ctx,
            [(i, EventRequest(EventCode.RECIBO_BIEN, person=person)) for i in ids[start : start + batch]],
            actor="bench",
        )
        emitted += len(done)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    print(
        f"{label}: emit_many {emitted} events (032) in transactions of {batch}: {emitted / cpu:.0f} events/s per core "
        f"(CPU {cpu * 1000 / emitted:.2f} ms each), {emitted / wall:.0f} events/s wall"
    )
    # What signing alone costs, for scale.
    from dian.ubl.build import EventDraft, build_event
    from dian.xades import sign

    unsigned = build_event(
        EventDraft(code=EventCode.ACUSE_RECIBO, number="X1", issue_date=dt.date.today(), issue_time="10:00:00-05:00",
                   environment=Environment.TESTING, sender=BUYER, receiver=BUYER, invoice_number="F1",
                   invoice_cufe="0" * 96, person=person),
        software=BUYER_SW,
    )  # fmt: skip
    cpu0 = time.process_time()
    for _ in range(200):
        sign(unsigned, world.buyer, signing_time=dt.datetime.now(dt.UTC))
    print(f"{label}: of which XAdES signing alone: {(time.process_time() - cpu0) * 1000 / 200:.2f} ms CPU per event")

    with DianClient(world.url, world.buyer) as client:
        wall0 = time.perf_counter()
        report = deliver_events(sessions, ctx, client, limit=count)
        wall = time.perf_counter() - wall0
    print(
        f"{label}: deliver: {len(report.registered)} registered, {len(report.rejected)} rejected, "
        f"{len(report.retrying)} retrying in {wall:.2f} s: {len(report.registered) / wall:.1f} events/s registered "
        "end to end"
    )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=400)
    parser.add_argument("--postgresql", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                        help="an admin URL; a throwaway database is created (empty string to skip)")  # fmt: skip
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        world = make_world(folder / "sim")
        try:
            run("sqlite", f"sqlite:///{folder / 'bench.sqlite3'}", world, args.events, folder)
        finally:
            world.stop()
        # A fresh simulator: the new database numbers its events from 1 again, which DIAN would call duplicates.
        world = make_world(folder / "sim-pg")
        try:
            if args.postgresql:
                import secrets

                import sqlalchemy as sa

                admin = sa.create_engine(args.postgresql, isolation_level="AUTOCOMMIT")
                name = f"buzon_bench_{secrets.token_hex(4)}"
                with admin.connect() as conn:
                    conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
                try:
                    url = sa.engine.make_url(args.postgresql).set(database=name).render_as_string(hide_password=False)
                    run("postgresql", url, world, args.events, folder)
                finally:
                    with admin.connect() as conn:
                        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                    admin.dispose()
        finally:
            world.stop()


if __name__ == "__main__":
    main()
