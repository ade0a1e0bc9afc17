"""A Buzón holding real signed documents of every kind the auditor's pack carries, on SQLite or PostgreSQL: a real
supplier sample received through intake (with DIAN's answer), a demo-signed invoice with the seller's 034 observed,
one event of ours with DIAN's answer, and an invoice we issued and the simulator validated over HTTP."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from buzon.cli import main
from dian.codes import EventCode
from dian.trust import TrustStore
from inbox.intake import Envelope, Intake, IntakePolicy
from store.models import Direction, DocumentEvent, MailStatus, ReceivedDocument, SubmissionState
from tests.integration.inbox_fixtures import NOW, OUR_NIT, event_xml, mail, sample_mail, signed
from tests.integration.issuing_fixtures import IssuingBed, invoice_data
from tests.integration.test_events_cli import write_config

__all__ = ["ArchiveBed", "archive_bed", "rewrite_zip"]


@dataclass
class ArchiveBed:
    issuing: IssuingBed
    config: Path
    issued_id: int
    ours_event_id: int

    @property
    def sessions(self):
        return self.issuing.sessions

    @property
    def blobs(self):
        return self.issuing.runtime.blobs

    def cli(self, *args: str) -> Result:
        """`buzon ARGS --config …` in this process."""
        return CliRunner().invoke(main, [*args, "--config", str(self.config)], catch_exceptions=False)

    @staticmethod
    def verify(pack: Path, *more: str) -> Result:
        """`buzon archive verify PACK`: no configuration, no database."""
        return CliRunner().invoke(main, ["archive", "verify", str(pack), *more], catch_exceptions=False)


def _take(intake: Intake, data: bytes, uid: int) -> None:
    result = intake.take(Envelope(mailbox="archivo", data=data, name="m.eml", uidvalidity=1, uid=uid))
    assert result.status == MailStatus.FILED, result.detail


@pytest.fixture
def archive_bed(issuing_bed: IssuingBed, tmp_path: Path) -> Iterator[ArchiveBed]:
    bed = issuing_bed
    done = bed.issue(invoice_data(), deliver=True)
    assert done.state.value == "accepted", done
    blobs = bed.runtime.blobs
    real = Intake(bed.sessions, blobs, IntakePolicy(our_nit=OUR_NIT, trust=TrustStore()), clock=lambda: NOW)
    _take(real, sample_mail(), 1)
    pair = signed()
    demo = Intake(bed.sessions, blobs, IntakePolicy(our_nit=pair.company_nit, trust=pair.trust), clock=lambda: NOW)
    _take(demo, mail(("ad.xml", pair.invoice.attached)), 2)
    _take(demo, mail(("ar.xml", event_xml(pair)), subject="Evento;EV1;034"), 3)
    with bed.sessions() as s:
        doc = s.execute(sa.select(ReceivedDocument).where(ReceivedDocument.cufe == pair.invoice.cufe.lower())).scalar()
        doc = doc or s.execute(sa.select(ReceivedDocument).where(ReceivedDocument.cufe == pair.invoice.cufe)).scalar()
        assert doc is not None
        # One event of ours: signed bytes and DIAN's answer as the events outbox keeps them (bytes are bytes here).
        ours = DocumentEvent(document_id=doc.id, code=EventCode.ACUSE_RECIBO, direction=Direction.EMITTED,
                             number="AR-1", cude="ab" * 48, referenced_cufe=doc.cufe, sender_nit=pair.company_nit,
                             receiver_nit=doc.issuer_nit, signed_xml_blob=blobs.put(event_xml(pair, number="AR-1")),
                             dian_response_blob=blobs.put(b"<ApplicationResponse>00</ApplicationResponse>"),
                             submission_state=SubmissionState.REGISTERED, registered_at=NOW, actor="test")  # fmt: skip
        s.add(ours)
        s.commit()
        ours_id = ours.id
    config = write_config(bed.settings, tmp_path / "buzon.toml")
    yield ArchiveBed(bed, config, done.id, ours_id)


def rewrite_zip(source: Path, target: Path, *, change: dict[str, bytes] | None = None, drop: str | None = None,
                add: tuple[str, bytes] | None = None) -> Path:  # fmt: skip
    """A copy of a pack with one member's bytes changed, one removed or one added."""
    out = io.BytesIO()
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            if info.filename == drop:
                continue
            data = (change or {}).get(info.filename, old.read(info.filename))
            new.writestr(info.filename, data)
        if add:
            new.writestr(*add)
    target.write_bytes(out.getvalue())
    return target


def period() -> tuple[str, str]:
    """A period holding every document of the bed (the samples' dates, NOW, and today's issued invoice)."""
    return "2000-01-01", (dt.date.today() + dt.timedelta(days=1)).isoformat()
