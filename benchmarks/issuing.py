"""Documents issued per second on one core: JSON payload → validation → totals → UBL → CUFE → XAdES → zip, without
and with the PDF (issuing.pdf.render_pdf of the signed XML, QR on every page).

Run from the repository root: ``.venv/bin/python benchmarks/issuing.py [--rounds 7] [--per-round 200] [--lines 5]``.
Prints figures; asserts nothing. One process, so the figure is per core. Each round issues ``--per-round`` invoices
with consecutive numbers, once without and once with the PDF (interleaved, so both see the same load); the median
round of each is reported with their ratio, then the time split by stage from a separate pass.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

from benchmarks._measure import reference_line  # noqa: E402
from dian.codes import Environment  # noqa: E402
from dian.pki import issue_certificate  # noqa: E402
from dian.soap.packaging import zip_one  # noqa: E402
from dian.trust import SigningIdentity  # noqa: E402
from dian.ubl.build import NumberingRange, Software, build_invoice  # noqa: E402
from dian.ubl.model import Address, Party  # noqa: E402
from dian.xades import sign  # noqa: E402
from issuing.document import BOGOTA, Issuer, Numbering, draft_of, issue_document  # noqa: E402
from issuing.pdf import render_pdf  # noqa: E402
from issuing.totals import compute_totals  # noqa: E402
from issuing.validation import require_payload  # noqa: E402

RANGE = NumberingRange("18760000001", dt.date(2019, 1, 19), dt.date(2030, 1, 19), "SETP", 990000000, 995000000,
                       "fc8eac422eba16e22ffd8c6f94b3f40a6e38162c")  # fmt: skip
SELLER = Party(nit="900123456", dv="8", registration_name="Proveedor de Prueba S.A.S.", tax_level_codes=("O-13",),
               address=Address(city="Bogotá", city_code="11001", department="Bogotá", department_code="11",
                               country="CO", line="Cra 7 # 1-1"))  # fmt: skip


def _identity() -> SigningIdentity:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.SERIAL_NUMBER, "9001234568"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "PROVEEDOR DE PRUEBA")])  # fmt: skip
    now = dt.datetime.now(dt.UTC)
    cert = issue_certificate(name, key, not_before=now - dt.timedelta(days=1), not_after=now + dt.timedelta(days=365))
    return SigningIdentity(key=key, certificate=cert)


def _payload(lines: int) -> dict:
    return {
        "type": "01",
        "customer": {"id_type": "31", "id": "800199436", "dv": "4", "name": "Comprador Ejemplo S.A.",
                     "tax_scheme": "01", "address": {"line": "Cl 10 # 5-20", "city_code": "05001"}},
        "lines": [
            {"description": f"Artículo {i}", "quantity": str(i + 1), "unit_price": "12345.67", "code": f"A-{i}",
             "adjustments": [{"reason": "Descuento", "percent": "5"}],
             "taxes": [{"scheme": "01", "rate": "19"}] + ([{"scheme": "22", "per_unit": "66"}] if i == 0 else [])}
            for i in range(lines)
        ],
        "withholdings": [{"scheme": "06", "rate": "2.5"}],
        "payment": {"form": "2", "method": "42", "due_date": "2030-01-01"},
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--per-round", type=int, default=200)
    parser.add_argument("--lines", type=int, default=5)
    args = parser.parse_args()
    issuer = Issuer(party=SELLER, software=Software("900123456", "8", "sw-buzon-1", "12345"), identity=_identity())
    template = _payload(args.lines)
    at = dt.datetime.now(BOGOTA).replace(microsecond=0)
    number = RANGE.from_number

    def one(pdf: bool) -> int:
        nonlocal number
        number += 1
        payload = require_payload(copy.deepcopy(template))
        doc = issue_document(payload, issuer=issuer, numbering=Numbering("SETP", number, RANGE),
                             environment=Environment.TESTING, issued_at=at)  # fmt: skip
        return len(doc.zip_bytes) + (len(render_pdf(doc.xml, validated_at=at)) if pdf else 0)

    one(False), one(True)  # warm up
    rates: dict[bool, list[float]] = {False: [], True: []}
    cpu_rates: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(args.rounds):
        for pdf in (False, True):
            start, cpu_start = time.perf_counter(), time.process_time()
            for _ in range(args.per_round):
                one(pdf)
            rates[pdf].append(args.per_round / (time.perf_counter() - start))
            cpu_rates[pdf].append(args.per_round / (time.process_time() - cpu_start))
    print(f"issuing, {args.lines}-line invoices, {args.rounds} rounds × {args.per_round}, one process (one core)")
    for pdf, label in ((False, "without PDF"), (True, "with PDF")):
        wall, cpu = rates[pdf], cpu_rates[pdf]
        print(f"  {label}: documents/s (wall clock) median {statistics.median(wall):.0f} "
              f"(min {min(wall):.0f}, max {max(wall):.0f}); per CPU second median {statistics.median(cpu):.0f} "
              f"(min {min(cpu):.0f}, max {max(cpu):.0f})")  # fmt: skip
    # CPU time of this process: the per-core figure even when other processes share the cores.
    ratio = statistics.median(cpu_rates[True]) / statistics.median(cpu_rates[False])
    print(f"  with PDF / without (per CPU second): {ratio:.2f}")
    print(f"  load average while measuring: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")

    # Where the time goes, one stage at a time on the same document.
    stages = {"validate": 0.0, "totals": 0.0, "build+CUFE": 0.0, "sign": 0.0, "zip": 0.0, "pdf": 0.0}
    count = args.per_round
    for _ in range(count):
        t0 = time.perf_counter()
        payload = require_payload(copy.deepcopy(template))
        t1 = time.perf_counter()
        totals = compute_totals(payload)
        t2 = time.perf_counter()
        draft = draft_of(payload, totals, supplier=SELLER, number="SETP990000001", issued_at=at,
                         environment=Environment.TESTING)  # fmt: skip
        unsigned = build_invoice(draft, software=issuer.software, numbering=RANGE)
        t3 = time.perf_counter()
        signed = sign(unsigned, issuer.identity, signing_time=at)
        t4 = time.perf_counter()
        zip_one("fv.xml", signed)  # the zip the client sends DIAN
        t5 = time.perf_counter()
        pdf_bytes = render_pdf(signed, validated_at=at)
        t6 = time.perf_counter()
        for name, seconds in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5), strict=True):
            stages[name] += seconds
    print("  per document (ms): " + ", ".join(f"{name} {1000 * s / count:.2f}" for name, s in stages.items()))
    print(f"  signed XML {len(signed)} bytes, PDF {len(pdf_bytes)} bytes")
    print(f"  {reference_line()}")


if __name__ == "__main__":
    main()
