"""dian.online_check end to end: `buzon import` asks the running DIAN simulator (GetStatus) about each document."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
import sqlalchemy as sa

from tests.integration.dian_fixtures import BUYER_NIT, dian_world  # noqa: F401 - the fixture
from tests.integration.trust_fixtures import write_config
from tests.services import migrated_database

pytestmark = pytest.mark.integration

BUZON = [sys.executable, "-m", "buzon.cli"]


def test_import_confirms_with_dian_and_quarantines_what_dian_does_not_know(tmp_path, dian_world):  # noqa: F811
    known = dian_world.invoice()
    dian_world.simulator.validate(known)  # DIAN has this one on record
    unknown = dian_world.invoice()  # signed, but never sent to DIAN
    (tmp_path / "known.xml").write_bytes(known)
    (tmp_path / "unknown.xml").write_bytes(unknown)
    trust = tmp_path / "trust"
    trust.mkdir()
    shutil.copy(dian_world.simulator.ca_certificate_path, trust / "simulator-ca.pem")
    write_config(
        tmp_path, BUYER_NIT, environment="simulator", endpoint=dian_world.url, online_check=True, trust_store=trust
    )
    assert subprocess.run([*BUZON, "init"], cwd=tmp_path, capture_output=True).returncode == 0
    result = subprocess.run(
        [*BUZON, "import", "--json", "known.xml", "unknown.xml"], cwd=tmp_path, capture_output=True, text=True
    )
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    # 66 (DIAN does not know the CUFE yet) is not final: filed "sin confirmar", asked again by confirm_documents.
    assert summary == {"filed": 2, "duplicates": 0, "quarantined": {}}, result.stderr
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'buzon.sqlite3'}")
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT number, verdict, state, report FROM received_documents")).all()
        learned = conn.execute(sa.text("SELECT learned_from, subject, endpoint FROM dian_certificates")).all()
        audited = conn.execute(
            sa.text("SELECT count(*) FROM audit_entries WHERE action = 'dian.certificate.learned'")
        ).scalar()
    engine.dispose()
    by_verdict = {verdict: (state, json.loads(report)) for _, verdict, state, report in rows}
    assert set(by_verdict) == {"valid", "unconfirmed"}  # confirmed online: its "sin confirmar" check now passes
    state, confirmed = by_verdict["valid"]
    checks = {c["name"]: c for c in confirmed["checks"]}
    assert state == "validated" and confirmed["dian_validated"] is True
    assert checks["dian.online"]["outcome"] == "pass"
    assert "GetStatus 00" in checks["dian.online"]["detail"]
    assert "copia del documento coincide" in checks["dian.online"]["detail"]  # GetXmlByDocumentKey compared
    state, pending = by_verdict["unconfirmed"]
    checks = {c["name"]: c for c in pending["checks"]}
    assert state == "unconfirmed" and checks["dian.online"]["outcome"] == "warn"
    assert "(66)" in checks["dian.online"]["detail"]
    # The simulator's DIAN certificate was learned from its GetStatus answer, once, and audited.
    assert len(learned) == 1 and learned[0][2] == dian_world.url and audited == 1
    assert "800197268" in learned[0][1]
    # The sandbox company certificate was issued once under the simulator CA and kept.
    assert (tmp_path / "dian-sim" / "company-sandbox.p12").exists()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_dian_certificate_learned_online_proves_later_answers_offline(tmp_path, dian_world, kind):  # noqa: F811
    """First document confirmed online (DIAN's certificate learned), second proven offline by it with the online
    check off, third signed by an unknown "DIAN" key stays unconfirmed. The trust folder holds nothing of DIAN's."""
    from dian.ubl import parse_document
    from tests.integration.trust_fixtures import attached, dian_answer, forged, party

    def container(invoice: bytes, answer: bytes) -> bytes:
        doc = parse_document(invoice)
        return attached(invoice, answer, number=doc.number, uuid=doc.uuid, sender=party(doc.supplier.nit, "P"),
                        receiver=party(BUYER_NIT, "EMPRESA COMPRADORA"))  # fmt: skip

    first, second, third = dian_world.invoice(), dian_world.invoice(), dian_world.invoice()
    dian_world.simulator.validate(first)
    second_answer = dian_world.simulator.validate(second)
    parsed = parse_document(third)
    third_answer = dian_answer(forged().pki.dian, parsed.number, parsed.uuid, party(parsed.supplier.nit, "P"))
    (tmp_path / "first.xml").write_bytes(first)
    (tmp_path / "second.xml").write_bytes(container(second, second_answer))
    (tmp_path / "third.xml").write_bytes(container(third, third_answer))
    (tmp_path / "trust").mkdir()

    with migrated_database(kind, tmp_path) as engine:
        url = engine.url.render_as_string(hide_password=False)
        rows, learned = _learn_then_prove_offline(tmp_path, dian_world, url, engine)
    numbers = [parse_document(x).number for x in (first, second, third)]
    assert learned == 1
    verdict, report = rows[numbers[0]]
    assert verdict == "valid_with_warnings" and report["dian_proof"] == "confirmed_online"  # supplier CA unknown
    assert not any("sin confirmar" in c["detail"] for c in report["checks"])
    verdict, report = rows[numbers[1]]
    assert verdict in {"valid", "valid_with_warnings"} and report["dian_basis"] == "learned"
    assert report["dian_validated"]
    verdict, report = rows[numbers[2]]
    assert verdict == "unconfirmed" and report["dian_validated"] is False


def _learn_then_prove_offline(tmp_path, dian_world, url: str, engine: sa.Engine):  # noqa: F811
    def configure(online: bool) -> None:
        write_config(tmp_path, BUYER_NIT, database_url=url, environment="simulator", endpoint=dian_world.url,
                     online_check=online, trust_store=tmp_path / "trust")  # fmt: skip

    configure(online=True)
    assert subprocess.run([*BUZON, "init"], cwd=tmp_path, capture_output=True).returncode == 0
    done = subprocess.run([*BUZON, "import", "--json", "first.xml"], cwd=tmp_path, capture_output=True, text=True)
    assert json.loads(done.stdout.strip().splitlines()[-1])["filed"] == 1, done.stderr
    configure(online=False)  # from here on nothing may ask DIAN: what follows is proven offline or not at all
    done = subprocess.run(
        [*BUZON, "import", "--json", "second.xml", "third.xml"], cwd=tmp_path, capture_output=True, text=True
    )
    assert json.loads(done.stdout.strip().splitlines()[-1])["filed"] == 2, done.stderr
    with engine.connect() as conn:
        rows = {n: (v, r if isinstance(r, dict) else json.loads(r)) for n, v, r in conn.execute(
            sa.text("SELECT number, verdict, report FROM received_documents"))}  # fmt: skip
        learned = conn.execute(sa.text("SELECT count(*) FROM dian_certificates")).scalar()
    return rows, learned
