"""The simulator validates what Buzón issues as DIAN does, over real HTTP: documents built by issuing/document.py from
payloads and signed with the test company certificate (tests/pki.py), sent with the DIAN client; one accepted
document of each type, one refusal per rule, Regla 90, the test set with GetStatusZip and its quota, and the buyer
who answers by itself."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import io
import json
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from decimal import Decimal as D
from pathlib import Path

import pytest

from dian.codes import Environment
from dian.simulator import Simulator, SimulatorServer
from dian.simulator.numbering import HABILITACION_KEY, habilitacion_range
from dian.soap import DianClient, DianRejected
from dian.soap.errors import DianServiceError
from dian.trust import SigningIdentity
from dian.ubl import parse_document
from dian.ubl.build import NumberingRange, Software, build_invoice
from dian.ubl.model import Address, Party
from dian.xades import sign
from issuing.document import BOGOTA, IssuedDocument, Issuer, Numbering, draft_of, issue_document
from issuing.totals import compute_totals
from issuing.validation import require_payload
from tests.pki import pki

pytestmark = pytest.mark.integration

SELLER_NIT = "900123456"
SOFTWARE = Software(provider_nit=SELLER_NIT, provider_dv="8", software_id="sw-buzon-1", pin="12345")
SELLER = Party(nit=SELLER_NIT, dv="8", registration_name="Proveedor de Prueba S.A.S.", tax_level_codes=("O-13",),
               address=Address(city="Bogotá, D.C.", city_code="11001", department="Bogotá", department_code="11",
                               country="CO", line="Cra 7 # 1-1"))  # fmt: skip
SETP = NumberingRange("18760000001", dt.date(2019, 1, 19), dt.date(2030, 1, 19), "SETP", 990000000, 995000000,
                      HABILITACION_KEY)  # fmt: skip
CONT = NumberingRange("18760000003", dt.date(2024, 1, 1), dt.date(2030, 12, 31), "CONT", 1, 1000, "c" * 40)
# An expired range the simulator holds; the issuer's copy below claims it still runs (typed by hand, peers §2.4).
EXP = NumberingRange("18760000002", dt.date(2020, 1, 1), dt.date(2021, 1, 1), "EXP", 1, 100, "e" * 40)
BUYER = {"id_type": "31", "id": "800199436", "dv": "4", "name": "Comprador Ejemplo S.A.", "tax_scheme": "01",
         "address": {"line": "Cl 10 # 5-20", "city_code": "05001", "city": "Medellín"}}  # fmt: skip
SALE = {
    "type": "01",
    "customer": BUYER,
    "lines": [{"description": "Consultoría", "quantity": "1", "unit_price": "1000000", "code": "C-1",
               "taxes": [{"scheme": "01", "rate": "19"}]}],
    "payment": {"form": "2", "method": "42", "due_date": "2030-01-01"},
}  # fmt: skip
# Discounts, per-unit INC on bags, a document discount and charge, withholdings (issuing/totals.py's layout).
FULL = {
    **SALE,
    "lines": [
        {"description": "Servicio", "quantity": "2", "unit_price": "100000", "code": "S1",
         "adjustments": [{"reason": "Descuento 10 %", "percent": "10", "code": "09"}],
         "taxes": [{"scheme": "01", "rate": "19"}, {"scheme": "04", "rate": "8"}]},
        {"description": "Bolsa", "quantity": "3", "unit_price": "0", "reference_price": "50",
         "taxes": [{"scheme": "22", "per_unit": "66"}]},
    ],
    "adjustments": [{"reason": "Pronto pago", "amount": "1000", "code": "03"},
                    {"reason": "Flete", "amount": "500", "charge": True}],
    "withholdings": [{"scheme": "05", "rate": "15"}, {"scheme": "06", "rate": "2.5"}],
}  # fmt: skip


def _seed_range(nit: str, rng: NumberingRange) -> dict:
    return {"nit": nit, "software_id": SOFTWARE.software_id, "resolution": rng.authorization, "prefix": rng.prefix,
            "from": rng.from_number, "to": rng.to_number, "valid_from": rng.start_date.isoformat(),
            "valid_to": rng.end_date.isoformat(), "technical_key": rng.technical_key}  # fmt: skip


@dataclasses.dataclass
class World:
    simulator: Simulator
    server: SimulatorServer
    issuer: Issuer
    client: DianClient
    next_number: int = 990000100
    next_note: int = 1

    def admin(self, path: str, body: dict | None = None) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.server.base_url + path, data=data,  # noqa: S310 - loopback
                                         method="POST" if data is not None else "GET")  # fmt: skip
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - loopback
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def issue(self, data: dict, *, rng: NumberingRange = SETP, number: int | None = None,
              issuer: Issuer | None = None, at: dt.datetime | None = None) -> IssuedDocument:  # fmt: skip
        payload = require_payload(copy.deepcopy(data))
        if payload.type.is_invoice:
            if number is None:
                self.next_number += 1
                number = self.next_number if rng is SETP else rng.from_number + self.next_number % 50
            numbering = Numbering(rng.prefix, number, rng)
        else:
            self.next_note += 1
            numbering = Numbering("NC" if payload.type.value == "91" else "ND", number or self.next_note)
        return issue_document(payload, issuer=issuer or self.issuer, numbering=numbering,
                              environment=Environment.TESTING, issued_at=at or dt.datetime.now(dt.UTC))  # fmt: skip

    def send(self, doc: IssuedDocument | bytes, name: str = "fv.xml"):
        xml = doc if isinstance(doc, bytes) else doc.xml
        return self.client.send_bill_sync(name, xml)

    def refused(self, doc: IssuedDocument | bytes) -> set[str]:
        with pytest.raises(DianRejected) as caught:
            self.send(doc)
        assert caught.value.status_code == "99"
        assert parse_document(caught.value.response.xml).response_code == "04"  # DIAN's signed 04 answer
        return {m.rule for m in caught.value.rejections}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    simulator = Simulator(tmp_path / "sim")
    test_pki = pki()
    simulator.trust_ca(test_pki.root.cert, "test-root")
    simulator.trust_ca(test_pki.intermediate.cert, "test-intermediate")
    simulator.seed({
        "software": [{"id": SOFTWARE.software_id, "pin": SOFTWARE.pin, "provider_nit": SELLER_NIT}],
        "numbering": [habilitacion_range(SELLER_NIT, SOFTWARE.software_id), _seed_range(SELLER_NIT, CONT),
                      _seed_range(SELLER_NIT, EXP)],
    })  # fmt: skip
    server = SimulatorServer(simulator).start()
    identity = SigningIdentity(key=test_pki.supplier.key, certificate=test_pki.supplier.cert,
                               chain=test_pki.supplier.chain)  # fmt: skip
    caller = simulator.issue_identity(SELLER_NIT, "Proveedor de Prueba S.A.S.")
    client = DianClient(server.url, caller)
    w = World(simulator, server, Issuer(party=SELLER, software=SOFTWARE, identity=identity), client)
    try:
        yield w
    finally:
        client.close()
        server.stop()
        simulator.close()


def _note(kind: str, invoice: IssuedDocument, *, amount: str = "100000", concept: str = "1") -> dict:
    return {
        "type": kind,
        "concept": concept,
        "customer": BUYER,
        "reference": {"number": invoice.number, "uuid": invoice.uuid, "issue_date": invoice.issued_at.astimezone(
            BOGOTA).date().isoformat()},
        "lines": [{"description": "Ajuste", "quantity": "1", "unit_price": amount,
                   "taxes": [{"scheme": "01", "rate": "19"}]}],
        "payment": {"form": "1", "method": "10"},
    }  # fmt: skip


# --- accepted, one of each type ------------------------------------------------------------------------------------


def test_one_of_each_type_is_accepted(world: World) -> None:
    full = world.issue(FULL)
    answer = world.send(full)
    assert (answer.status_code, answer.is_valid, answer.document_key) == ("00", True, full.uuid)
    assert parse_document(answer.xml).response_code == "02"
    assert answer.status_message == f"La Factura electrónica {full.number}, ha sido autorizada."

    rate = {"rate": "4100.25", "date": dt.date.today().isoformat()}
    export = dict(SALE, type="02", currency="USD", exchange_rate=rate)
    assert world.send(world.issue(export)).status_code == "00"

    paper = {"number": "TAL-15", "issue_date": (dt.date.today() - dt.timedelta(days=1)).isoformat()}
    assert world.send(world.issue(dict(SALE, type="03", paper_invoice=paper), rng=CONT)).status_code == "00"

    status, windows = world.admin("/_sim/contingencies", {"start": (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
                                                          .isoformat()})  # fmt: skip
    assert status == 201 and windows["windows"][0]["end"] is None
    assert world.send(world.issue(dict(SALE, type="04"))).status_code == "00"

    invoice = world.issue(SALE)
    world.send(invoice)
    credit = world.send(world.issue(_note("91", invoice)), "nc.xml")
    debit = world.send(world.issue(_note("92", invoice, concept="2")), "nd.xml")
    assert credit.status_message.startswith("La Nota de credito electronica NC")
    assert debit.is_valid and parse_document(debit.xml).response_code == "02"
    # A note without a referenced invoice (invoice period instead, B.4).
    period = {"start": "2026-01-01", "end": "2026-01-31"}
    alone = {k: v for k, v in _note("91", invoice, concept="5").items() if k != "reference"} | {"period": period}
    assert world.send(world.issue(alone), "nc.xml").status_code == "00"


def test_regla_90_answers_the_earlier_answer(world: World) -> None:
    invoice = world.issue(SALE)
    first = world.send(invoice)
    with pytest.raises(DianRejected) as caught:
        world.send(invoice)
    assert caught.value.already_registered
    assert [m.text for m in caught.value.messages] == ["Documento procesado anteriormente."]
    assert (caught.value.response.xml, caught.value.response.document_key) == (first.xml, invoice.uuid)


# --- one refusal per rule -------------------------------------------------------------------------------------------


def _signed_invoice(world: World, data: dict, *, change) -> bytes:
    """An invoice built from the payload whose draft or unsigned XML ``change`` alters before it is signed."""
    payload = require_payload(copy.deepcopy(data))
    world.next_number += 1
    at = dt.datetime.now(dt.UTC)
    draft = draft_of(payload, compute_totals(payload), supplier=SELLER, number=f"SETP{world.next_number}",
                     issued_at=at, environment=Environment.TESTING)  # fmt: skip
    draft = change(draft) if callable(change) else draft
    unsigned = build_invoice(draft, software=SOFTWARE, numbering=SETP)
    return sign(unsigned, world.issuer.identity, signing_time=at.astimezone(BOGOTA), role="supplier")


def test_wrong_cufe_is_fad06(world: World) -> None:
    # The invoice as issuing/document.py drafts it, with its UUID replaced before it is signed.
    payload = require_payload(copy.deepcopy(SALE))
    at = dt.datetime.now(dt.UTC)
    draft = draft_of(payload, compute_totals(payload), supplier=SELLER, number="SETP990004444", issued_at=at,
                     environment=Environment.TESTING)  # fmt: skip
    xml = build_invoice(draft, software=SOFTWARE, numbering=SETP)
    cufe = parse_document(xml).uuid
    forged = xml.replace(cufe.encode(), b"0" * 96)
    signed = sign(forged, world.issuer.identity, signing_time=at.astimezone(BOGOTA), role="supplier")
    assert world.refused(signed) == {"FAD06"}


def test_number_outside_the_range(world: World) -> None:
    wider = dataclasses.replace(SETP, to_number=999999999)
    assert "SIM20" in world.refused(world.issue(SALE, rng=wider, number=996000000))


def test_expired_range(world: World) -> None:
    typed = dataclasses.replace(EXP, end_date=dt.date(2035, 1, 1))  # the issuer believes it still runs
    rules = world.refused(world.issue(SALE, rng=typed, number=5))
    assert {"SIM22", "FAB08b"} <= rules and "FAD06" not in rules


def test_wrong_technical_key(world: World) -> None:
    assert world.refused(world.issue(SALE, rng=dataclasses.replace(SETP, technical_key="0" * 40))) == {"FAD06"}


def test_totals_beyond_the_tolerance_but_not_within(world: World) -> None:
    def payable_plus(cents: str):
        def change(draft):
            total = draft.monetary_total
            changed = dataclasses.replace(total, payable=total.payable + D(cents))
            return dataclasses.replace(draft, monetary_total=changed)

        return change

    assert world.send(_signed_invoice(world, SALE, change=payable_plus("1.99"))).status_code == "00"  # ±2.00
    assert world.refused(_signed_invoice(world, SALE, change=payable_plus("2.01"))) == {"FAU14"}


def test_note_referencing_an_unknown_invoice(world: World) -> None:
    ghost = world.issue(SALE)  # signed but never sent
    assert "CBG04a" in world.refused(world.issue(_note("91", ghost)))
    assert "DBG04a" in world.refused(world.issue(_note("92", ghost)))


def test_note_above_the_invoice(world: World) -> None:
    invoice = world.issue(SALE)
    world.send(invoice)
    assert world.refused(world.issue(_note("91", invoice, amount="1000003"))) == {"VLR02"}


def test_contingency_04_outside_any_declared_window(world: World) -> None:
    assert world.refused(world.issue(dict(SALE, type="04"))) == {"CTG01"}
    # A window that ended more than 48 h ago does not cover a document signed now either.
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=5)
    world.admin("/_sim/contingencies", {"start": old.isoformat(), "end": (old + dt.timedelta(hours=2)).isoformat()})
    assert "CTG01" in world.refused(world.issue(dict(SALE, type="04")))
    # Signed inside that window but transmitted after its 48 h: refused with the deadline.
    late = world.issue(dict(SALE, type="04"), at=old + dt.timedelta(hours=1))
    assert "SIM93" in world.refused(late)


def test_an_outage_opens_a_window_and_the_next_answer_closes_it(world: World) -> None:
    world.admin("/_sim/faults", {"operation": "GetStatus", "kind": "http503"})
    with pytest.raises(DianServiceError):
        world.client.get_status("0" * 96)
    contingency = world.issue(dict(SALE, type="04"))  # issued during the outage
    assert world.client.get_status("0" * 96).status_code == "66"  # the service is back: the window closes
    (window,) = world.admin("/_sim/contingencies")[1]["windows"]
    assert window["source"] == "outage" and window["end"] is not None
    assert world.send(contingency).status_code == "00"


def test_signer_not_ours(world: World) -> None:
    test_pki = pki()
    stranger = SigningIdentity(key=test_pki.company.key, certificate=test_pki.company.cert,
                               chain=test_pki.company.chain)  # fmt: skip
    assert "SIM13" in world.refused(world.issue(SALE, issuer=dataclasses.replace(world.issuer, identity=stranger)))


# --- test sets ------------------------------------------------------------------------------------------------------


def _until(done: Callable[[], object], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, "the simulator gave no verdict in time"
        time.sleep(0.2)


def test_the_test_set_flow_with_get_status_zip_and_the_quota(world: World) -> None:
    status, state = world.admin("/_sim/test-sets", {"id": "ts-1", "invoices": 2, "credit_notes": 1,
                                                    "debit_notes": 1, "delay_seconds": 3.0})  # fmt: skip
    assert status == 200 and state["required"] == {"invoices": 2, "credit_notes": 1, "debit_notes": 1}

    invoices = [world.issue(SALE), world.issue(SALE)]
    keys = [world.client.send_test_set_async("fv.xml", doc.xml, "ts-1").zip_key for doc in invoices]
    (pending,) = world.client.get_status_zip(keys[0])
    assert (pending.status_code, pending.status_description) == ("66", "Batch en proceso de validación.")
    assert world.admin("/_sim/test-sets/ts-1")[1]["accepted"]["invoices"] == 0  # not counted before the verdict
    # Three seconds leave a loaded machine room to ask before the verdict; then wait for it rather than sleep.
    _until(lambda: world.client.get_status_zip(keys[-1])[0].status_code != "66")
    for key, doc in zip(keys, invoices, strict=True):
        (verdict,) = world.client.get_status_zip(key)
        assert (verdict.status_code, verdict.document_key) == ("00", doc.uuid)

    # Phase two, the notes; one of them wrong (rejected, counted as such).
    bad = world.issue(_note("92", invoices[0], amount="2000000"))
    for doc in (world.issue(_note("91", invoices[0])), world.issue(_note("92", invoices[1])), bad):
        world.client.send_test_set_async("nc.xml", doc.xml, "ts-1")
    _until(lambda: world.admin("/_sim/test-sets/ts-1")[1]["complete"])
    state = world.admin("/_sim/test-sets/ts-1")[1]
    assert state["accepted"] == {"invoices": 2, "credit_notes": 1, "debit_notes": 1}
    assert state["rejected"] == {"invoices": 0, "credit_notes": 0, "debit_notes": 1}
    assert (state["complete"], state["status"]) == (True, "Aceptado")
    assert world.admin("/_sim/test-sets/nope")[0] == 404


def test_a_note_in_the_same_batch_as_its_invoice_is_refused_and_the_batch_answers_a_zip(world: World) -> None:
    invoice = world.issue(SALE)
    note = world.issue(_note("91", invoice))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("fv.xml", invoice.xml)
        archive.writestr("nc.xml", note.xml)
    from dian.soap.results import upload_result_from

    upload = upload_result_from(world.client._call("SendTestSetAsync", fileName="z.zip", contentFile=buffer.getvalue(),
                                                   testSetId="ts-2"))  # fmt: skip
    uploaded = dt.datetime.now(BOGOTA).replace(tzinfo=None, microsecond=0)
    (answer,) = world.client.get_status_zip(upload.zip_key)
    assert answer.status_code == "00"
    with zipfile.ZipFile(io.BytesIO(answer.xml)) as archive:
        # Dated when the batch was validated (no delay here: at its upload), in Bogotá; a zip keeps even seconds.
        stamps = {dt.datetime(*info.date_time) for info in archive.infolist()}
        assert len(stamps) == 1 and abs(stamps.pop() - uploaded) <= dt.timedelta(seconds=3)
        verdicts = {parse_document(archive.read(n)).document_reference.uuid: parse_document(archive.read(n))
                    for n in archive.namelist()}  # fmt: skip
    assert verdicts[invoice.uuid].response_code == "02"
    assert verdicts[note.uuid].response_code == "04"
    assert "CBG04a" in {line.code for line in verdicts[note.uuid].line_responses}
    # Resent byte for byte in the second phase, the note is accepted.
    assert world.client.send_test_set_async("nc.xml", note.xml, "ts-2").zip_key
    assert world.admin("/_sim/test-sets/ts-2")[1]["accepted"] == {"invoices": 1, "credit_notes": 1, "debit_notes": 0}


# --- the buyer plays ------------------------------------------------------------------------------------------------


def test_the_buyer_accepts_claims_or_stays_silent_by_policy(world: World) -> None:
    def events(doc: IssuedDocument) -> list[str]:
        return [e["code"] for e in world.admin(f"/_sim/invoices/{doc.uuid}")[1]["events"]]

    assert world.admin("/_sim/buyer-policy", {"policy": "accept"})[0] == 200
    accepted = world.issue(SALE)
    world.send(accepted)
    assert events(accepted) == ["030", "032", "033"]

    world.admin("/_sim/buyer-policy", {"policy": "claim", "buyer_nit": BUYER["id"], "concept": "03"})
    claimed = world.issue(SALE)
    world.send(claimed)
    assert events(claimed) == ["030", "032", "031"]

    world.admin("/_sim/buyer-policy", {"policy": "silence", "buyer_nit": BUYER["id"]})
    silent = world.issue(SALE)
    world.send(silent)
    assert events(silent) == ["030", "032"]

    cash = world.issue(dict(SALE, payment={"form": "1", "method": "10"}))
    world.send(cash)
    assert events(cash) == []  # a cash sale takes no events
    status, described = world.admin("/_sim/buyer-policy")
    assert status == 200 and all(entry["registered"] for entry in described["log"])
    assert world.admin("/_sim/buyer-policy", {"policy": "maybe"})[0] == 400


def test_a_data_directory_from_before_the_ranges_kind_gets_it(tmp_path: Path) -> None:
    import sqlite3

    from dian.simulator.store import Store

    old = sqlite3.connect(tmp_path / "old.db")  # the numbering table as it was before the kind column
    old.execute("CREATE TABLE numbering (nit TEXT NOT NULL, software_id TEXT NOT NULL, resolution TEXT NOT NULL, "
                "resolution_date TEXT, prefix TEXT NOT NULL, from_number INTEGER NOT NULL, to_number INTEGER NOT "
                "NULL, valid_from TEXT NOT NULL, valid_to TEXT NOT NULL, technical_key TEXT NOT NULL, "
                "PRIMARY KEY (nit, resolution, prefix))")  # fmt: skip
    old.execute("INSERT INTO numbering VALUES ('1', 's', '187', '2019-01-19', 'SETP', 1, 9, '2019-01-19', "
                "'2030-01-19', 'k')")  # fmt: skip
    old.commit()
    old.close()
    store = Store(tmp_path / "old.db")
    try:
        assert [row["kind"] for row in store.all("SELECT kind FROM numbering")] == ["invoice"]
        store.seed({"numbering": [{**habilitacion_range("1", "s", prefix="DS"), "kind": "support_document"}]})
        assert store.one("SELECT kind FROM numbering WHERE prefix = 'DS'")["kind"] == "support_document"
        with pytest.raises(ValueError, match="not one of invoice, support_document"):
            store.seed({"numbering": [{**habilitacion_range("1", "s", prefix="X"), "kind": "contingency"}]})
        assert store.one("SELECT 1 FROM numbering WHERE prefix = 'X'") is None
    finally:
        store.close()
