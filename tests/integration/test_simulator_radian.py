"""The simulator runs RADIAN as DIAN does (radian-issuing-facts.md A.3-A.13), over real HTTP: SendEventUpdateStatus
for 035-051 (one test per party, history and time rule), GetStatusEvent's chain in DIAN's layout (A.12),
GetDocumentInfo's holder after endorsements, and every counterpart action of the admin API (/_sim/…)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal

import pytest
from lxml import etree

from dian.codes import DIAN_DV, DIAN_NAME, DIAN_NIT, EventCode, Operation, PaymentMeans
from dian.cufe import event_cude
from dian.nit import check_digit
from dian.radian.blocks import Negotiation, PaymentRecord, Payments, discounted_price
from dian.radian.build import build_radian_event, radian_cude
from dian.radian.chain import read_status_events, status_answer_uuid
from dian.radian.cude import blank_endorsement_cude
from dian.radian.model import RadianEvent, Share, TitleReference
from dian.radian.parse import parse_radian_event
from dian.soap import DianRejected
from dian.trust import TrustStore, certificate_nit
from dian.ubl import Party, parse_document
from dian.xades import sign, verify
from tests.integration.dian_fixtures import (
    BUYER,
    BUYER_NIT,
    SELLER,
    SELLER_NIT,
    SELLER_SW,
    DianWorld,
    _time,
    make_world,
)

pytestmark = pytest.mark.integration

E, OP = EventCode, Operation
DIAN = Party(nit=DIAN_NIT, dv=DIAN_DV, registration_name=DIAN_NAME)
FACTOR = Party(nit="901777888", dv=check_digit("901777888"), registration_name="FACTOR UNO S.A.S.")
FACTOR2 = Party(nit="901777999", dv=check_digit("901777999"), registration_name="FACTOR DOS S.A.S.")
STEP = dt.timedelta(minutes=5)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[DianWorld]:
    w = make_world(tmp_path_factory.mktemp("dian-radian"))
    try:
        yield w
    finally:
        w.stop()


def admin(world: DianWorld, path: str, body: dict | None = None) -> tuple[int, dict]:
    """One admin call over HTTP: the status and the JSON answer."""
    data = json.dumps(body).encode() if body is not None else None
    url = world.server.base_url + path
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")  # noqa: S310
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - loopback
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@dataclass
class Title:
    """One invoice in the simulator and a clock that moves forward for each event signed on it."""

    world: DianWorld
    xml: bytes
    cufe: str
    number: str
    due: dt.date
    payable: Decimal
    cursor: dt.datetime

    def tick(self) -> dt.datetime:
        self.cursor += STEP
        return self.cursor

    def act(self, action: str, **fields) -> tuple[int, dict]:
        """A counterpart action signed at the next tick (unless ``at`` is given)."""
        fields.setdefault("at", self.tick().isoformat())
        return admin(self.world, "/_sim/counterparts", {"action": action, "cufe": self.cufe, **fields})

    def ok(self, action: str, **fields) -> dict:
        status, body = self.act(action, **fields)
        assert status == 200 and body["registered"], body
        return body


def new_title(
    world: DianWorld,
    *,
    steps: tuple[str, ...] = ("acknowledge", "receipt", "accept"),
    issued: dt.datetime | None = None,
    payment: PaymentMeans = PaymentMeans.CREDIT,
) -> Title:
    """A seller's invoice validated by the simulator (SendBillSync) and taken through the buyer's ``steps``."""
    issued = issued or dt.datetime.now(dt.UTC) - dt.timedelta(hours=8)
    xml = world.invoice(at=issued, payment=payment)
    cufe = world.client(world.seller).send_bill_sync("fv.xml", xml).document_key
    doc = parse_document(xml)
    title = Title(world, xml, cufe, doc.number, doc.due_date, doc.monetary_total.payable, issued)
    for step in steps:
        title.ok(step)
    return title


def seller_event(title: Title, operation: Operation, *, at: dt.datetime | None = None, **fields) -> bytes:
    """A RADIAN event signed by the seller with its own software, as Buzón would send it."""
    at = at or title.tick()
    day, time = _time(at)
    defaults: dict = {"receiver": DIAN, "due_date": title.due}
    if operation is OP.FIRST_REGISTRATION:
        defaults["block"] = PaymentRecord(title.payable, Decimal("0.00"), title.payable)
    if operation in (OP.ENDORSEMENT_WITH_RESPONSIBILITY, OP.ENDORSEMENT_WITHOUT_RESPONSIBILITY):
        defaults |= {
            "receiver": FACTOR,
            "sender_shares": (Share(SELLER_NIT, SELLER.registration_name, SELLER.dv, amount=title.payable),),
            "receiver_shares": (Share(FACTOR.nit, FACTOR.registration_name, FACTOR.dv, amount=title.payable),),
            "list_id": "1",
            "debtor": BUYER,
            "block": Negotiation(title.payable, discounted_price(title.payable, Decimal(2)), Decimal(2), "47"),
            "notes": ("Endoso con mi responsabilidad.",),
        }
    event = RadianEvent(
        operation=operation,
        number=f"RAD{title.world.number()}",
        issue_date=day,
        issue_time=time,
        environment=title.world.simulator.environment,
        sender=SELLER,
        reference=TitleReference(title.number, title.cufe),
        **(defaults | fields),
    )
    return sign(build_radian_event(event, software=SELLER_SW), title.world.seller, signing_time=at)


def resign(xml: bytes, identity, at: dt.datetime) -> bytes:
    """The same event signed again (after a change, or by someone else)."""
    root = etree.fromstring(xml)
    signature = root.find(".//{http://www.w3.org/2000/09/xmldsig#}Signature")
    parent = signature.getparent()
    parent.remove(signature)
    etree.SubElement(parent, "{http://www.w3.org/2000/09/xmldsig#}Signature", Id="placeholder")
    return sign(etree.tostring(root), identity, signing_time=at)


def readdressed(title: Title, xml: bytes, receiver: Party) -> bytes:
    """The event sent to another receiver than our builder allows, with its CUDE recomputed (a peer's mistake)."""
    event = parse_radian_event(xml)
    cude = radian_cude(replace(event, receiver=receiver), SELLER_SW.pin)
    root = etree.fromstring(xml.replace(event.cude.encode(), cude.encode()))
    scheme = root.find("{*}ReceiverParty/{*}PartyTaxScheme")
    scheme.find("{*}CompanyID").text = receiver.nit
    scheme.find("{*}CompanyID").set("schemeID", receiver.dv)
    scheme.find("{*}RegistrationName").text = receiver.registration_name
    return resign(etree.tostring(root), title.world.seller, title.tick())


def send(title: Title, xml: bytes):
    return title.world.client(title.world.seller).send_event_update_status("ev.xml", xml)


def refused_by(title: Title, xml: bytes) -> list[str]:
    with pytest.raises(DianRejected) as caught:
        send(title, xml)
    return [m.rule for m in caught.value.rejections]


def rules_of(body: dict) -> list[str]:
    return [text.split(",", 1)[0].removeprefix("Regla: ") for text in body["errors"]]


# -- acceptance: our 036 and 037 over SOAP, the chain, the holder -----------------------------------------------------


def test_register_and_endorse_over_soap_then_the_chain_and_the_holder(world: DianWorld) -> None:
    title = new_title(world)
    registered = send(title, seller_event(title, OP.FIRST_REGISTRATION))
    assert registered.accepted
    endorsement = seller_event(title, OP.ENDORSEMENT_WITH_RESPONSIBILITY)
    endorsed = send(title, endorsement)
    assert endorsed.accepted and endorsed.document_key == parse_radian_event(endorsement).cude

    listing = world.client(world.buyer).get_status_event(title.cufe)
    assert listing.status_code == "00"
    chain = read_status_events(listing.xml)
    assert [entry.code.value for entry in chain] == ["030", "032", "033", "036", "037"]
    assert [entry.line for entry in chain] == [1, 2, 3, 4, 5]
    assert (chain[4].sender.nit, chain[4].receiver.nit, chain[4].cude) == (
        SELLER_NIT,
        FACTOR.nit,
        endorsed.document_key,
    )
    assert chain[3].receiver.nit == DIAN_NIT and chain[0].sender.nit == BUYER_NIT
    assert [entry.signed_at for entry in chain] == sorted(entry.signed_at for entry in chain)
    assert b"<cbc:EffectiveTime>" in listing.xml and b"-05:00</cbc:EffectiveTime>" in listing.xml
    answer = parse_document(listing.xml)
    assert answer.sender.nit == DIAN_NIT and answer.receiver.nit == SELLER_NIT
    assert answer.uuid == status_answer_uuid(issuer_nit=SELLER_NIT, buyer_nit=BUYER_NIT, invoice_number=title.number)

    info = world.client(world.buyer).get_document_info(title.cufe)
    assert info.found and info.holder_name == FACTOR.registration_name
    assert [event.code for event in info.events] == ["030", "032", "033", "036", "037"]

    # The factor registers the title in its name and endorses on; the holder moves again.
    title.ok("register", **{"from": {"nit": FACTOR.nit, "name": FACTOR.registration_name}})
    moved = title.ok("endorse", to={"nit": FACTOR2.nit, "name": FACTOR2.registration_name})
    assert moved["operation"] == "371" and moved["sender_nit"] == FACTOR.nit
    assert moved["holders"] == [{"nit": FACTOR2.nit, "name": FACTOR2.registration_name}]
    info = world.client(world.buyer).get_document_info(title.cufe)
    assert info.holder_name == FACTOR2.registration_name and info.states == ((3, "Endosada"),)
    # The current holder may read the title's events (A.11), a stranger may not.
    holder = world.client(world.simulator.issue_identity(FACTOR2.nit, FACTOR2.registration_name))
    assert holder.get_xml_by_document_key(endorsed.document_key).code == "100"
    assert world.client(world.stranger).get_xml_by_document_key(endorsed.document_key).code == "401"


def test_get_status_event_answers_66_67_68(world: DianWorld) -> None:
    title = new_title(world, steps=())
    client = world.client(world.buyer)
    empty = client.get_status_event(title.cufe)
    assert (empty.status_code, empty.accepted) == (
        "67",
        False,
    ) and "no tiene a la fecha eventos" in empty.status_description
    assert read_status_events(empty.xml) == ()  # a signed answer with no DocumentResponse
    assert verify(empty.xml, trust=TrustStore(anchors=(world.simulator.pki.ca.certificate,))).core_valid
    event = title.ok("acknowledge")
    assert client.get_status_event(event["cude"]).status_code == "68"
    assert client.get_status_event("0" * 96).status_code == "66"
    assert world.client(world.buyer).get_document_info("0" * 96).status_code == "66"


def test_a_blank_endorsement_uses_the_blank_cude(world: DianWorld) -> None:
    title = new_title(world)
    assert send(title, seller_event(title, OP.FIRST_REGISTRATION)).accepted
    at = title.tick()
    xml = seller_event(title, OP.ENDORSEMENT_WITH_RESPONSIBILITY, at=at, list_id="2")
    event = parse_radian_event(xml)
    day, time = _time(at)
    expected = blank_endorsement_cude(
        number=event.number,
        issue_date=day,
        issue_time=time,
        receiver_nit=FACTOR.nit,
        response_code="037",
        list_id="2",
        document_number=title.number,
        document_type_code="01",
        software_pin=SELLER_SW.pin,
    )
    assert event.cude == expected
    assert send(title, xml).accepted


def test_a_blank_endorsement_with_the_ordinary_cude_is_aad06(world: DianWorld) -> None:
    title = new_title(world)
    assert send(title, seller_event(title, OP.FIRST_REGISTRATION)).accepted
    xml = seller_event(title, OP.ENDORSEMENT_WITH_RESPONSIBILITY, list_id="2")
    event = parse_radian_event(xml)
    ordinary = event_cude(
        number=event.number,
        issue_date=event.issue_date,
        issue_time=event.issue_time,
        sender_nit=SELLER_NIT,
        receiver_nit=FACTOR.nit,
        response_code="037",
        document_number=title.number,
        document_type_code="01",
        software_pin=SELLER_SW.pin,
    )
    resigned = resign(xml.replace(event.cude.encode(), ordinary.encode()), world.seller, title.tick())
    assert refused_by(title, resigned) == ["AAD06"]


# -- refusals, one per rule -------------------------------------------------------------------------------------------


def test_registration_needs_an_accepted_invoice_lgc21(world: DianWorld) -> None:
    title = new_title(world, steps=("acknowledge", "receipt"))
    assert refused_by(title, seller_event(title, OP.FIRST_REGISTRATION)) == ["LGC21"]


def test_registration_of_a_tacitly_accepted_invoice_is_allowed(world: DianWorld) -> None:
    issued = dt.datetime.now(dt.UTC) - dt.timedelta(days=12)
    title = new_title(world, steps=("acknowledge", "receipt"), issued=issued)
    title.ok("tacit", at=(dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)).isoformat())
    assert send(title, seller_event(title, OP.FIRST_REGISTRATION, at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)))


def test_registration_of_a_cash_invoice_is_lgc62(world: DianWorld) -> None:
    title = new_title(world, steps=("acknowledge", "receipt"), payment=PaymentMeans.CASH)
    assert refused_by(title, seller_event(title, OP.FIRST_REGISTRATION)) == ["LGC62"]


def test_registration_goes_to_dian_aag01(world: DianWorld) -> None:
    title = new_title(world)
    assert refused_by(title, readdressed(title, seller_event(title, OP.FIRST_REGISTRATION), BUYER)) == ["AAG01"]


def test_registration_by_someone_not_the_holder_is_aaf01a(world: DianWorld) -> None:
    title = new_title(world)
    status, body = title.act("register", **{"from": {"nit": "811222333", "name": "OTRA EMPRESA S.A.S."}})
    assert status == 422 and rules_of(body) == ["AAF01a"]


def test_registration_due_date_must_match_the_invoice_aah59(world: DianWorld) -> None:
    title = new_title(world)
    xml = seller_event(title, OP.FIRST_REGISTRATION, due_date=title.due + dt.timedelta(days=1))
    assert refused_by(title, xml) == ["AAH59"]


def test_first_registration_only_once_lgc23(world: DianWorld) -> None:
    title = new_title(world)
    title.ok("register")
    status, body = title.act("register")
    assert status == 422 and rules_of(body) == ["LGC23"]


def test_endorsement_needs_a_registration_lgc24(world: DianWorld) -> None:
    title = new_title(world)
    endorsement = seller_event(title, OP.ENDORSEMENT_WITH_RESPONSIBILITY)
    assert refused_by(title, endorsement) == ["LGC24"]
    # DIAN keeps the rejection: GetStatus of the refused CUDE answers 99 with its rule, until it is registered.
    cude = parse_radian_event(endorsement).cude
    status = world.client(world.seller).get_status(cude)
    assert status.status_code == "99" and [m.rule for m in status.rejections] == ["LGC24"]
    signed = parse_radian_event(endorsement).issued_at
    title.ok("register", at=(signed - dt.timedelta(minutes=1)).isoformat())
    assert send(title, endorsement).accepted
    assert world.client(world.seller).get_status(cude).accepted


def test_endorsement_signed_before_the_registration_is_dc24k(world: DianWorld) -> None:
    title = new_title(world)
    before = title.tick()
    title.ok("register")
    assert refused_by(title, seller_event(title, OP.ENDORSEMENT_WITH_RESPONSIBILITY, at=before)) == ["DC24k"]


def test_the_old_holder_cannot_endorse_again_aaf01(world: DianWorld) -> None:
    title = new_title(world)
    title.ok("register")
    title.ok("endorse", to={"nit": FACTOR.nit, "name": FACTOR.registration_name})
    status, body = title.act(
        "endorse",
        to={"nit": FACTOR2.nit, "name": FACTOR2.registration_name},
        **{"from": {"nit": SELLER_NIT, "name": SELLER.registration_name}},
    )
    assert status == 422 and rules_of(body) == ["AAF01"] and "no es el tenedor legítimo" in body["errors"][0]


def test_the_new_holder_registers_before_endorsing_lgc24(world: DianWorld) -> None:
    title = new_title(world)
    title.ok("register")
    title.ok("endorse", to={"nit": FACTOR.nit, "name": FACTOR.registration_name})
    status, body = title.act("endorse", to={"nit": FACTOR2.nit, "name": FACTOR2.registration_name})
    assert status == 422 and rules_of(body) == ["LGC24"] and "inscribir la factura" in body["errors"][0]


def test_an_endorsement_to_oneself_is_aag04(world: DianWorld) -> None:
    title = new_title(world)
    title.ok("register")
    xml = readdressed(title, seller_event(title, OP.ENDORSEMENT_WITH_RESPONSIBILITY), SELLER)
    assert refused_by(title, xml) == ["AAG04"]


def test_endorsement_after_maturity_is_aah59a_and_047_before_it_is_lgc72(world: DianWorld) -> None:
    late = new_title(world, issued=dt.datetime.now(dt.UTC) - dt.timedelta(days=40))
    late.ok("register")
    status, body = late.act(
        "endorse", to={"nit": FACTOR.nit, "name": FACTOR.registration_name}, at=dt.datetime.now(dt.UTC).isoformat()
    )
    assert status == 422 and rules_of(body) == ["AAH59a"] and "047" in body["errors"][0]
    early = new_title(world)
    early.ok("register")
    at = early.tick()
    event = RadianEvent(
        operation=OP.ASSIGNMENT_ENDORSEMENT,
        number=f"RAD{world.number()}",
        issue_date=_time(at)[0],
        issue_time=_time(at)[1],
        environment=world.simulator.environment,
        sender=SELLER,
        receiver=FACTOR,
        reference=TitleReference(early.number, early.cufe),
        due_date=early.due,
        debtor=BUYER,
        list_id="1",
        sender_shares=(Share(SELLER_NIT, SELLER.registration_name, SELLER.dv, amount=early.payable),),
        receiver_shares=(Share(FACTOR.nit, FACTOR.registration_name, FACTOR.dv, amount=early.payable),),
        block=Negotiation(early.payable, early.payable, Decimal(0), "47"),
    )
    xml = sign(build_radian_event(event, software=SELLER_SW), world.seller, signing_time=at)
    assert refused_by(early, xml) == ["LGC72"]


def test_no_circulation_under_a_limitation_lgc25_and_payment_says_so_lgc45(world: DianWorld) -> None:
    title = new_title(world)
    title.ok("register")
    limitation = title.ok("limit")
    assert limitation["sender_nit"] == "899999061"
    assert refused_by(title, seller_event(title, OP.ENDORSEMENT_WITH_RESPONSIBILITY)) == ["LGC25"]
    # A payment under the 041 with listID 1 (free) is refused; the counterpart's says 2 and passes.
    at = title.tick()
    event = RadianEvent(
        operation=OP.PARTIAL_PAYMENT,
        number=f"RAD{world.number()}",
        issue_date=_time(at)[0],
        issue_time=_time(at)[1],
        environment=world.simulator.environment,
        sender=SELLER,
        receiver=DIAN,
        reference=TitleReference(title.number, title.cufe),
        due_date=title.due,
        list_id="1",
        sender_shares=(Share(SELLER_NIT, SELLER.registration_name, SELLER.dv, amount=Decimal("10.00")),),
        block=Payments(title.payable, title.payable - Decimal("10.00")),
        effective_date=at.date(),
    )
    assert refused_by(title, sign(build_radian_event(event, software=SELLER_SW), world.seller, signing_time=at)) == [
        "LGC45"
    ]
    assert title.ok("pay", amount="10.00")["operation"] == "451"
    lifted = title.ok("lift")
    assert lifted["code"] == "042" and lifted["sender_nit"] == "899999061"
    assert send(
        title,
        seller_event(
            title,
            OP.ENDORSEMENT_WITH_RESPONSIBILITY,
            sender_shares=(
                Share(SELLER_NIT, SELLER.registration_name, SELLER.dv, amount=title.payable - Decimal("10.00")),
            ),
            receiver_shares=(
                Share(FACTOR.nit, FACTOR.registration_name, FACTOR.dv, amount=title.payable - Decimal("10.00")),
            ),
            block=Negotiation(title.payable - Decimal("10.00"), title.payable - Decimal("10.00"), Decimal(0), "47"),
        ),
    ).accepted


def test_a_limitation_by_the_holder_is_lgc64(world: DianWorld) -> None:
    title = new_title(world)
    title.ok("register")
    status, body = title.act("limit", **{"from": {"nit": SELLER_NIT, "name": SELLER.registration_name}})
    assert status == 422 and rules_of(body) == ["LGC64"]


def test_lifting_needs_a_limitation(world: DianWorld) -> None:
    title = new_title(world)
    title.ok("register")
    status, body = title.act("lift")
    assert status == 400 and "041" in body["error"]


def test_nothing_after_a_total_payment_lgc26_lgc44(world: DianWorld) -> None:
    title = new_title(world)
    title.ok("register")
    paid = title.ok("pay")
    assert paid["operation"] == "452" and paid["sender_nit"] == BUYER_NIT
    assert refused_by(title, seller_event(title, OP.ENDORSEMENT_WITH_RESPONSIBILITY)) == ["LGC26"]
    assert refused_by(title, payment(title, OP.PARTIAL_PAYMENT, Decimal("1.00"), Decimal("2.00"))) == ["LGC44"]


def payment(title: Title, operation: Operation, paid: Decimal, current: Decimal) -> bytes:
    """The seller's 045 paying ``paid`` of a title it says is worth ``current``."""
    at = title.tick()
    event = RadianEvent(
        operation=operation,
        number=f"RAD{title.world.number()}",
        issue_date=_time(at)[0],
        issue_time=_time(at)[1],
        environment=title.world.simulator.environment,
        sender=SELLER,
        receiver=DIAN,
        reference=TitleReference(title.number, title.cufe),
        due_date=title.due,
        list_id="1",
        sender_shares=(Share(SELLER_NIT, SELLER.registration_name, SELLER.dv, amount=paid),),
        block=Payments(current, current - paid),
        effective_date=at.date(),
    )
    return sign(build_radian_event(event, software=SELLER_SW), title.world.seller, signing_time=at)


def test_a_payment_above_the_title_value_is_aaf19b(world: DianWorld) -> None:
    title = new_title(world)
    title.ok("register")
    xml = payment(title, OP.PARTIAL_PAYMENT, title.payable + 1, title.payable + 2)
    assert refused_by(title, xml) == ["AAF19b"]


def test_a_total_payment_must_equal_the_current_value_aaf19c(world: DianWorld) -> None:
    title = new_title(world)
    title.ok("register")
    title.ok("pay", amount="100.00")
    short = title.payable - 200
    assert refused_by(title, payment(title, OP.TOTAL_PAYMENT, short, short)) == ["AAF19c"]


def test_a_partial_payment_of_the_whole_value_is_aaf19d(world: DianWorld) -> None:
    title = new_title(world)
    title.ok("register")
    title.ok("pay", amount="100.00")
    rest = title.payable - 100
    assert refused_by(title, payment(title, OP.PARTIAL_PAYMENT, rest, rest + 1)) == ["AAF19d"]


def test_the_payment_report_goes_to_the_buyer_aag04(world: DianWorld) -> None:
    from dian.radian.blocks import PaymentReport

    title = new_title(world)
    title.ok("register")
    at = title.tick()
    event = RadianEvent(
        operation=OP.PAYMENT_REPORT,
        number=f"RAD{world.number()}",
        issue_date=_time(at)[0],
        issue_time=_time(at)[1],
        environment=world.simulator.environment,
        sender=SELLER,
        receiver=FACTOR,
        reference=TitleReference(title.number, title.cufe),
        due_date=title.due,
        block=PaymentReport(title.payable),
    )
    xml = sign(build_radian_event(event, software=SELLER_SW), world.seller, signing_time=at)
    assert refused_by(title, xml) == ["AAG04"]
    assert send(
        title,
        sign(
            build_radian_event(replace(event, receiver=BUYER, number=f"RAD{world.number()}"), software=SELLER_SW),
            world.seller,
            signing_time=at,
        ),
    ).accepted


def test_an_event_signed_with_another_nits_certificate_is_sim14(world: DianWorld) -> None:
    title = new_title(world)
    at = title.tick()
    # The seller's event signed with a stranger's certificate: the signer is not the sender.
    forged = resign(seller_event(title, OP.FIRST_REGISTRATION, at=at), world.stranger, at)
    assert refused_by(title, forged) == ["SIM14"]


def test_an_event_sent_twice_is_regla_90(world: DianWorld) -> None:
    title = new_title(world)
    xml = seller_event(title, OP.FIRST_REGISTRATION)
    first = send(title, xml)
    assert first.accepted
    assert refused_by(title, xml) == ["90"]


# -- the admin counterparts -------------------------------------------------------------------------------------------


def test_register_invoice_makes_an_invoice_known(world: DianWorld) -> None:
    xml = world.invoice(at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=3))
    status, body = admin(world, "/_sim/invoices", {"xml": base64.b64encode(xml).decode()})
    doc = parse_document(xml)
    assert status == 201 and body["cufe"] == doc.uuid and body["buyer_nit"] == BUYER_NIT
    assert body["payable"] == f"{doc.monetary_total.payable:.2f}" and body["holders"][0]["nit"] == SELLER_NIT
    assert admin(world, "/_sim/invoices", {"xml_text": xml.decode()})[0] == 200
    assert admin(world, f"/_sim/invoices/{doc.uuid}")[1]["events"] == []
    assert admin(world, "/_sim/invoices", {"xml": base64.b64encode(b"<no").decode()})[0] == 400
    assert admin(world, f"/_sim/invoices/{'0' * 96}")[0] == 404
    assert admin(world, "/_sim/counterparts", {"action": "fly", "cufe": doc.uuid})[0] == 400
    assert admin(world, "/_sim/counterparts", {"action": "accept", "cufe": "0" * 96})[0] == 400


def test_each_counterpart_signs_a_provable_event(world: DianWorld) -> None:
    title = new_title(world, steps=())
    anchors = TrustStore(anchors=(world.simulator.pki.ca.certificate,))
    done = [title.ok("acknowledge"), title.ok("receipt"), title.ok("accept"), title.ok("register")]
    done.append(title.ok("endorse", to={"nit": FACTOR.nit, "name": FACTOR.registration_name}, rate="2.5"))
    done.append(title.ok("register"))  # the factor, now the holder, registers it (363)
    done.append(title.ok("endorse", to={"nit": FACTOR2.nit, "name": FACTOR2.registration_name}, blank=True))
    done.append(title.ok("limit", operation="412"))
    done.append(title.ok("lift", operation="421"))
    done.append(title.ok("pay", amount="1000.00"))
    done.append(title.ok("pay"))
    codes = [(body["code"], body["operation"]) for body in done]
    assert codes == [
        ("030", "030"),
        ("032", "032"),
        ("033", "033"),
        ("036", "361"),
        ("037", "371"),
        ("036", "363"),
        ("037", "371"),
        ("041", "412"),
        ("042", "421"),
        ("045", "451"),
        ("045", "452"),
    ]
    buyer = world.client(world.buyer)
    for body in done:
        xml = base64.b64decode(body["xml"])
        report = verify(xml, trust=anchors)
        assert report.core_valid and certificate_nit(report.certificate) == body["sender_nit"], body["code"]
        assert buyer.get_xml_by_document_key(body["cude"]).xml == xml
    endorsement = parse_radian_event(base64.b64decode(done[4]["xml"]))
    assert endorsement.block.price == discounted_price(title.payable, Decimal("2.5"))
    assert endorsement.cude == radian_cude(endorsement, "24642")
    blank = parse_radian_event(base64.b64decode(done[6]["xml"]))
    assert blank.blank and done[6]["holders"] == [{"nit": FACTOR2.nit, "name": FACTOR2.registration_name}]
    summary = admin(world, f"/_sim/invoices/{title.cufe}")[1]
    assert summary["current_value"] == "0.00" and len(summary["events"]) == 11
    info = buyer.get_document_info(title.cufe)
    assert info.holder_name == FACTOR2.registration_name and info.states == ((2, "Pagada"),)


def test_a_claim_blocks_acceptance_and_registration(world: DianWorld) -> None:
    title = new_title(world, steps=("acknowledge", "receipt"))
    claim = title.ok("claim", concept="03")
    assert claim["code"] == "031"
    status, body = title.act("accept")
    assert status == 422 and rules_of(body) == ["LGC02"]
    status, body = title.act("register")
    assert status == 422 and rules_of(body) == ["LGC21"]


def test_counterpart_requests_are_checked(world: DianWorld) -> None:
    title = new_title(world)
    assert title.act("endorse")[0] == 400  # no endorsee
    assert title.act("register", operation="371")[0] == 400
    assert title.act("pay", amount="abc")[0] == 400
    assert title.act("accept", at="ayer")[0] == 400
    assert title.act("claim", concept="09")[0] == 400
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    status, body = title.act("register", at=future)
    assert status == 422 and "DC24" in rules_of(body)


def test_a_mandatario_without_a_mandate_is_lgc35(world: DianWorld) -> None:
    from tests.integration.dian_fixtures import PROVIDER_NIT

    title = new_title(world)
    at = title.tick()
    day, time = _time(at)
    note = f"{PROVIDER_NIT} OBRANDO EN NOMBRE Y REPRESENTACION DE {SELLER_NIT}"
    event = RadianEvent(
        operation=OP.FIRST_REGISTRATION,
        number=f"RAD{world.number()}",
        issue_date=day,
        issue_time=time,
        environment=world.simulator.environment,
        sender=SELLER,
        receiver=DIAN,
        reference=TitleReference(title.number, title.cufe),
        due_date=title.due,
        block=PaymentRecord(title.payable, Decimal("0.00"), title.payable),
        notes=(note,),
    )
    software = replace(SELLER_SW, provider_nit=PROVIDER_NIT, provider_dv=check_digit(PROVIDER_NIT))
    xml = sign(build_radian_event(event, software=software), world.provider, signing_time=at)
    with pytest.raises(DianRejected) as caught:
        world.client(world.provider).send_event_update_status("ev.xml", xml)
    assert [m.rule for m in caught.value.rejections] == ["LGC35"]


def radian(title: Title, operation: Operation, *, at: dt.datetime | None = None, by: str = "seller", **fields) -> bytes:
    """Any RADIAN event signed by the seller (or the buyer) with its own software; fields complete the event."""
    from tests.integration.dian_fixtures import BUYER_SW

    at = at or title.tick()
    day, time = _time(at)
    sender, software, identity = (
        (SELLER, SELLER_SW, title.world.seller) if by == "seller" else (BUYER, BUYER_SW, title.world.buyer)
    )
    fields.setdefault("reference", TitleReference(title.number, title.cufe))
    fields.setdefault("receiver", DIAN)
    event = RadianEvent(
        operation=operation,
        number=f"RAD{title.world.number()}",
        issue_date=day,
        issue_time=time,
        environment=title.world.simulator.environment,
        sender=sender,
        **fields,
    )
    return sign(build_radian_event(event, software=software), identity, signing_time=at)


def test_a_guarantee_endorsement_blocks_circulation_until_cancelled_lgc25_aag04a(world: DianWorld) -> None:
    title = new_title(world)
    title.ok("register")
    guarantee = radian(title, OP.GUARANTEE_ENDORSEMENT, receiver=FACTOR, due_date=title.due, debtor=BUYER,
                       list_id="1", block=Negotiation(title.payable), notes=("En garantía.",))  # fmt: skip
    registered = send(title, guarantee)
    assert registered.accepted
    assert refused_by(title, seller_event(title, OP.ENDORSEMENT_WITH_RESPONSIBILITY)) == ["LGC25"]
    ended = TitleReference(parse_radian_event(guarantee).number, registered.document_key, "96")
    wrong = radian(title, OP.CANCEL_GUARANTEE_ENDORSEMENT, receiver=FACTOR2, reference=ended,
                   notes=("Se cancela el endoso en garantía.",))  # fmt: skip
    assert refused_by(title, wrong) == ["AAG04a"]
    cancel = radian(title, OP.CANCEL_GUARANTEE_ENDORSEMENT, receiver=FACTOR, reference=ended,
                    notes=("Se cancela el endoso en garantía.",))  # fmt: skip
    assert send(title, cancel).accepted
    assert send(title, seller_event(title, OP.ENDORSEMENT_WITH_RESPONSIBILITY)).accepted


def test_the_payment_report_is_sent_three_business_days_before_due_lgc54(world: DianWorld) -> None:
    from dian.radian.blocks import PaymentReport

    title = new_title(world, issued=dt.datetime.now(dt.UTC) - dt.timedelta(days=29, hours=8))
    title.ok("register")
    report = radian(title, OP.PAYMENT_REPORT, receiver=BUYER, due_date=title.due, block=PaymentReport(title.payable),
                    at=dt.datetime.now(dt.UTC))  # fmt: skip
    assert refused_by(title, report) == ["LGC54"]


def test_an_endorsement_after_maturity_is_a_047_and_then_no_037_lgc25(world: DianWorld) -> None:
    title = new_title(world, issued=dt.datetime.now(dt.UTC) - dt.timedelta(days=40))
    title.ok("register")
    shares = {
        "sender_shares": (Share(SELLER_NIT, SELLER.registration_name, SELLER.dv, amount=title.payable),),
        "receiver_shares": (Share(FACTOR.nit, FACTOR.registration_name, FACTOR.dv, amount=title.payable),),
    }
    assignment = radian(title, OP.ASSIGNMENT_ENDORSEMENT, receiver=FACTOR, due_date=title.due, debtor=BUYER,
                        list_id="1", block=Negotiation(title.payable, title.payable, Decimal(0), "47"),
                        at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2), **shares)  # fmt: skip
    assert send(title, assignment).accepted
    late = seller_event(title, OP.ENDORSEMENT_WITH_RESPONSIBILITY, at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
    assert refused_by(title, late) == ["LGC25"]
    # 047 does not move the holder (A.11): GetDocumentInfo still names the seller.
    assert world.client(world.buyer).get_document_info(title.cufe).holder_name == SELLER.registration_name


def test_a_transfer_notice_needs_a_transfer_lgc83(world: DianWorld) -> None:
    from dian.radian.blocks import TransferNotice

    title = new_title(world)
    title.ok("register")
    notice = radian(title, OP.TRANSFER_NOTICE, receiver=BUYER, due_date=title.due, block=TransferNotice(title.payable))
    assert refused_by(title, notice) == ["LGC83"]


def test_the_buyer_cannot_be_its_own_guarantor_lgc64(world: DianWorld) -> None:
    from dian.radian.blocks import Guarantee

    title = new_title(world)
    title.ok("register")
    aval = radian(title, OP.AVAL, by="buyer", block=Guarantee(title.payable), notes=("Actúo por aval.",))
    with pytest.raises(DianRejected) as caught:
        world.client(world.buyer).send_event_update_status("ev.xml", aval)
    assert [m.rule for m in caught.value.rejections] == ["LGC64"]


def test_a_counterpart_keeps_its_certificate_across_restarts(tmp_path) -> None:
    from dian.simulator import Simulator

    first = Simulator(tmp_path / "sim")
    try:
        issued = first.counterparts.identity(FACTOR).certificate
    finally:
        first.close()
    again = Simulator(tmp_path / "sim")
    try:
        assert again.counterparts.identity(FACTOR).certificate == issued
        assert certificate_nit(issued) == FACTOR.nit
    finally:
        again.close()


def test_the_holder_reports_for_payment_to_the_debtor(world: DianWorld) -> None:
    title = new_title(world)
    title.ok("register")
    title.ok("endorse", to={"nit": FACTOR.nit, "name": FACTOR.registration_name})
    title.ok("register")
    report = title.ok("report")
    assert (report["code"], report["sender_nit"], report["receiver_nit"]) == ("046", FACTOR.nit, BUYER_NIT)
    status, body = title.act("report", **{"from": {"nit": SELLER_NIT, "name": SELLER.registration_name}})
    assert status == 422 and rules_of(body) == ["AAF03"]
