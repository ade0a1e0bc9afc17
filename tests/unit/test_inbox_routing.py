"""The peek that routes a mail to the company it is addressed to (inbox.routing): whom the real samples name, in a
mail, a zip or loose; nothing, and no exception, for whatever cannot be peeked; and the Router's choice."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import pytest

from dian.codes import DIAN_NIT
from inbox.intake import Envelope
from inbox.routing import Router, addressed_to
from inbox.unpack import Limits
from tests.conftest import sample_bytes
from tests.integration.inbox_fixtures import (
    OTHER_BUYER_SAMPLE,
    OUR_BARE,
    OUR_NIT,
    OUR_SAMPLE,
    PDF,
    XXE,
    event_xml,
    mail,
    sample_mail,
    signed,
    zip_bomb,
    zip_bytes,
)

OTHER_NIT = "900923112"  # the buyer of OTHER_BUYER_SAMPLE


def test_an_attached_document_in_a_zip_in_a_mail_names_its_receiver() -> None:
    assert addressed_to(sample_mail()) == (OUR_NIT,)
    assert addressed_to(sample_mail(OTHER_BUYER_SAMPLE)) == (OTHER_NIT,)


def test_loose_files_and_a_bare_invoice_name_their_buyer() -> None:
    assert addressed_to(sample_bytes(OUR_SAMPLE), "ad.xml") == (OUR_NIT,)
    assert addressed_to(sample_bytes(OUR_BARE), "fv.xml") == (OUR_NIT,)
    assert addressed_to(zip_bytes(("fv.xml", sample_bytes(OUR_BARE))), "z.zip") == (OUR_NIT,)
    note = signed().note.signed  # a bare credit note: its AccountingCustomerParty
    assert addressed_to(note, "nc.xml") == (signed().company_nit,)


def test_an_application_response_names_its_receiver() -> None:
    # The seller's 034 goes to DIAN: addressed to none of our companies.
    assert addressed_to(event_xml(signed()), "evento.xml") == (DIAN_NIT,)


def test_a_container_without_receiver_is_read_for_its_invoices_buyer() -> None:
    container = sample_bytes(OTHER_BUYER_SAMPLE)
    stripped = re.sub(rb"<cac:ReceiverParty>.*?</cac:ReceiverParty>", b"", container, count=1, flags=re.S)
    assert stripped != container
    assert addressed_to(stripped, "ad.xml") == (OTHER_NIT,)


def test_every_document_of_a_mail_counts_once_in_order_and_a_bad_part_does_not_hide_the_others() -> None:
    data = mail(
        ("roto.xml", b"<Invoice><cac:AccountingCustomerParty>"),
        ("otro.xml", sample_bytes(OTHER_BUYER_SAMPLE)),
        ("ad.xml", sample_bytes(OUR_SAMPLE)),
        ("copia.xml", sample_bytes(OUR_BARE)),
        ("rep.pdf", PDF),
    )
    assert addressed_to(data) == (OTHER_NIT, OUR_NIT)


def _too_deep_mail() -> bytes:
    """A zip in a zip, six levels deep (the limit is four)."""
    data = sample_bytes(OUR_SAMPLE)
    name = "ad.xml"
    for level in range(6):
        data, name = zip_bytes((name, data)), f"z{level}.zip"
    return mail((name, data))


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("empty", b""),
        ("text", b"hola, esto no es un correo"),
        ("not xml in a mail", mail(("nota.txt", b"nada"))),
        ("no attachment", mail()),
        ("pdf only", mail(("rep.pdf", PDF))),
        ("xxe", XXE),
        ("malformed", b"<?xml version='1.0'?><AttachedDocument><cac:ReceiverParty>"),
        ("utf-16", "<Invoice/>".encode("utf-16")),
        ("other root", b"<Order xmlns='urn:x'><ReceiverParty><CompanyID>805007280</CompanyID></ReceiverParty></Order>"),
        (
            "no namespace",
            b"<Invoice><AccountingCustomerParty><CompanyID>805007280</CompanyID></AccountingCustomerParty></Invoice>",
        ),
        ("zip bomb", mail(("bomba.zip", zip_bomb()))),
        ("bare zip header", b"PK\x03\x04" + b"\x00" * 60),
        (
            "nested multiparts",
            b"MIME-Version: 1.0\nFrom: a@b\nContent-Type: multipart/mixed; boundary=x\n\n"
            + b"--x\nContent-Type: multipart/mixed; boundary=x\n\n" * 5000,
        ),
        (
            "empty container",
            b"<AttachedDocument xmlns='urn:oasis:names:specification:ubl:schema:xsd:AttachedDocument-2'/>",
        ),
    ],
)
def test_what_cannot_be_peeked_is_addressed_to_no_one(name: str, data: bytes) -> None:
    assert addressed_to(data, "adjunto.eml" if data.startswith(b"MIME") else "adjunto") == ()


def _cut_zip_mail() -> bytes:
    return mail(("z.zip", zip_bytes(("ad.xml", sample_bytes(OUR_SAMPLE)))[:-40]))


# Cases built from a real sample are built in the test: a parameter is built at import, where a missing sample could
# not skip its one test.
@pytest.mark.parametrize("build", [_cut_zip_mail, _too_deep_mail], ids=["cut zip", "too deep"])
def test_what_cannot_be_peeked_in_a_samples_mail_is_addressed_to_no_one(build: Any) -> None:
    data = build()
    assert addressed_to(data, "adjunto.eml" if data.startswith(b"MIME") else "adjunto") == ()


def test_a_message_past_the_limits_is_addressed_to_no_one() -> None:
    data = sample_mail()
    assert addressed_to(data, max_bytes=len(data)) == (OUR_NIT,)
    assert addressed_to(data, max_bytes=len(data) - 1) == ()
    assert addressed_to(data, oversize=len(data) * 10) == ()  # only its headers were downloaded
    assert addressed_to(data, limits=Limits(max_total_bytes=1024)) == ()


def _intake(nit: str) -> Any:
    """What the router reads of an intake: its policy (our NIT, the limits)."""
    return SimpleNamespace(policy=SimpleNamespace(our_nit=nit, limits=Limits(), max_message_bytes=10 * 1024 * 1024))


def test_the_router_sends_a_mail_to_the_company_it_is_addressed_to_or_keeps_it() -> None:
    own, other = _intake("900654321"), _intake(OTHER_NIT)
    router = Router(own, {f"{OTHER_NIT}": other, "900654321": own})  # the own company among the peers is left out
    assert router.intakes == (own, other) and router.targets == ((None, own), (OTHER_NIT, other))

    def envelope(data: bytes) -> Envelope:
        return Envelope(mailbox="folder:/buzon", data=data)

    assert router.choose(envelope(sample_mail(OTHER_BUYER_SAMPLE))) == (OTHER_NIT, other)
    assert router.choose(envelope(sample_mail(OUR_SAMPLE)))[1] is own  # addressed to none of ours: the own quarantines
    assert router.choose(envelope(b"basura"))[1] is own
    oversize = Envelope(mailbox="m", data=sample_mail(OTHER_BUYER_SAMPLE), oversize=50 * 1024 * 1024)
    assert router.choose(oversize)[1] is own  # the own intake quarantines it as too large
    # Addressed to both: the mailbox's own company takes it (and files what is its own).
    both = mail(("otro.xml", sample_bytes(OTHER_BUYER_SAMPLE)), ("nuestro.xml", sample_bytes(OUR_SAMPLE)))
    mine = Router(_intake(OUR_NIT), {OTHER_NIT: other})
    assert mine.choose(envelope(both)) == (None, mine.own)
