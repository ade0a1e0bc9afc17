"""Payload packaging for DIAN's web service and DIAN's mail: DIAN file names, the one-XML zip (dian-facts 4.3, 6.4)
and the zips mailed to a counterpart (4.1).

Sign exactly the bytes you send (DESIGN.md 5): the XML goes into the zip byte for byte, never re-serialized.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from dian.calendar import BOGOTA
from dian.errors import DianError

__all__ = [
    "PackagingError",
    "ZipMember",
    "document_file_name",
    "read_zip",
    "zip_dated",
    "zip_file_name",
    "zip_one",
]

# dian-facts 4.3: fv invoice, nc credit note, nd debit note, ar ApplicationResponse, ad AttachedDocument, z zip.
PREFIXES = frozenset({"fv", "nc", "nd", "ar", "ad"})
# A DIAN e-mail is at most 2 MB zipped (4.1); a sync payload is one document. Limits for unzipping untrusted zips.
MAX_MEMBER_BYTES = 20 * 1024 * 1024
MAX_MEMBERS = 50  # async batches hold up to 50 documents (6.4)
MAX_RATIO = 200


class PackagingError(DianError):
    """A payload could not be zipped or unzipped; the message names the member or the limit."""


def _base_name(kind: str, nit: str, provider_code: str, year: int, consecutive: int) -> str:
    if kind not in PREFIXES and kind != "z":
        raise PackagingError(f"unknown file-name prefix {kind!r}; expected one of fv, nc, nd, ar, ad")
    digits = "".join(c for c in nit if c.isdigit())
    if not digits or len(digits) > 10:
        raise PackagingError(f"NIT {nit!r}: expected up to 10 digits")
    if len(provider_code) != 3 or not provider_code.isdigit():
        raise PackagingError(f"provider code {provider_code!r}: expected 3 digits (000 = own software)")
    if not 0 <= consecutive <= 0xFFFFFFFF:
        raise PackagingError(f"consecutive {consecutive} does not fit 8 hexadecimal digits")
    return f"{kind}{digits.zfill(10)}{provider_code}{year % 100:02d}{consecutive:08X}"


def document_file_name(kind: str, nit: str, *, year: int, consecutive: int, provider_code: str = "000") -> str:
    """``fv0900123456000250000001A.xml``: prefix, NIT (10), provider code, year (2), hex consecutive (8)."""
    return _base_name(kind, nit, provider_code, year, consecutive) + ".xml"


def zip_file_name(nit: str, *, year: int, consecutive: int, provider_code: str = "000") -> str:
    """``z0900123456000250000001A.zip``, the name of the zip that carries one document (4.3)."""
    return _base_name("z", nit, provider_code, year, consecutive) + ".zip"


# The one-member zip, written directly (issue 21: zipfile's objects cost more than deflating the document): the same
# bytes zipfile writes for a ZipInfo dated 2020-01-01 00:00:00 deflated at level 1 (the unit tests compare): local
# header, data, central directory entry, end of central directory; no extra fields, no comment. Level 1 deflates in
# half the time of the default level for a zip about 15 % larger; any deflate level unzips the same.
ZIP_LEVEL = 1
_DOS_DATE = (2020 - 1980) << 9 | 1 << 5 | 1
_LOCAL = struct.Struct("<4s5H3L2H")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_END = struct.Struct("<4s4H2LH")
_MADE_BY = 3 << 8 | 20  # Unix, version 2.0 (what zipfile writes on this platform)
_ATTRIBUTES = 0o600 << 16  # rw------- (zipfile's default for a written member)


def zip_one(xml_name: str, xml: bytes) -> bytes:
    """A zip holding exactly ``xml`` under ``xml_name`` (deflated; the bytes are kept as given)."""
    if not xml_name.lower().endswith(".xml") or "/" in xml_name or "\\" in xml_name:
        raise PackagingError(f"member name {xml_name!r}: expected a plain file name ending in .xml")
    if len(xml) > MAX_MEMBER_BYTES:
        raise PackagingError(f"member {xml_name!r} is larger than {MAX_MEMBER_BYTES} bytes")
    try:
        name, flags = xml_name.encode("ascii"), 0
    except UnicodeEncodeError:
        name, flags = xml_name.encode("utf-8"), 0x800  # the UTF-8 name flag, as zipfile sets it
    data = zlib.compress(xml, ZIP_LEVEL, -15)
    crc, size, packed = zlib.crc32(xml), len(xml), len(data)
    local = _LOCAL.pack(b"PK\x03\x04", 20, flags, zipfile.ZIP_DEFLATED, 0, _DOS_DATE, crc, packed, size, len(name), 0)
    central = _CENTRAL.pack(
        b"PK\x01\x02", _MADE_BY, 20, flags, zipfile.ZIP_DEFLATED, 0, _DOS_DATE, crc, packed, size, len(name),
        0, 0, 0, 0, _ATTRIBUTES, 0,
    )  # fmt: skip
    directory = len(local) + len(name) + packed
    end = _END.pack(b"PK\x05\x06", 0, 0, 1, 1, len(central) + len(name), directory, 0)
    return b"".join((local, name, data, central, name, end))


def zip_dated(members: Mapping[str, bytes], moment: datetime) -> bytes:
    """A zip of ``members`` (deflated, in order), each dated ``moment`` as a Colombian reads it (zip dates carry no
    zone): the document's moment, not the clock's, so the same members at the same moment make the same bytes."""
    stamp = moment.astimezone(BOGOTA).timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=stamp), data, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


@dataclass(frozen=True)
class ZipMember:
    """One file read from a zip: its name and bytes."""

    name: str
    data: bytes


def read_zip(data: bytes, *, max_members: int = MAX_MEMBERS) -> list[ZipMember]:
    """The files of an untrusted zip, with count, size, ratio and name limits checked (DESIGN.md 5)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise PackagingError(f"the payload is not a zip file: {exc}") from None
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        if len(infos) > max_members:
            raise PackagingError(f"the zip holds {len(infos)} files; at most {max_members} are accepted")
        members = []
        for info in infos:
            name = info.filename
            if name.startswith(("/", "\\")) or ".." in name.replace("\\", "/").split("/"):
                raise PackagingError(f"member name {name!r} is not a plain relative name")
            if info.file_size > MAX_MEMBER_BYTES:
                raise PackagingError(
                    f"member {name!r} declares {info.file_size} bytes; the limit is {MAX_MEMBER_BYTES}"
                )
            if info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
                raise PackagingError(f"member {name!r} expands more than {MAX_RATIO} times")
            try:
                with archive.open(info) as handle:
                    payload = handle.read(MAX_MEMBER_BYTES + 1)
            except (zipfile.BadZipFile, RuntimeError, OSError, EOFError) as exc:
                raise PackagingError(f"member {name!r} cannot be read: {exc}") from None
            if len(payload) > MAX_MEMBER_BYTES:
                raise PackagingError(f"member {name!r} is larger than {MAX_MEMBER_BYTES} bytes")
            members.append(ZipMember(name=name.replace("\\", "/").rsplit("/", 1)[-1], data=payload))
        return members
