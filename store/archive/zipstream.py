"""A zip written front to back with nothing kept per member: each member's central-directory record goes to a
temporary file as the member is written, and is copied out at the end (Zip64 records when the pack passes 65,535
members or 4 GiB). Python's zipfile keeps a ZipInfo object per member until it closes, which at a year's
700,000 members is hundreds of megabytes; this keeps the export's memory flat whatever the size.

Every member is deflated whole before its local header is written (members are one document's file; the index and
the sums are compressed into a temporary file first), so the header carries the real CRC-32 and sizes and no data
descriptor is needed. Names are UTF-8 (flag bit 11).
"""

from __future__ import annotations

import datetime as dt
import struct
import tempfile
import zlib
from collections.abc import Callable, Iterator
from typing import IO

LIMIT32 = 0xFFFFFFFF  # the marker a Zip64 field stands behind
LIMIT16 = 0xFFFF
ZIP64_FROM = LIMIT32  # sizes and offsets from here on go in Zip64 fields (a test lowers it)
ZIP64_MEMBERS = LIMIT16  # from this many members on, the Zip64 end records
UTF8 = 0x0800
DEFLATE = 8
COPY = 1 << 16


def _dos(moment: dt.datetime) -> tuple[int, int]:
    date = ((moment.year - 1980) << 9) | (moment.month << 5) | moment.day
    time = (moment.hour << 11) | (moment.minute << 5) | (moment.second // 2)
    return time, date


class ZipStream:
    """Members in, zip bytes out through ``write`` (any callable taking bytes)."""

    def __init__(self, write: Callable[[bytes], object], stamp: dt.datetime, level: int = 1) -> None:
        self._write = write
        self._time, self._date = _dos(stamp)
        self._level = level
        self._offset = 0
        self._count = 0
        self._central: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed in close())
        self._central_size = 0

    def _out(self, data: bytes) -> None:
        self._write(data)
        self._offset += len(data)

    def _header(self, name: bytes, crc: int, compressed: int, size: int) -> None:
        big = compressed >= ZIP64_FROM or size >= ZIP64_FROM
        extra = struct.pack("<HHQQ", 1, 16, size, compressed) if big else b""
        self._out(struct.pack("<IHHHHHIIIHH", 0x04034B50, 45 if big else 20, UTF8, DEFLATE, self._time, self._date,
                              crc, LIMIT32 if big else compressed, LIMIT32 if big else size, len(name), len(extra))
                  + name + extra)  # fmt: skip

    def _record(self, name: bytes, crc: int, compressed: int, size: int, offset: int) -> None:
        big = compressed >= ZIP64_FROM or size >= ZIP64_FROM or offset >= ZIP64_FROM
        extra = struct.pack("<HHQQQ", 1, 24, size, compressed, offset) if big else b""
        record = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45 | (3 << 8), 45 if big else 20, UTF8, DEFLATE,
                             self._time, self._date, crc, LIMIT32 if big else compressed,
                             LIMIT32 if big else size, len(name), len(extra), 0, 0, 0, 0o100644 << 16,
                             LIMIT32 if big else offset) + name + extra  # fmt: skip
        self._central.write(record)
        self._central_size += len(record)
        self._count += 1

    def add(self, name: str, data: bytes) -> None:
        """One member from bytes."""
        squeeze = zlib.compressobj(self._level, zlib.DEFLATED, -15)
        body = squeeze.compress(data) + squeeze.flush()
        encoded = name.encode("utf-8")
        offset = self._offset
        crc = zlib.crc32(data)
        self._header(encoded, crc, len(body), len(data))
        self._out(body)
        self._record(encoded, crc, len(body), len(data), offset)

    def add_file(self, name: str, source: IO[bytes]) -> Iterator[None]:
        """One member from a file, deflated into a temporary file first (never whole in memory). A generator: each
        step has written one piece of at most 64 KiB, so a caller that hands bytes on holds no more; run it out."""
        squeeze = zlib.compressobj(self._level, zlib.DEFLATED, -15)
        crc = size = compressed = 0
        source.seek(0)
        with tempfile.TemporaryFile() as deflated:
            while piece := source.read(COPY):
                crc, size = zlib.crc32(piece, crc), size + len(piece)
                out = squeeze.compress(piece)
                compressed += len(out)
                deflated.write(out)
            out = squeeze.flush()
            compressed += len(out)
            deflated.write(out)
            encoded = name.encode("utf-8")
            offset = self._offset
            self._header(encoded, crc, compressed, size)
            deflated.seek(0)
            while piece := deflated.read(COPY):
                self._out(piece)
                yield
        self._record(encoded, crc, compressed, size, offset)

    def close(self) -> Iterator[None]:
        """The central directory and the end records; a generator like ``add_file`` (a year's central directory is
        tens of megabytes)."""
        start = self._offset
        self._central.seek(0)
        while piece := self._central.read(COPY):
            self._out(piece)
            yield
        self._central.close()
        size, count = self._central_size, self._count
        zip64 = count >= ZIP64_MEMBERS or start >= ZIP64_FROM or size >= ZIP64_FROM
        if zip64:
            zip64_end = self._offset
            self._out(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45 | (3 << 8), 45, 0, 0, count, count, size, start))
            self._out(struct.pack("<IIQI", 0x07064B50, 0, zip64_end, 1))
        entries = LIMIT16 if zip64 and count >= ZIP64_MEMBERS else count
        where = LIMIT32 if zip64 and start >= ZIP64_FROM else start
        length = LIMIT32 if zip64 and size >= ZIP64_FROM else size
        self._out(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, entries, entries, length, where, 0))
