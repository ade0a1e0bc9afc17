"""Verification cost on the real samples beside a floor that checks the same signatures, and signing latency.

Run from the repository root: ``.venv/bin/python benchmarks/verify.py [--rounds 15]``. Prints figures; asserts nothing.

* Buzón: ``verify_received`` on each sample's raw bytes: parse, every signature it checks (the document's, DIAN's
  answer's and, when its result can change the verdict, the container's), the certificates, both documents read into
  the model, the report.
* Floors, each from the same raw bytes (the floor parses the file and cuts its own payloads out of the container;
  it is never handed Buzón's): the same number of signatures as Buzón checked on that file, each verified against
  the certificate the signature carries and nothing else (no chain, no XAdES checks, no model):
  - lxml + python-xmlsec (libxmlsec1), when ``xmlsec`` is installed (``pip install -e '.[bench]'``);
  - lxml + signxml.
* Twice: with an empty trust store (the signers' chains warn, as in the conformance tests) and with every sample's
  signing certificate pinned (as a store holding their CAs would pass them): there the container's signature can
  change the verdict of more files, so Buzón checks it on more of them, and the floors do too.
* CPU time of this process, a few calls per measurement; Buzón and the floors interleaved (their order turned every
  round) and the median of the rounds kept per file; the totals are sums of the medians.
* sign: a 20-line invoice and a 030 event with a key object loaded once (dian-facts 9, 11): median latency.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lxml import etree  # noqa: E402
from signxml import SignatureConfiguration, XMLVerifier  # noqa: E402

from benchmarks._measure import reference_line  # noqa: E402
from dian.reception import ReceptionReport, verify_received  # noqa: E402
from dian.trust import SigningIdentity, TrustStore, fingerprint, load_base64  # noqa: E402
from dian.xades import parse_signing_time, sign  # noqa: E402

try:
    import xmlsec  # type: ignore[import-not-found]
except ImportError:  # an optional bench dependency: the signxml floor alone
    xmlsec = None

SAMPLES = Path(os.environ.get("BUZON_SHARED", REPO.parent / "shared")) / "samples"
DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
EXT = "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
SIGNATURE = f"{{{EXT}}}UBLExtensions/{{{EXT}}}UBLExtension/{{{EXT}}}ExtensionContent/{{{DS}}}Signature"
_DESCRIPTION = f"{{{CAC}}}Attachment/{{{CAC}}}ExternalReference/{{{CBC}}}Description"
DOCUMENT_PAYLOAD = _DESCRIPTION
ANSWER_PAYLOAD = f"{{{CAC}}}ParentDocumentLineReference/{{{CAC}}}DocumentReference/{_DESCRIPTION}"
# The floor's parser: no entities, no network, no DTD (what any careful verifier sets), but none of Buzón's scans.
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
CALLS = 3  # calls per measurement: one CPU-time reading covers them


@dataclass(frozen=True)
class Plan:
    """What a floor verifies in one file: the container's signature or not (as Buzón did), and the payloads."""

    container: bool
    document: bool
    answer: bool

    @property
    def count(self) -> int:
        return self.container + self.document + self.answer


def plan_of(report: ReceptionReport) -> Plan:
    """The signatures Buzón checked in this file, from its report (a count, never its bytes)."""
    return Plan(
        container=report.container_signature is not None,
        document=report.document_signature is not None,
        answer=report.dian_signature is not None,
    )


def outcomes(report: ReceptionReport) -> list[bool]:
    """Whether each signature Buzón checked verified, in the order the floors check them."""
    checked = (report.container_signature, report.document_signature, report.dian_signature)
    return [signature.core_valid for signature in checked if signature is not None]


def _trees(data: bytes, plan: Plan) -> list[etree._Element]:
    """The floor's own reading of the raw file: the trees whose signatures Buzón checked, in the same order."""
    root = etree.fromstring(data, PARSER)
    if etree.QName(root).localname != "AttachedDocument":
        return [root] if plan.document else []
    trees = [root] if plan.container else []
    for path, wanted in ((DOCUMENT_PAYLOAD, plan.document), (ANSWER_PAYLOAD, plan.answer)):
        if wanted:
            payload = root.find(path)
            trees.append(etree.fromstring((payload.text or "").strip().encode("utf-8"), PARSER))
    return trees


def _certificate_der(signature: etree._Element) -> bytes:
    return base64.b64decode("".join((signature.findtext(f".//{{{DS}}}X509Certificate") or "").split()))


def xmlsec_floor(data: bytes, plan: Plan) -> list[bool]:
    """lxml + python-xmlsec: each signature Buzón checked, against the key of the certificate it carries."""
    results = []
    for tree in _trees(data, plan):
        signature = tree.find(SIGNATURE)
        xmlsec.tree.add_ids(tree, ["Id"])
        context = xmlsec.SignatureContext()
        context.key = xmlsec.Key.from_memory(_certificate_der(signature), xmlsec.constants.KeyDataFormatCertDer)
        try:
            context.verify(signature)
        except xmlsec.Error:
            results.append(False)
        else:
            results.append(True)
    return results


def signxml_floor(data: bytes, plan: Plan) -> list[bool]:
    """lxml + signxml: each signature Buzón checked, against its own certificate, at its SigningTime."""
    results = []
    for tree in _trees(data, plan):
        signature = tree.find(SIGNATURE)
        cert = load_base64(signature.findtext(f".//{{{DS}}}X509Certificate") or "")
        signing_time, _ = parse_signing_time(signature.findtext(f".//{{{XADES}}}SigningTime") or "")
        references = len(signature.findall(f"{{{DS}}}SignedInfo/{{{DS}}}Reference"))
        config = SignatureConfiguration(expect_references=references, verification_time=signing_time)
        try:
            XMLVerifier().verify(tree, x509_cert=cert, expect_config=config)
        except Exception:  # a failed verification (a copied container signature) still did its work
            results.append(False)
        else:
            results.append(True)
    return results


def _cpu_per_call(fn: Callable[[], object]) -> float:
    started = time.process_time()
    for _ in range(CALLS):
        fn()
    return (time.process_time() - started) / CALLS


def signer_pins(files: list[Path]) -> frozenset[str]:
    """The SHA-256 of every certificate that signs something in the samples (container, document, DIAN's answer)."""
    pins = set()
    for path in files:
        root = etree.fromstring(path.read_bytes(), PARSER)
        trees = [root]
        for payload in root.iterfind(f".//{{{CBC}}}Description"):
            text = (payload.text or "").strip()
            if text.startswith("<"):
                trees.append(etree.fromstring(text.encode("utf-8"), PARSER))
        for tree in trees:
            signature = tree.find(SIGNATURE)
            if signature is not None:
                pins.add(fingerprint(load_base64(signature.findtext(f".//{{{DS}}}X509Certificate") or "")))
    return frozenset(pins)


def bench_verification(files: list[Path], label: str, trust: TrustStore, rounds: int) -> None:
    floors: dict[str, Callable[[bytes, Plan], list[bool]]] = {}
    if xmlsec is not None:
        floors["xmlsec"] = xmlsec_floor
    floors["signxml"] = signxml_floor
    print(f"\n{label}")
    header = f"{'sample':52} {'sigs':>4} {'Buzón ms':>9}" + "".join(f" {name + ' ms':>11} {'×':>5}" for name in floors)
    print(header)
    totals = {"buzon": 0.0, **{name: 0.0 for name in floors}}
    compared = {name: 0.0 for name in floors}  # Buzón's time on the files each floor could verify
    counts = {"files": 0, "signatures": 0, "containers": 0}
    for path in files:
        data = path.read_bytes()
        report = verify_received(data, trust=trust)
        plan = plan_of(report)
        jobs: dict[str, Callable[[], object]] = {"buzon": lambda data=data: verify_received(data, trust=trust)}
        usable = {}
        ours = outcomes(report)
        for name, floor in floors.items():
            try:
                theirs = floor(data, plan)
            except Exception:
                usable[name] = False
                continue
            # A floor that cannot verify what Buzón verified (the relative-namespace sample: libxml2's C14N refuses
            # it) stopped early: its time is no floor for that file.
            usable[name] = theirs == ours
            if usable[name]:
                jobs[name] = lambda data=data, floor=floor, plan=plan: floor(data, plan)
        samples: dict[str, list[float]] = {name: [] for name in jobs}
        order = list(jobs)
        for round_ in range(rounds):
            turned = order[round_ % len(order) :] + order[: round_ % len(order)]
            for name in turned:
                samples[name].append(_cpu_per_call(jobs[name]))
        median = {name: statistics.median(values) for name, values in samples.items()}
        totals["buzon"] += median["buzon"]
        counts["files"] += 1
        counts["signatures"] += plan.count
        counts["containers"] += plan.container
        line = f"{path.name[:52]:52} {plan.count:4} {median['buzon'] * 1000:9.2f}"
        for name in floors:
            if usable[name]:
                totals[name] += median[name]
                compared[name] += median["buzon"]
                line += f" {median[name] * 1000:11.2f} {median[name] / median['buzon']:5.2f}"
            else:
                line += f" {'n/a':>11} {'':>5}"
        print(line)
    print(
        f"Buzón verify_received: {counts['files'] / totals['buzon']:.0f} documents/s on one core "
        f"(mean {totals['buzon'] / counts['files'] * 1000:.2f} ms CPU; {counts['signatures']} signatures checked, "
        f"{counts['containers']} of them containers)"
    )
    for name in floors:
        if compared[name]:
            print(
                f"floor lxml+{name} on the same signatures: {totals[name] * 1000:.1f} ms vs Buzón "
                f"{compared[name] * 1000:.1f} ms: Buzón is {totals[name] / compared[name]:.2f}× cheaper"
            )


def _latency_ms(fn: Callable[[], object], n: int) -> float:
    """Median latency in milliseconds over ``n`` calls."""
    fn()
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def _built_documents() -> tuple[bytes, bytes]:
    """A 20-line invoice and a 030 event from dian.ubl.build."""
    from datetime import date
    from decimal import Decimal

    from dian.codes import Environment, EventCode, PaymentMeans
    from dian.ubl import Line, MonetaryTotal, Party, Person, TaxSubtotal, TaxTotal
    from dian.ubl.build import DocumentDraft, EventDraft, NumberingRange, Software, build_event, build_invoice

    software = Software(provider_nit="900373076", provider_dv="5", software_id="bench", pin="12345")
    numbering = NumberingRange("18760000001", date(2019, 1, 19), date(2030, 1, 19), "SETP", 990000000, 995000000, "k")
    seller = Party(nit="900123456", dv="8", registration_name="PROVEEDOR DE PRUEBA S.A.S.")
    buyer = Party(nit="900654321", dv="0", registration_name="EMPRESA COMPRADORA S.A.S.")

    def iva(base: Decimal) -> TaxTotal:
        amount = base * Decimal("0.19")
        sub = TaxSubtotal("01", "IVA", amount, taxable_amount=base, percent=Decimal("19.00"))
        return TaxTotal(amount=amount, subtotals=(sub,))

    price = Decimal("50000.00")
    lines = tuple(
        Line(str(i), Decimal("1.00"), "94", f"Artículo {i}", price, unit_price=price, taxes=(iva(price),))
        for i in range(1, 21)
    )
    net = price * 20
    total = MonetaryTotal(line_extension=net, tax_exclusive=net, tax_inclusive=net * Decimal("1.19"),
                          payable=net * Decimal("1.19"))  # fmt: skip
    draft = DocumentDraft(
        number="SETP990000001", issue_date=date(2025, 3, 10), issue_time="10:53:10-05:00",
        environment=Environment.TESTING, supplier=seller, customer=buyer, lines=lines, monetary_total=total,
        tax_totals=(iva(net),), due_date=date(2025, 4, 9), payment_means=PaymentMeans.CREDIT,
        payment_method_code="42",
    )  # fmt: skip
    event = EventDraft(
        code=EventCode.ACUSE_RECIBO, number="AR0001", issue_date=date(2025, 3, 11), issue_time="09:00:00-05:00",
        environment=Environment.TESTING, sender=buyer, receiver=seller, invoice_number="SETP990000001",
        invoice_cufe="a" * 96, person=Person(id="1020304050", first_name="Ana", family_name="Prueba"),
    )  # fmt: skip
    return build_invoice(draft, software=software, numbering=numbering), build_event(event, software=software)


def bench_signing() -> None:
    from tests.pki import pki

    p = pki()
    supplier = SigningIdentity(p.supplier.key, p.supplier.cert, p.supplier.chain)
    company = SigningIdentity(p.company.key, p.company.cert, p.company.chain)
    at = dt.datetime(2025, 3, 3, 14, 0, tzinfo=dt.UTC)
    invoice, event = _built_documents()
    for label, xml, who in (("20-line invoice", invoice, supplier), ("030 event", event, company)):
        median = _latency_ms(lambda xml=xml, who=who: sign(xml, who, signing_time=at), 300)
        print(f"sign {label} ({len(xml) // 1024 + 1} KB unsigned): median {median:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds per sample (median kept)")
    args = parser.parse_args()
    print(reference_line())
    files = sorted(SAMPLES.glob("*.xml"))
    if not files:
        print(f"no samples at {SAMPLES}")
        return
    if xmlsec is None:
        print("python-xmlsec is not installed (pip install -e '.[bench]'): the floor is lxml + signxml alone")
    else:
        print(f"python-xmlsec {xmlsec.__version__} (libxmlsec1 {'.'.join(map(str, xmlsec.get_libxmlsec_version()))})")
    bench_verification(files, "empty trust store (every signer's chain warns)", TrustStore(), args.rounds)
    pinned = TrustStore(pins=signer_pins(files))
    bench_verification(files, "every signing certificate pinned", pinned, args.rounds)
    print()
    bench_signing()


if __name__ == "__main__":
    main()
