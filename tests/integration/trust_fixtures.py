"""Builders for the trust tests (issue 14): a forger's own CA and "DIAN", a stranger's event, DIAN's answers mailed
on their own, and an xmlsec1 cross-check that the forgeries are *real* signatures (only their anchors are false)."""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
from functools import cache
from pathlib import Path

from buzon import demo
from dian.calendar import BOGOTA
from dian.codes import DIAN_DV, DIAN_NAME, DIAN_NIT, Environment, EventCode
from dian.nit import check_digit
from dian.trust import SigningIdentity
from dian.ubl import LineResponse, Party
from dian.ubl.build import (
    AttachedDraft,
    EventDraft,
    ValidationDraft,
    build_attached_document,
    build_event,
    build_validation_response,
)
from dian.xades import sign
from tests.integration.inbox_fixtures import NOW, Signed, signed_pair
from tests.pki import _name, issue

STRANGER_NIT = "123456789"


@cache
def forged() -> Signed:
    """An invoice and a note for our company signed under a forger's own CA, with a forger's own "DIAN" (serialNumber
    and NIT OID 800197268) signing the validation: every signature verifies, none is anchored in anything we trust."""
    return signed_pair(demo.make_pki(NOW), invoice_number=77, note_number=8)


@cache
def stranger() -> SigningIdentity:
    """A certificate of NIT 123456789 from a self-made CA: what anyone can make."""
    root = issue(_name("CA del atacante", org="Nadie"), key_label="stranger_root", ca=True)
    leaf = issue(_name("ATACANTE S.A.S.", serial=STRANGER_NIT), key_label="stranger", issuer=root)
    return SigningIdentity(leaf.key, leaf.cert, (root.cert,), source="test")


def event_from(
    signer: SigningIdentity,
    sender: Party,
    s: Signed,
    code: EventCode = EventCode.ACEPTACION_TACITA,
    *,
    number: str = "EV9",
    signed_at: dt.datetime = NOW,
    issue_date: dt.date | None = None,
) -> bytes:
    """An event about ``s.invoice`` sent by ``sender`` and signed by ``signer`` (034 goes to DIAN)."""
    receiver = Party(nit=DIAN_NIT, dv=DIAN_DV, registration_name=DIAN_NAME)
    if code is not EventCode.ACEPTACION_TACITA:
        receiver = Party(nit=s.company_nit, dv=check_digit(s.company_nit), registration_name="EMPRESA COMPRADORA")
    draft = EventDraft(
        code=code,
        number=number,
        issue_date=issue_date or signed_at.astimezone(BOGOTA).date(),
        issue_time="10:00:00-05:00",
        environment=Environment.TESTING,
        sender=sender,
        receiver=receiver,
        invoice_number=s.invoice.number,
        invoice_cufe=s.invoice.cufe,
        notes=("Manifiesto bajo la gravedad del juramento que ha operado la aceptación tácita",),
    )
    unsigned = build_event(draft, software=demo._software(demo.SUPPLIERS[0]))
    return sign(unsigned, signer, signing_time=signed_at, role="supplier")


def party(nit: str, name: str) -> Party:
    return Party(nit=nit, dv=check_digit(nit), registration_name=name, organization_type="1")


def dian_answer(dian: SigningIdentity, about_number: str, about_uuid: str, receiver: Party) -> bytes:
    """A validation answer (02) about a document or event, signed by ``dian`` (real, simulated or forged)."""
    at = NOW + dt.timedelta(minutes=5)
    draft = ValidationDraft(
        number=str(int(hashlib.sha256(about_uuid.encode()).hexdigest()[:8], 16)),
        issue_date=at.astimezone(BOGOTA).date(),
        issue_time=at.astimezone(BOGOTA).strftime("%H:%M:%S-05:00"),
        environment=Environment.TESTING,
        receiver=receiver,
        document_number=about_number,
        document_uuid=about_uuid,
        document_uuid_scheme="CUDE-SHA384",
        line_responses=(LineResponse("1", "0000", "0"),),
    )
    return sign(build_validation_response(draft), dian, signing_time=at, role="supplier")


def attached(
    document_xml: bytes, answer_xml: bytes, *, number: str, uuid: str, sender: Party, receiver: Party
) -> bytes:
    """An AttachedDocument around an event (or a document) and DIAN's answer."""
    return build_attached_document(
        AttachedDraft(
            id=f"ad{number}",
            issue_date=NOW.astimezone(BOGOTA).date(),
            issue_time="10:05:00-05:00",
            environment=Environment.TESTING,
            sender=sender,
            receiver=receiver,
            parent_document_id=number,
            document_xml=document_xml,
            dian_response_xml=answer_xml,
            reference_uuid=uuid,
            reference_uuid_scheme="CUDE-SHA384",
            reference_issue_date=NOW.astimezone(BOGOTA).date(),
            validation_date=NOW.astimezone(BOGOTA).date(),
            validation_time="10:05:00-05:00",
            signed=False,
        )
    )


def xmlsec_verifies(xmlsec1: str, xml: bytes, tmp_path: Path, name: str) -> bool:
    """True when xmlsec1 (the independent verifier) accepts the signature, chain not judged (services.md)."""
    path = tmp_path / name
    path.write_bytes(xml)
    done = subprocess.run(
        [xmlsec1, "--verify", "--insecure", "--id-attr:Id", "SignedProperties", "--id-attr:Id", "KeyInfo", str(path)],
        capture_output=True,
        text=True,
    )
    return done.returncode == 0


def write_config(folder: Path, company_nit: str, *, database_url: str | None = None, **dian: object) -> None:
    """A buzon.toml in ``folder`` for the company ``company_nit`` with the given ``[dian]`` keys (TOML literals), on
    ``database_url`` when given (else the SQLite file under ``folder``)."""
    from dian.nit import check_digit

    def literal(value: object) -> str:
        return ("true" if value else "false") if isinstance(value, bool) else f'"{value}"'

    keys = "\n".join(f"{key} = {literal(value)}" for key, value in dian.items())
    database = f'[database]\nurl = "{database_url}"\n' if database_url else ""
    (folder / "buzon.toml").write_text(
        f'data_dir = "{folder}"\n{database}[company]\nnit = "{company_nit}-{check_digit(company_nit)}"\n'
        f'name = "EMPRESA COMPRADORA S.A.S."\n[dian]\n{keys}\n'
    )


def event_mail(s: Signed, signer: SigningIdentity, sender: Party, dian: SigningIdentity, company: str) -> bytes:
    """An AttachedDocument holding a 034 about ``s.invoice`` from ``sender`` (signed by ``signer``) and a validation
    of it signed by ``dian`` (the trusted demo DIAN, or a forger's)."""
    from dian.ubl import parse_document

    event = event_from(signer, sender, s)
    cude = parse_document(event).uuid
    answer = dian_answer(dian, "EV9", cude, sender)
    return attached(event, answer, number="EV9", uuid=cude, sender=sender, receiver=party(company, "EMPRESA"))
