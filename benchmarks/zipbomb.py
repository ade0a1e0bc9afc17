"""Time and memory of unpacking zip bombs and large legitimate members (issue 21).

Run from the repository root: ``.venv/bin/python benchmarks/zipbomb.py [--repeat 5] [--unpack FILE]``. Prints
figures; asserts nothing. ``--unpack`` measures another copy of inbox/unpack.py (e.g. the previous commit's, saved
with ``git show HEAD~1:inbox/unpack.py > /tmp/unpack_before.py``) so two versions can be compared in one run.

Each input is built once and written to a temporary file; each case then runs in a fresh subprocess that reads its
file (already resident, not counted), unpacks a small zip to warm up, and reports

* time: the median of ``--repeat`` runs, wall and CPU (this process's; on a busy machine wall time waits for a
  core, CPU time does not);
* peak RSS growth during the first run (Linux: VmHWM reset through /proc/self/clear_refs), so zlib's own buffers
  count as well as Python's;
* tracemalloc's peak during one further run, and that peak divided by the largest member's size ("× member").

Cases: a one-member bomb of 1 GiB of zeros (about 1 MB of zip); the same bomb attached to a mail (about 1.35 MB:
the MIME parse and base64 decoding count too); the same bomb zipped again (a nested bomb); 256 MiB of zeros as one
bzip2 and one LZMA member; a 24 MB member that inflates about 150 times (just under the 200× limit) and a 24 MB member
of mixed text (about 4×), both accepted, and the same text as a bzip2 and as an LZMA member (accepted; LZMA's
dictionary is what made it peak at 1.4× its size before it was spooled to a temporary file).
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zipfile
from email.message import EmailMessage
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._measure import measured, reference_line  # noqa: E402

MiB = 1024 * 1024

CASES = {
    "bomb-1GiB": "one member, 1 GiB of zeros",
    "mail-bomb-1GiB": "the 1 GiB bomb attached to a mail",
    "nested-bomb-1GiB": "the 1 GiB bomb zipped inside a zip",
    "bzip2-bomb-256MiB": "one bzip2 member, 256 MiB of zeros",
    "lzma-bomb-256MiB": "one LZMA member, 256 MiB of zeros",
    "member-24MB-150x": "24 MB member inflating ~150× (accepted)",
    "member-24MB-text": "24 MB member of mixed text (accepted)",
    "member-24MB-text-bzip2": "the same text as one bzip2 member (accepted)",
    "member-24MB-text-lzma": "the same text as one LZMA member (accepted)",
}


def _zip_streamed(name: str, size: int, block: bytes, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip of one member of ``size`` bytes repeating ``block``, written without holding it whole."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf, zf.open(name, "w") as member:
        written = 0
        while written < size:
            piece = block[: size - written]
            member.write(piece)
            written += len(piece)
    return buf.getvalue()


def _under_ratio(size: int) -> bytes:
    """``size`` bytes of XML-ish text that deflates about 150:1 (random bytes sprinkled into runs of spaces)."""
    rng = random.Random(21)
    out = bytearray()
    while len(out) < size:
        out += b"<cbc:Note>" + bytes(rng.getrandbits(8) for _ in range(3)) + b" " * 1000 + b"</cbc:Note>\n"
    return bytes(out[:size])


def _text(size: int) -> bytes:
    rng = random.Random(21)
    words = [bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9))) for _ in range(5000)]
    out = bytearray()
    while len(out) < size:
        out += b"<cbc:Note>" + b" ".join(rng.choice(words) for _ in range(12)) + b"</cbc:Note>\n"
    return bytes(out[:size])


def build_inputs(folder: Path) -> dict[str, tuple[Path, int]]:
    """Write every case's zip into ``folder``; return its file and its largest member's size."""
    bomb = _zip_streamed("ad.xml", 1024 * MiB, b"\0" * MiB)
    nested = io.BytesIO()
    with zipfile.ZipFile(nested, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("inner.zip", bomb)
    under = _under_ratio(24 * MiB)
    text = _text(24 * MiB)
    inputs = {
        "bomb-1GiB": (bomb, 1024 * MiB),
        "mail-bomb-1GiB": (_mailed(bomb), 1024 * MiB),
        "nested-bomb-1GiB": (nested.getvalue(), 1024 * MiB),
        "bzip2-bomb-256MiB": (_zip_streamed("ad.xml", 256 * MiB, b"\0" * MiB, zipfile.ZIP_BZIP2), 256 * MiB),
        "lzma-bomb-256MiB": (_zip_streamed("ad.xml", 256 * MiB, b"\0" * MiB, zipfile.ZIP_LZMA), 256 * MiB),
        "member-24MB-150x": (_zip_of(under), len(under)),
        "member-24MB-text": (_zip_of(text), len(text)),
        "member-24MB-text-bzip2": (_zip_of(text, zipfile.ZIP_BZIP2), len(text)),
        "member-24MB-text-lzma": (_zip_of(text, zipfile.ZIP_LZMA), len(text)),
    }
    paths = {}
    for name, (data, member) in inputs.items():
        path = folder / (f"{name}.eml" if name.startswith("mail-") else f"{name}.zip")
        path.write_bytes(data)
        paths[name] = (path, member)
    return paths


def _mailed(zipped: bytes) -> bytes:
    """A supplier's mail with ``zipped`` attached (base64, as mail software sends it)."""
    message = EmailMessage()
    message["From"], message["To"] = "facturas@proveedor.test", "recepcion@empresa.test"
    message["Subject"] = "900111222;PROVEEDOR;FE1;01;PROVEEDOR"
    message.set_content("Adjuntamos la factura.")
    message.add_attachment(zipped, maintype="application", subtype="zip", filename="fe1.zip")
    return message.as_bytes()


def _zip_of(data: bytes, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        zf.writestr("ad.xml", data)
    return buf.getvalue()


def _load_unpack(path: str | None):
    if path is None:
        from inbox import unpack

        return unpack
    spec = importlib.util.spec_from_file_location("unpack_under_test", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def child(path: Path, module_path: str | None, repeat: int) -> None:
    """Measure one case in this (fresh) process; print one JSON line."""
    module = _load_unpack(module_path)
    data = path.read_bytes()
    small = _zip_of(b"<a>" + b"x" * 1000 + b"</a>")
    module.unpack(small, "warm.zip")
    module.unpack(_mailed(small), "warm.eml")  # the e-mail package's modules load on a first mail

    name = "correo.eml" if path.suffix == ".eml" else "z.zip"  # a mail is parsed (MIME, base64) as intake does

    def run() -> str:
        try:
            parts = module.unpack(data, name)
        except module.UnpackError as exc:
            return f"refused ({exc.reason}): {exc}"
        return "accepted: " + ", ".join(f"{p.name} {len(p.data)} B" for p in parts)

    cpu_started = time.process_time()
    outcome, first, grown = measured(run)
    times, cpu = [first], [time.process_time() - cpu_started]
    for _ in range(repeat - 1):
        started, cpu_started = time.perf_counter(), time.process_time()
        run()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    tracemalloc.start()
    run()
    _, traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        json.dumps(
            {
                "seconds": statistics.median(times),
                "cpu": statistics.median(cpu),
                "rss_kb": grown,
                "traced": traced,
                "outcome": outcome,
                "size": len(data),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per case (median kept)")
    parser.add_argument("--unpack", help="measure this copy of inbox/unpack.py instead of the package's")
    parser.add_argument("--child", metavar="FILE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child), args.unpack, args.repeat)
        return
    print(reference_line())
    print(f"unpack: {args.unpack or 'inbox/unpack.py'}")
    with tempfile.TemporaryDirectory(prefix="buzon-zipbomb-") as folder:
        paths = build_inputs(Path(folder))
        columns = f"{'zip':>9} {'wall':>9} {'CPU':>9} {'peak RSS +':>11} {'traced':>10} {'× member':>9}"
        print(f"{'case':42} {columns}  outcome")
        for name, label in CASES.items():
            path, member = paths[name]
            command = [sys.executable, __file__, "--repeat", str(args.repeat), "--child", str(path)]
            if args.unpack:
                command += ["--unpack", args.unpack]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(f"{label:42} failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else '?'}")
                continue
            result = json.loads(done.stdout.strip().splitlines()[-1])
            outcome = result["outcome"]
            outcome = outcome if len(outcome) <= 100 else outcome[:97] + "..."
            print(
                f"{label:42} {result['size'] / MiB:7.2f} MB {result['seconds'] * 1000:6.1f} ms "
                f"{result['cpu'] * 1000:6.1f} ms "
                f"{result['rss_kb'] / 1024:8.1f} MB {result['traced'] / MiB:7.1f} MB "
                f"{result['traced'] / member:9.3f}  {outcome}"
            )


if __name__ == "__main__":
    main()
