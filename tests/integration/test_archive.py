"""The auditor's pack (issue 20): `buzon archive export` of a period holding real signed documents of every kind, the
pack checked offline by `buzon archive verify`, by xmlsec1 (the seal) and by sha256sum (the sums), and refused when a
byte of a file changes, a file is removed or one is added. SQLite and PostgreSQL; the simulator over HTTP."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from dian.trust import SigningIdentity
from store.archive.seal import SEAL_NAME, SUMS_NAME, read_seal, signed_seal
from store.audit import chain_head
from store.models import AuditEntry, DocumentEvent, OutboundDocument, ReceivedDocument
from tests.integration.archive_fixtures import ArchiveBed, period, rewrite_zip
from tests.pki import pki

pytestmark = pytest.mark.integration


def xmlsec_command(xmlsec1: str, path: Path) -> list[str]:
    return [xmlsec1, "--verify", "--insecure", "--id-attr:Id", "SignedProperties", "--id-attr:Id", "KeyInfo", str(path)]


def _export(bed: ArchiveBed, out: Path) -> Path:
    first, last = period()
    done = bed.cli("archive", "export", "--from", first, "--to", last, "--out", str(out))
    assert done.exit_code == 0, done.output
    return out


def test_the_pack_holds_the_exact_signed_bytes_and_verifies_offline(archive_bed: ArchiveBed, tmp_path: Path,
                                                                    xmlsec1: str, monkeypatch) -> None:  # fmt: skip
    bed = archive_bed
    monkeypatch.setattr("store.archive.rows.CHUNK", 1)  # every row its own chunk: the keyset walk is exercised
    pack = _export(bed, tmp_path / "paquete.zip")
    with bed.sessions() as s:
        received = list(s.execute(sa.select(ReceivedDocument)).scalars())
        events = list(s.execute(sa.select(DocumentEvent)).scalars())
        issued = s.get(OutboundDocument, bed.issued_id)
        exported = s.execute(sa.select(AuditEntry).where(AuditEntry.action == "archive.exported")).scalar_one()
    assert len(received) == 2 and len(events) == 2 and issued is not None
    with zipfile.ZipFile(pack) as z:
        names = set(z.namelist())
        index = list(csv.DictReader(io.TextIOWrapper(z.open("indice.csv"), encoding="utf-8")))
        by_id = {(row["tipo"], row["id"]): row for row in index}
        for doc in received:
            row = by_id[("recibido", str(doc.id))]
            assert (row["numero"], row["cufe_cude"], row["emisor_nit"]) == (doc.number, doc.cufe, doc.issuer_nit)
            assert row["conservar_hasta"] == f"{doc.issue_date.year + 6}-01-01"
            paths, sums = row["archivos"].split(";"), row["sha256"].split(";")
            signed = next(p for p in paths if p.endswith("/documento.xml"))
            assert z.read(signed) == bed.blobs.get(doc.signed_xml_blob)  # the exact bytes, not a re-serialization
            for path, digest in zip(paths, sums, strict=True):
                assert hashlib.sha256(z.read(path)).hexdigest() == digest
            if doc.dian_response_blob:
                answer = next(p for p in paths if p.endswith("/respuesta_dian.xml"))
                assert z.read(answer) == bed.blobs.get(doc.dian_response_blob)
            report = next(p for p in paths if p.endswith("/verificacion.json"))
            assert b'"checks"' in z.read(report)
        assert any(d.dian_response_blob for d in received)  # the real sample came with DIAN's answer
        kinds = sorted(row["tipo"] for row in index)
        assert kinds == ["emitido", "evento_contraparte", "evento_propio", "recibido", "recibido"], kinds
        ours = by_id[("evento_propio", str(bed.ours_event_id))]
        assert ours["clase"] == "030" and len(ours["archivos"].split(";")) == 2  # its XML and DIAN's answer
        mine = by_id[("emitido", str(bed.issued_id))]
        assert mine["cufe_cude"] == issued.cufe and mine["estado"] == "accepted"
        files = dict(zip(mine["archivos"].split(";"), mine["sha256"].split(";"), strict=True))
        pdf = next(p for p in files if p.endswith(".pdf"))
        assert z.read(pdf).startswith(b"%PDF")
        xml = next(p for p in files if p.endswith("/documento.xml"))
        assert z.read(xml) == bed.blobs.get(issued.xml_blob)
        assert {SEAL_NAME, SUMS_NAME, "indice.csv"} <= names
        z.extractall(tmp_path / "x")
    assert exported.data["documents"] == 3 and exported.data["events"] == 2

    verified = bed.verify(pack)
    assert verified.exit_code == 0, verified.output
    assert "intact" in verified.output and "NIT 900123456" in verified.output
    # The seal names the audit chain's head as it stood when the export began: every entry so far sealed.
    chain = re.search(r"audit chain (\d+) ([0-9a-f]{64})", verified.output)
    assert chain, verified.output
    with bed.sessions() as s:
        position, digest = chain_head(s)
        before_export = s.execute(sa.select(sa.func.max(AuditEntry.id)).where(AuditEntry.id < exported.id)).scalar()
    assert int(chain.group(1)) == before_export and int(chain.group(1)) <= position
    assert position != int(chain.group(1)) or digest == chain.group(2)

    # Independently of Buzón: xmlsec1 checks the seal, sha256sum the sums the seal names.
    folder = tmp_path / "x"
    seal = subprocess.run(xmlsec_command(xmlsec1, folder / SEAL_NAME), capture_output=True, text=True, timeout=60)
    assert seal.returncode == 0 and "OK" in seal.stdout + seal.stderr, seal.stderr
    sums_digest = hashlib.sha256((folder / SUMS_NAME).read_bytes()).hexdigest()
    assert f'valor="{sums_digest}"' in (folder / SEAL_NAME).read_text(encoding="utf-8")
    sha256sum = shutil.which("sha256sum")
    assert sha256sum, "coreutils' sha256sum"
    checked = subprocess.run([sha256sum, "--strict", "-c", SUMS_NAME], cwd=folder, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_changed_removed_or_added_file_is_named(archive_bed: ArchiveBed, tmp_path: Path, xmlsec1: str) -> None:
    bed = archive_bed
    pack = _export(bed, tmp_path / "paquete.zip")
    with zipfile.ZipFile(pack) as z:
        victim = next(n for n in z.namelist() if n.endswith("/documento.xml"))
        original = z.read(victim)
        seal = z.read(SEAL_NAME)
        sums = z.read(SUMS_NAME)
    flipped = bytearray(original)
    flipped[len(flipped) // 2] ^= 0x01
    cases = {
        "changed": (rewrite_zip(pack, tmp_path / "a.zip", change={victim: bytes(flipped)}), f"{victim}: SHA-256"),
        "removed": (rewrite_zip(pack, tmp_path / "b.zip", drop=victim), f"{victim}: missing"),
        "added": (rewrite_zip(pack, tmp_path / "c.zip", add=("recibidos/extra.xml", b"<x/>")),
                  "recibidos/extra.xml: not listed"),
        # Re-listing the changed file's new sum is caught by the seal, which signs the SHA-256 of SHA256SUMS.
        "relisted": (rewrite_zip(pack, tmp_path / "d.zip", change={
            victim: bytes(flipped),
            SUMS_NAME: sums.replace(hashlib.sha256(original).hexdigest().encode(),
                                    hashlib.sha256(bytes(flipped)).hexdigest().encode())}),
            f"{SUMS_NAME}: its SHA-256 is not the one the seal signs"),
        "seal": (rewrite_zip(pack, tmp_path / "e.zip", change={SEAL_NAME: seal.replace(b'archivos="', b'archivos="1')}),
                 f"{SEAL_NAME}:"),
    }  # fmt: skip
    for label, (bad, named) in cases.items():
        done = bed.verify(bad)
        assert done.exit_code == 1, (label, done.output)
        assert named in done.output, (label, done.output)
    assert bed.verify(pack).exit_code == 0  # the original still holds
    assert bed.verify(pack, "--expect-nit", "900123456-8").exit_code == 0
    other = bed.verify(pack, "--expect-nit", "800111222")
    assert other.exit_code == 1 and "signed by NIT 900123456, expected 800111222" in other.output
    # A seal made again with someone else's certificate, naming our company and the right sums: refused.
    stated = read_seal(seal).seal
    provider = pki().provider  # NIT 830111222
    forged = signed_seal(stated, SigningIdentity(provider.key, provider.cert, provider.chain))
    resealed = bed.verify(rewrite_zip(pack, tmp_path / "f.zip", change={SEAL_NAME: forged}))
    assert resealed.exit_code == 1 and "but it names company 900123456" in resealed.output, resealed.output
    # xmlsec1 refuses the changed seal too.
    folder = tmp_path / "seal"
    folder.mkdir()
    (folder / SEAL_NAME).write_bytes(seal.replace(b'archivos="', b'archivos="1'))
    refused = subprocess.run(xmlsec_command(xmlsec1, folder / SEAL_NAME), capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0


def test_export_refuses_a_bad_period_in_one_line(archive_bed: ArchiveBed, tmp_path: Path) -> None:
    done = archive_bed.cli("archive", "export", "--from", "2026-02-01", "--to", "2026-01-01", "--out",
                           str(tmp_path / "p.zip"))  # fmt: skip
    assert done.exit_code == 2 and "2026-02-01 is after 2026-01-01" in done.output
    assert not (tmp_path / "p.zip").exists()
    nonsense = archive_bed.cli("archive", "export", "--from", "ayer", "--to", "2026-01-01")
    assert nonsense.exit_code == 2 and "ayer" in nonsense.output


def test_a_blob_missing_from_the_store_is_said_in_the_pack_and_by_the_command(archive_bed: ArchiveBed,
                                                                              tmp_path: Path) -> None:  # fmt: skip
    import sqlite3

    bed = archive_bed
    with bed.sessions() as s:
        doc = s.execute(sa.select(ReceivedDocument).order_by(ReceivedDocument.id)).scalars().first()
    with sqlite3.connect(bed.blobs.root / "blobs.sqlite3") as conn:
        conn.execute("DELETE FROM blobs WHERE key = ?", (doc.signed_xml_blob,))
    bed.blobs.close()
    first, last = period()
    done = bed.cli("archive", "export", "--from", first, "--to", last, "--out", str(tmp_path / "p.zip"))
    assert done.exit_code == 1 and "1 stored files are missing" in done.output, done.output
    assert doc.signed_xml_blob in done.output
    with zipfile.ZipFile(tmp_path / "p.zip") as z:
        missing = z.read("FALTANTES.txt").decode()
        index = list(csv.DictReader(io.TextIOWrapper(z.open("indice.csv"), encoding="utf-8")))
    assert doc.signed_xml_blob in missing and "/documento.xml" in missing
    row = next(r for r in index if (r["tipo"], r["id"]) == ("recibido", str(doc.id)))
    assert row["sha256"].split(";")[0] == "FALTA"
    assert bed.verify(tmp_path / "p.zip").exit_code == 0  # the pack is intact as written: it says what it lacks
