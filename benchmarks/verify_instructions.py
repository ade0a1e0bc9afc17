"""Verification counted in CPU instructions, not seconds: Buzón beside the floors, and where Buzón's instructions go.

Run from the repository root: ``.venv/bin/python benchmarks/verify_instructions.py [--rounds 3]``. Prints figures;
asserts nothing; needs valgrind (on every machine kind here), else says so and stops.

Timings on a shared machine drift by a tenth or more within minutes (the reference loop of ``verify.py`` has read
69 to 140 ms on the same code); valgrind's callgrind counts the instructions a process executes, the same count
for the same binaries and inputs whatever else the machine does. So the ratio of ``verify.py`` is taken again here
as a count: ``verify_received`` on every real sample against lxml + python-xmlsec and lxml + signxml verifying the
same signatures (``verify.py``'s floors, with Buzón's plan of which signatures it checked), with an empty trust store
and with every signer pinned. Each job runs in two child processes under callgrind, one doing only the set-up and a
warm-up round, the other ``--rounds`` more rounds: the difference, divided by the rounds, is one round's count (so
start-up, imports and caches filled once are left out on both sides alike).

Buzón's count is then split by where the instructions ran: the Python interpreter, libxml2 and the C libraries lxml
carries, lxml's own code, OpenSSL and cryptography's Rust, libc (malloc, memcpy: shared by all). lxml's wheel links
libxml2 into its module, so the two are told apart by address: lxml's own functions lie below the first libxml2
symbol the module exports (read with ``nm -D``), the libraries above it. An instruction is not a cycle (libxml2's
loops and the interpreter's dispatch run at different speeds), so the split says where work is, not time exactly.
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks import verify as timed  # noqa: E402
from dian.reception import verify_received  # noqa: E402
from dian.trust import TrustStore  # noqa: E402

JOBS = ("buzon", "xmlsec", "signxml")
TRUSTS = ("empty", "pinned")
_LINE = re.compile(r"\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*)$")
_OBJECT = re.compile(r"\[([^\]]*)\]\s*$")


def _trust(which: str, files: list[Path]) -> TrustStore:
    return TrustStore() if which == "empty" else TrustStore(pins=timed.signer_pins(files))


Floor = Callable[[bytes, "timed.Plan"], list[bool]]


def _floors() -> dict[str, Floor]:
    """verify.py's floors: lxml + signxml, and lxml + python-xmlsec when it is installed."""
    floors: dict[str, Floor] = {"signxml": timed.signxml_floor}
    if timed.xmlsec is not None:
        floors["xmlsec"] = timed.xmlsec_floor
    return floors


def comparable(which: str) -> list[str]:
    """The samples every floor verifies as Buzón did: libxml2 refuses one sample's relative namespace and neither floor
    takes an rsa-sha1 signature the way Buzón does; those files are left out of every job alike. Found here, in the
    parent, so that Buzón's child never runs a floor (lxml and python-xmlsec each carry a libxml2 of their own, and a
    profile names a function by its name: which copy ran would be lost)."""
    files = sorted(timed.SAMPLES.glob("*.xml"))
    trust = _trust(which, files)
    names = []
    for path in files:
        data = path.read_bytes()
        report = verify_received(data, trust=trust)
        plan = timed.plan_of(report)
        ours = timed.outcomes(report)
        if all(_agrees(floor, data, plan, ours) for floor in _floors().values()):
            names.append(path.name)
    return names


def _agrees(floor: Floor, data: bytes, plan: timed.Plan, ours: list[bool]) -> bool:
    """Whether the floor reaches Buzón's outcome on every signature of the file (False when it cannot read it)."""
    try:
        return floor(data, plan) == ours
    except Exception:
        return False


def child(job: str, which: str, rounds: int, names: list[str]) -> None:
    """In a child under callgrind: the set-up and one warm-up round, then ``rounds`` rounds of ``job``."""
    trust = _trust(which, sorted(timed.SAMPLES.glob("*.xml")))
    calls = []
    for name in names:
        data = (timed.SAMPLES / name).read_bytes()
        if job == "buzon":
            calls.append(lambda data=data: verify_received(data, trust=trust))
        else:
            plan = timed.plan_of(verify_received(data, trust=trust))
            floor = _floors()[job]
            calls.append(lambda data=data, floor=floor, plan=plan: floor(data, plan))
    for call in calls:  # warm-up: caches, lazily built parsers
        call()
    for _ in range(rounds):
        for call in calls:
            call()


def _run(job: str, which: str, rounds: int, names: list[str], folder: Path) -> Path:
    out = folder / f"{job}-{which}-{rounds}.out"
    command = [
        "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
        sys.executable, __file__, "--child", job, "--trust", which, "--rounds", str(rounds), "--files", ",".join(names),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    if done.returncode != 0:
        raise RuntimeError(f"{job} under callgrind failed: {done.stderr[-500:]}")
    return out


@dataclass(frozen=True)
class _Lxml:
    """lxml's extension module, the addresses of the functions it exports, and the lowest of libxml2's (see the
    module's docstring): below it lies lxml's own code, above it the C libraries the module carries."""

    module: str
    exported: dict[str, int]
    boundary: int

    @classmethod
    def read(cls) -> _Lxml | None:
        import lxml.etree

        listed = subprocess.run(["nm", "-D", "--defined-only", lxml.etree.__file__], capture_output=True, text=True)
        exported = {p[2]: int(p[0], 16) for line in listed.stdout.splitlines() if len(p := line.split()) == 3}
        libxml2 = [address for name, address in exported.items() if name.startswith("xml")]
        return cls(Path(lxml.etree.__file__).name, exported, min(libxml2)) if libxml2 else None


def _component(obj: str, function: str, lxml: _Lxml | None) -> str:
    if obj.startswith("libpython") or obj == "python" or obj.startswith("python3"):
        return "Python interpreter"
    if lxml and obj == lxml.module:
        address = int(function, 16) if function.startswith("0x") else lxml.exported.get(function)
        if address is None:
            return "lxml and libxml2 (unplaced)"
        return "lxml's own code" if address < lxml.boundary else "libxml2 (with libxslt, zlib)"
    if obj.startswith(("libcrypto", "libssl", "_rust")):
        return "OpenSSL and cryptography"
    if obj.startswith(("libc.", "libc-", "libm.")):
        return "libc (malloc, memcpy)"
    return f"other ({obj})"


def _counts(out: Path, lxml: _Lxml | None) -> collections.Counter[str]:
    """Instructions per component of one callgrind profile."""
    listed = subprocess.run(
        ["callgrind_annotate", "--inclusive=no", "--threshold=100", str(out)], capture_output=True, text=True
    ).stdout
    counts: collections.Counter[str] = collections.Counter()
    source_only = "Python interpreter"  # lines without an object are the interpreter's own C files (Python/…)
    for line in listed.splitlines():
        match = _LINE.match(line)
        if not match or "PROGRAM TOTALS" in line:
            continue
        count, rest = int(match.group(1).replace(",", "")), match.group(2)
        found = _OBJECT.search(rest)
        function = rest.split(" [")[0].rsplit(":", 1)[-1].split("'")[0]
        if found is None:
            counts[source_only if "Python-" in rest or "/Python/" in rest else "other (unknown object)"] += count
            continue
        counts[_component(found.group(1).rsplit("/", 1)[-1], function, lxml)] += count
    return counts


# libxml2's entry points for the work Buzón shares with every verifier: parsing (CDATA sections apart: a container's
# payloads, which libxml2 reads a character at a time), canonicalization, and XPath.
_LIBXML2_WORK = {
    "parsing": "xmlParseDocument",
    "CDATA sections in it": "xmlParseCDSect",
    "C14N": "xmlC14NExecute",
    "XPath": "xmlXPathCompiledEval",
}


def _inclusive(out: Path) -> dict[str, int]:
    """Instructions of each of ``_LIBXML2_WORK``'s functions and of everything they call."""
    listed = subprocess.run(
        ["callgrind_annotate", "--inclusive=yes", "--threshold=100", str(out)], capture_output=True, text=True
    ).stdout
    wanted = set(_LIBXML2_WORK.values())
    counts = dict.fromkeys(wanted, 0)
    for line in listed.splitlines():
        match = _LINE.match(line)
        if match and (function := match.group(2).split(" [")[0].rsplit(":", 1)[-1]) in wanted:
            counts[function] += int(match.group(1).replace(",", ""))
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds over every sample (one warm-up)")
    parser.add_argument("--child", choices=JOBS, help=argparse.SUPPRESS)
    parser.add_argument("--trust", choices=TRUSTS, default="empty", help=argparse.SUPPRESS)
    parser.add_argument("--files", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.trust, args.rounds, args.files.split(","))
        return
    if not sorted(timed.SAMPLES.glob("*.xml")):
        print(f"no samples at {timed.SAMPLES}")
        return
    missing = [tool for tool in ("valgrind", "callgrind_annotate", "nm") if shutil.which(tool) is None]
    if missing:
        print(f"not measured: {', '.join(missing)} not installed (valgrind counts the instructions)")
        return
    jobs = ["buzon", *_floors()]
    runs = [(job, which, rounds) for job in jobs for which in TRUSTS for rounds in (0, args.rounds)]
    names = {which: comparable(which) for which in TRUSTS}
    lxml = _Lxml.read()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with ThreadPoolExecutor(max_workers=2) as pool:  # two children at a time: counts do not depend on load
            outs = dict(zip(runs, pool.map(lambda run: _run(*run, names[run[1]], folder), runs), strict=True))
        counts = {run: _counts(out, lxml) for run, out in outs.items()}
        work = {run: _inclusive(out) for run, out in outs.items() if run[0] == "buzon"}
    print(f"instructions per round over the samples (callgrind: {args.rounds} rounds less set-up and a warm-up round)")
    for which in TRUSTS:
        per_round = {
            job: {
                part: (counts[job, which, args.rounds][part] - counts[job, which, 0][part]) / args.rounds
                for part in counts[job, which, args.rounds]
            }
            for job in jobs
        }
        buzon = sum(per_round["buzon"].values())
        label = "empty trust store" if which == "empty" else "every signing certificate pinned"
        line = f"{label}, {len(names[which])} samples every floor verifies as Buzón does: Buzón {buzon / 1e6:.1f} M"
        for job in jobs[1:]:
            floor = sum(per_round[job].values())
            line += f"; lxml+{job} {floor / 1e6:.1f} M ({floor / buzon:.2f}× Buzón's)"
        print(line)
        split = sorted(per_round["buzon"].items(), key=lambda item: -item[1])
        shares = (f"{name} {count / buzon:.0%}" for name, count in split if count / buzon >= 0.005)
        print("  Buzón's: " + ", ".join(shares))
        measured, baseline = work["buzon", which, args.rounds], work["buzon", which, 0]
        inside = ", ".join(
            f"{label} {(measured[name] - baseline[name]) / args.rounds / buzon:.0%}"
            for label, name in _LIBXML2_WORK.items()
        )
        print(f"  libxml2's work in it: {inside}")


if __name__ == "__main__":
    main()
