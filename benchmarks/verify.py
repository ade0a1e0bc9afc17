"""Verification throughput on the real samples beside the bare signxml floor, and signing latency.

Run from the repository root: ``.venv/bin/python benchmarks/verify.py [--seconds 6]``. Prints figures; asserts nothing.

* verify_received: parse, document signature, DIAN's answer signature, both parsed into the model, the report.
* floor: signxml ``XMLVerifier`` core verification (document's own certificate, three references expected,
  verification_time = SigningTime; dian-facts 9) on the same signed payloads, summed per received file.
* sign: a 20-line invoice and a 030 event with a key object loaded once (dian-facts 9, 11).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lxml import etree  # noqa: E402
from signxml import SignatureConfiguration, XMLVerifier  # noqa: E402

from dian.reception import verify_received  # noqa: E402
from dian.trust import SigningIdentity, TrustStore, load_base64  # noqa: E402
from dian.ubl import AttachedDocument, parse_document  # noqa: E402
from dian.xades import parse_signing_time, sign  # noqa: E402

SAMPLES = Path(os.environ.get("BUZON_SHARED", REPO.parent / "shared")) / "samples"
DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"


def _rate(fn: Callable[[], object], seconds: float) -> tuple[float, int]:
    """Calls per second of ``fn`` over about ``seconds`` (after one warm-up call)."""
    fn()
    n = 0
    start = time.perf_counter()
    while True:
        fn()
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed, n


def _latency_ms(fn: Callable[[], object], n: int) -> tuple[float, float]:
    fn()
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples), statistics.mean(samples)


def _signxml_job(payload: bytes) -> Callable[[], object] | None:
    """A bare signxml verification of one payload, with its own certificate and its SigningTime."""
    root = etree.fromstring(payload)
    cert_el = root.find(f".//{{{DS}}}X509Certificate")
    time_el = root.find(f".//{{{XADES}}}SigningTime")
    if cert_el is None or time_el is None:
        return None
    cert = load_base64(cert_el.text or "")
    signing_time, _ = parse_signing_time(time_el.text or "")
    config = SignatureConfiguration(expect_references=3, verification_time=signing_time)
    verifier = XMLVerifier()

    def job() -> object:
        return verifier.verify(payload, x509_cert=cert, expect_config=config)

    try:
        job()
    except Exception:  # signxml cannot verify it (the relative-namespace sample): no floor for this file
        return None
    return job


def bench_verification(seconds: float) -> None:
    files = sorted(SAMPLES.glob("*.xml"))
    if not files:
        print(f"no samples at {SAMPLES}")
        return
    trust = TrustStore()
    ours_total = floor_total = ours_compared = 0.0
    compared = 0
    print(f"{'sample':58} {'buzón/s':>9} {'floor/s':>9} {'ratio':>6}")
    for path in files:
        data = path.read_bytes()
        parsed = parse_document(data)
        payloads = [parsed.document_xml] if isinstance(parsed, AttachedDocument) else [data]
        if isinstance(parsed, AttachedDocument) and parsed.dian_response_xml:
            payloads.append(parsed.dian_response_xml)
        jobs = [_signxml_job(p) for p in payloads]
        ours_rate, _ = _rate(lambda data=data: verify_received(data, trust=trust), seconds / len(files))
        ours_s = 1 / ours_rate
        ours_total += ours_s
        if all(jobs):
            floor_rate, _ = _rate(lambda jobs=jobs: [j() for j in jobs], seconds / len(files))
            floor_s = 1 / floor_rate
            floor_total += floor_s
            ours_compared += ours_s
            compared += 1
            print(f"{path.name[:58]:58} {ours_rate:9.0f} {floor_rate:9.0f} {ours_rate / floor_rate:6.2f}")
        else:
            print(f"{path.name[:58]:58} {ours_rate:9.0f} {'n/a':>9} {'':>6}")
    n = len(files)
    print(f"\nverify_received: {n / ours_total:.0f} documents/s on one core (mean {ours_total / n * 1000:.2f} ms)")
    if compared:
        print(
            f"signxml floor on the same {compared} files: {compared / floor_total:.0f} documents/s "
            f"(mean {floor_total / compared * 1000:.2f} ms); "
            f"Buzón/floor throughput ratio {floor_total / ours_compared:.2f}"
        )


def bench_signing() -> None:
    from tests.pki import application_response_xml, invoice_xml, pki

    p = pki()
    supplier = SigningIdentity(p.supplier.key, p.supplier.cert, p.supplier.chain)
    company = SigningIdentity(p.company.key, p.company.cert, p.company.chain)
    at = dt.datetime(2025, 3, 3, 14, 0, tzinfo=dt.UTC)
    invoice = invoice_xml(lines=20)
    event = application_response_xml(code="030", sender_nit="900654321", notifications=())
    for label, xml, who in (("20-line invoice", invoice, supplier), ("030 event", event, company)):
        median, mean = _latency_ms(lambda xml=xml, who=who: sign(xml, who, signing_time=at), 300)
        print(f"sign {label} ({len(xml) // 1024 + 1} KB unsigned): median {median:.2f} ms, mean {mean:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="time budget for the verification sweep")
    args = parser.parse_args()
    bench_verification(args.seconds)
    print()
    bench_signing()


if __name__ == "__main__":
    main()
