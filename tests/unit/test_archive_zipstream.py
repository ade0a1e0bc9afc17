"""The pack's zip writer (store/archive/zipstream.py): what it writes reads back with Python's zipfile and Info-ZIP's
unzip, byte for byte, with and without Zip64 records (forced here by lowering the thresholds)."""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import subprocess
import tempfile
import zipfile

import pytest

from store.archive import zipstream

STAMP = dt.datetime(2026, 12, 6, 13, 45, 30)
RANDOM = os.urandom(70_000)  # does not deflate: the stored size exceeds the data


def _members() -> list[tuple[str, bytes]]:
    return [("recibidos/2026-12/1_FE1/documento.xml", b"<Invoice>" + b"x" * 5000 + b"</Invoice>"),
            ("vacío/ñandú.txt", b""), ("aleatorio.bin", RANDOM)]  # fmt: skip


def _write(tmp_path) -> bytes:
    out = io.BytesIO()
    stream = zipstream.ZipStream(out.write, STAMP)
    members = _members()
    for name, data in members[:2]:
        stream.add(name, data)
    with tempfile.TemporaryFile() as source:
        source.write(members[2][1])
        for _ in stream.add_file(members[2][0], source):
            assert len(out.getvalue()) < 200_000  # a step writes one piece
    for _ in stream.close():
        pass
    return out.getvalue()


@pytest.mark.parametrize("zip64", [False, True])
def test_members_read_back_exactly(tmp_path, monkeypatch, zip64: bool) -> None:
    if zip64:
        monkeypatch.setattr(zipstream, "ZIP64_FROM", 100)  # every offset and size past 100 bytes: Zip64 fields
        monkeypatch.setattr(zipstream, "ZIP64_MEMBERS", 2)
    data = _write(tmp_path)
    assert (b"PK\x06\x06" in data) is zip64  # the Zip64 end record only when needed
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.testzip() is None
        assert [(i.filename, z.read(i)) for i in z.infolist()] == _members()
        assert z.infolist()[0].date_time == (2026, 12, 6, 13, 45, 30)
    unzip = shutil.which("unzip")
    if unzip:
        (tmp_path / "p.zip").write_bytes(data)
        checked = subprocess.run([unzip, "-t", str(tmp_path / "p.zip")], capture_output=True, text=True)
        assert checked.returncode == 0 and "No errors" in checked.stdout, checked.stdout + checked.stderr


def test_more_members_than_a_plain_zip_counts() -> None:
    out = io.BytesIO()
    stream = zipstream.ZipStream(out.write, STAMP, level=0)
    for n in range(70_000):
        stream.add(f"m/{n}", b"%d" % n)
    steps = sum(1 for _ in stream.close())
    assert steps > 50  # the central directory (70,000 records) comes out in pieces
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as z:
        names = z.namelist()
        assert len(names) == 70_000 and z.read("m/69999") == b"69999"
