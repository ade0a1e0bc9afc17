"""Time and memory of refusing hostile XML, beside verifying one real-sized signed invoice (issue 14).

Run from the repository root: ``.venv/bin/python benchmarks/hostile.py [--repeat 5]``. Prints figures; asserts nothing.

Each input is built once by this process and written to a temporary file; each case then runs in a fresh subprocess
that reads its file (one allocation of the input's size), verifies the baseline invoice once to warm up, and reports

* time: the best of ``--repeat`` runs (a single run when the first takes over a second);
* peak RSS growth: the peak resident size during the first run minus the resident size before it (Linux: the
  VmHWM mark reset through /proc/self/clear_refs; elsewhere ``ru_maxrss``, coarser), so libxml2's allocations count
  as well as Python's; the input itself is already resident and not counted.

Cases: the baseline (``verify`` of a signed 40-line invoice, about the size of the real samples); signatures with
2,000 and 1,000 references (copies of the enveloped one: before the limit, each detached the signature again); a
20 MB XML of 5.2 million empty elements; nesting 200,000 levels deep; a 9 MB attribute (under libxml2's own 10 MB
cap); 300 namespace declarations over 10,000 elements in a signed invoice (libxml2's inclusive C14N costs in-scope
declarations squared per element).
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lxml import etree  # noqa: E402

from benchmarks._measure import measured  # noqa: E402
from dian.cdata import parse_aside  # noqa: E402
from dian.errors import ParseError  # noqa: E402
from dian.trust import SigningIdentity, TrustStore  # noqa: E402
from dian.xades import sign, verify  # noqa: E402

DS = "http://www.w3.org/2000/09/xmldsig#"
SIGNED_AT = dt.datetime(2025, 3, 3, 14, 0, tzinfo=dt.UTC)

CASES = {
    "baseline": "verify a signed 40-line invoice",
    "references-2000": "signature with 2,000 references",
    "references-1000": "signature with 1,000 references",
    "elements-5.2M": "20 MB XML of 5.2 million empty elements",
    "nesting-200k": "XML nested 200,000 levels deep",
    "attribute-9MB": "one 9 MB attribute value",
    "namespaces-300x10k": "signed invoice, 300 xmlns × 10,000 elements",
    "cdata-1M-sections": "900,000 CDATA sections and comments",
    "cdata-9MB-of-]": "a CDATA section of 9 million ']'",
}


def _signed_invoice(lines: int = 40) -> bytes:
    from tests.pki import invoice_xml, pki

    supplier = pki().supplier
    identity = SigningIdentity(supplier.key, supplier.cert, supplier.chain)
    return sign(invoice_xml(lines=lines), identity, signing_time=SIGNED_AT)


def _with_references(signed: bytes, count: int) -> bytes:
    root = etree.fromstring(signed)
    signed_info = root.find(f".//{{{DS}}}SignedInfo")
    first = signed_info.find(f"{{{DS}}}Reference")
    for _ in range(count - len(signed_info.findall(f"{{{DS}}}Reference"))):
        signed_info.append(copy.deepcopy(first))
    return etree.tostring(root)


def _with_namespaces(signed: bytes, declarations: int, elements: int) -> bytes:
    head, rest = signed.split(b"<Invoice ", 1)
    extra = b" ".join(b'xmlns:p%d="urn:x:%d"' % (i, i) for i in range(declarations))
    body, tail = rest.rsplit(b"</Invoice>", 1)
    return head + b"<Invoice " + extra + b" " + body + b"<cbc:Note/>" * elements + b"</Invoice>" + tail


def build_inputs(folder: Path) -> dict[str, Path]:
    """Write every case's input into ``folder``; return the file of each case."""
    signed = _signed_invoice()
    inputs = {
        "baseline": signed,
        "references-2000": _with_references(signed, 2000),
        "references-1000": _with_references(signed, 1000),
        "elements-5.2M": b"".join((b"<r>", b"<a/>" * 5_200_000, b"</r>")),
        "nesting-200k": b"".join((b"<a>" * 200_000, b"</a>" * 200_000)),
        "attribute-9MB": b"".join((b'<r a="', b"x" * 9_000_000, b'"/>')),
        "namespaces-300x10k": _with_namespaces(signed, 300, 10_000),
        # What the walk for CDATA sections to set aside (dian.cdata) must not pay for per marker: a million sections
        # and comments, and a section that is a run of "]" (each a candidate end).
        "cdata-1M-sections": b"".join((b"<a>", b"<![CDATA[]]><!---->" * 900_000, b"</a>")),
        "cdata-9MB-of-]": b"".join((b"<a>", b"<![CDATA[", b"]" * 9_000_000, b"]]></a>")),
    }
    paths = {}
    for name, data in inputs.items():
        path = folder / f"{name}.xml"
        path.write_bytes(data)
        paths[name] = path
    return paths


def _run(name: str, data: bytes) -> str:
    """Process one input as reception would: parse_aside (parse_xml with large CDATA sections set aside), then
    verify; the outcome in one line."""
    try:
        root, aside = parse_aside(data)
    except ParseError as exc:
        return f"ParseError: {exc}"
    aside.restore(root)
    report = verify(root, trust=TrustStore(), owned=True)
    failed = [c for c in report.checks if c.outcome.value == "fail"]
    if not failed:
        return report.verdict.value
    return f"{report.verdict.value}: {failed[0].name}: {failed[0].detail}"


def child(name: str, path: Path, baseline: Path, repeat: int) -> None:
    """Measure one case in this (fresh) process; print one JSON line."""
    data = path.read_bytes()
    _run("baseline", baseline.read_bytes())  # warm up imports, compiled XPath and caches
    outcome, best, grown = measured(lambda: _run(name, data))
    if best < 1.0:
        for _ in range(repeat - 1):
            started = time.perf_counter()
            _run(name, data)
            best = min(best, time.perf_counter() - started)
    print(json.dumps({"seconds": best, "rss_kb": grown, "outcome": outcome, "size": len(data)}))


def _figure(seconds: float) -> str:
    return f"{seconds * 1000:8.2f} ms" if seconds < 1 else f"{seconds:8.2f} s "


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per case (best time kept)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds before a case is given up")
    parser.add_argument("--child", nargs=3, metavar=("CASE", "FILE", "BASELINE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        name, path, baseline = args.child
        child(name, Path(path), Path(baseline), args.repeat)
        return
    with tempfile.TemporaryDirectory(prefix="buzon-hostile-") as folder:
        paths = build_inputs(Path(folder))
        print(f"{'case':45} {'size':>9} {'time':>11} {'× base':>8} {'peak RSS +':>11}  outcome")
        base_seconds = None
        for name, label in CASES.items():
            command = [sys.executable, __file__, "--repeat", str(args.repeat), "--child", name]
            command += [str(paths[name]), str(paths["baseline"])]
            try:
                done = subprocess.run(command, capture_output=True, text=True, timeout=args.timeout, check=False)
            except subprocess.TimeoutExpired:
                print(f"{label:45} {'':>9} {'> ' + str(int(args.timeout)) + ' s':>11}")
                continue
            if done.returncode != 0:
                print(f"{label:45} failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else '?'}")
                continue
            result = json.loads(done.stdout.strip().splitlines()[-1])
            seconds = result["seconds"]
            base_seconds = base_seconds or seconds
            size = result["size"]
            shown = f"{size / 1048576:.1f} MB" if size >= 1048576 else f"{size / 1024:.0f} KB"
            outcome = result["outcome"]
            outcome = outcome if len(outcome) <= 110 else outcome[:107] + "..."
            print(
                f"{label:45} {shown:>9} {_figure(seconds):>11} {seconds / base_seconds:8.1f} "
                f"{result['rss_kb'] / 1024:8.1f} MB  {outcome}"
            )


if __name__ == "__main__":
    main()
