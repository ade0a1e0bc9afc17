"""The simulator's in-process API (for the demo generator): validate, refuse, seed from a file, keep its CA."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from dian.simulator import Simulator, SimulatorRejected
from dian.trust import TrustStore
from dian.ubl import parse_document
from dian.xades import Outcome, verify
from tests.integration.dian_fixtures import SEED, make_world


def test_validate_returns_the_signed_answer_and_refuses_a_wrong_cufe(tmp_path: Path) -> None:
    world = make_world(tmp_path / "sim")
    try:
        invoice = world.invoice()
        answer = world.simulator.validate(invoice)
        assert world.simulator.validate(invoice) == answer  # idempotent for the same document
        trust = TrustStore.from_folder(world.simulator.ca_certificate_path.parent)
        report = verify(answer, trust=trust)
        assert report.core_valid and report.outcome("certificate.chain") == Outcome.PASS
        assert report.signer_nit == "800197268"
        assert parse_document(answer).document_reference.uuid == parse_document(invoice).uuid
        with pytest.raises(SimulatorRejected) as caught:
            world.simulator.validate(world.invoice(technical_key="2" * 40))
        assert any("FAD06" in e for e in caught.value.reply.errors)
        with pytest.raises(SimulatorRejected) as caught:
            world.simulator.validate(world.invoice(at=dt.datetime.now(dt.UTC) + dt.timedelta(days=2)))
        assert any("SIM30" in e for e in caught.value.reply.errors)
    finally:
        world.stop()


def test_seed_file_in_toml(tmp_path: Path) -> None:
    seed = tmp_path / "seed.toml"
    seed.write_text(
        '[[software]]\nid = "abc"\npin = "1"\nprovider_nit = "900000001"\n\n'
        '[[acquirers]]\nid_type = "13"\nid_number = "123"\nname = "Ana"\nemail = "ana@x.test"\n'
    )
    simulator = Simulator(tmp_path / "sim")
    try:
        simulator.seed_file(seed)
        simulator.seed(SEED)
        assert simulator.get_acquirer("13", "123").email == "ana@x.test"
        assert simulator.store.one("SELECT pin FROM software WHERE software_id = 'abc'")["pin"] == "1"
    finally:
        simulator.close()
