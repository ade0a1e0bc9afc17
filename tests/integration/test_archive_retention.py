"""Retention and legal holds (issue 20): `buzon archive hold add|list|release` (audited), and `buzon archive purge
--dry-run` listing only what is past retention (1 January after the document's year, plus five years) and under no
hold, with the blobs no kept row references; without --dry-run nothing is deleted. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from store.archive.retention import retention_cutoff, retention_until
from store.models import AuditEntry, LegalHold, OutboundDocument, ReceivedDocument
from tests.integration.archive_fixtures import ArchiveBed

pytestmark = pytest.mark.integration


def test_retention_runs_five_years_from_the_first_of_january_after() -> None:
    assert retention_until(dt.date(2025, 1, 1)) == dt.date(2031, 1, 1)
    assert retention_until(dt.date(2025, 12, 31)) == dt.date(2031, 1, 1)
    assert retention_cutoff(dt.date(2030, 12, 31)) == dt.date(2025, 1, 1)  # 2025's documents still kept
    assert retention_cutoff(dt.date(2031, 1, 1)) == dt.date(2026, 1, 1)  # ... and past retention from 2031


def _listed(output: str, kind: str) -> set[str]:
    return {line.split("\t")[1] for line in output.splitlines() if line.startswith(kind + "\t")}


def test_holds_keep_what_the_purge_dry_run_would_list(archive_bed: ArchiveBed) -> None:
    bed = archive_bed
    with bed.sessions() as s:
        docs = {d.id: d for d in s.execute(sa.select(ReceivedDocument)).scalars()}
        issued = s.get(OutboundDocument, bed.issued_id)
    newest = max(max(d.issue_date for d in docs.values()), issued.issue_date)
    kept_day = retention_until(newest) - dt.timedelta(days=1)
    after = retention_until(newest).isoformat()

    nothing = bed.cli("archive", "purge", "--dry-run", "--today", "2026-12-06")
    assert nothing.exit_code == 0 and "0 received and 0 issued" in nothing.output, nothing.output
    on_the_last_day = bed.cli("archive", "purge", "--dry-run", "--today", kept_day.isoformat()).output
    youngest = {str(i) for i, d in docs.items() if d.issue_date.year == newest.year}
    assert not youngest & _listed(on_the_last_day, "received")  # still kept on the last day of retention

    everything = bed.cli("archive", "purge", "--dry-run", "--today", after)
    assert everything.exit_code == 0, everything.output
    assert _listed(everything.output, "received") == {str(i) for i in docs}
    assert _listed(everything.output, "issued") == {str(bed.issued_id)}
    blobs = _listed(everything.output, "blob")
    blob_lines = [line for line in everything.output.splitlines() if line.startswith("blob\t")]
    assert len(blob_lines) == len(blobs)  # each blob once
    for d in docs.values():
        assert d.signed_xml_blob in blobs
    assert "nothing deleted" in everything.output

    # A supplier hold and a document hold keep theirs; the rest is still listed.
    one, other = sorted(docs.values(), key=lambda d: d.id)
    added = bed.cli("archive", "hold", "add", "--scope", "supplier", "--nit", one.issuer_nit, "--reason",
                    "Requerimiento DIAN 123")  # fmt: skip
    assert added.exit_code == 0, added.output
    held = bed.cli("archive", "hold", "add", "--scope", "document", "--cufe", issued.cufe.upper(), "--reason", "Pleito")
    assert held.exit_code == 0, held.output
    listed = bed.cli("archive", "purge", "--dry-run", "--today", after)
    assert _listed(listed.output, "received") == {str(other.id)}
    assert _listed(listed.output, "issued") == set()
    assert one.signed_xml_blob not in _listed(listed.output, "blob")
    assert other.signed_xml_blob in _listed(listed.output, "blob")

    # A period hold covering the other one's date keeps it too.
    period = bed.cli("archive", "hold", "add", "--scope", "period", "--from", other.issue_date.isoformat(), "--to",
                     other.issue_date.isoformat(), "--reason", "Auditoría del periodo")  # fmt: skip
    assert period.exit_code == 0, period.output
    assert _listed(bed.cli("archive", "purge", "--dry-run", "--today", after).output, "received") == set()

    shown = bed.cli("archive", "hold", "list")
    assert shown.exit_code == 0 and shown.output.count("\n") == 3 and "Requerimiento DIAN 123" in shown.output
    with bed.sessions() as s:
        first_hold = s.execute(sa.select(LegalHold).where(LegalHold.scope == "supplier")).scalar_one().id
    refused = bed.cli("archive", "hold", "release", str(first_hold), "--reason", " ")
    assert refused.exit_code == 2 and "needs a reason" in refused.output
    released = bed.cli("archive", "hold", "release", str(first_hold), "--reason", "Caso cerrado")
    assert released.exit_code == 0, released.output
    again = bed.cli("archive", "hold", "release", str(first_hold), "--reason", "otra vez")
    assert again.exit_code == 2 and "already released" in again.output
    assert str(one.id) in _listed(bed.cli("archive", "purge", "--dry-run", "--today", after).output, "received")
    assert "Caso cerrado" in bed.cli("archive", "hold", "list", "--all").output
    active = bed.cli("archive", "hold", "list").output.splitlines()
    assert str(first_hold) not in {line.split("\t")[0] for line in active}

    with bed.sessions() as s:
        actions = [a for (a,) in s.execute(sa.select(AuditEntry.action).where(AuditEntry.action.like("archive.%")))]
    assert sorted(actions) == ["archive.hold.added"] * 3 + ["archive.hold.released"]


def test_purge_without_dry_run_deletes_nothing_and_bad_holds_are_refused(archive_bed: ArchiveBed) -> None:
    bed = archive_bed
    with bed.sessions() as s:
        before = s.execute(sa.select(sa.func.count()).select_from(ReceivedDocument)).scalar_one()
    refused = bed.cli("archive", "purge", "--today", "2099-01-01")
    assert refused.exit_code == 2 and "nothing is ever deleted by default" in refused.output
    with bed.sessions() as s:
        assert s.execute(sa.select(sa.func.count()).select_from(ReceivedDocument)).scalar_one() == before
    for args, message in (
        (["--scope", "document", "--reason", "x"], "a document hold takes --cufe"),
        (["--scope", "supplier", "--nit", "1", "--cufe", "ab", "--reason", "x"], "a supplier hold takes --nit"),
        (["--scope", "period", "--from", "2026-02-01", "--to", "2026-01-01", "--reason", "x"], "is after"),
        (["--scope", "supplier", "--nit", "1", "--reason", "  "], "needs a reason"),
    ):
        done = bed.cli("archive", "hold", "add", *args)
        assert done.exit_code == 2 and message in done.output, (args, done.output)
    assert bed.cli("archive", "hold", "release", "999", "--reason", "x").output.strip().endswith("does not exist")
    with bed.sessions() as s:
        assert s.execute(sa.select(sa.func.count()).select_from(LegalHold)).scalar_one() == 0
