"""The CPU cost of making an events context (``Runtime.event_context``, asked by every title action, every events
service call and the DIAN client): with the company's certificate and the simulator's software registration done
once per process (now) against opening the PKCS#12 and seeding the simulator on every call (before, reproduced by
emptying those two caches before each call).

Two installations: the demo's (simulator environment, the sandbox certificate) and a configured one (habilitación,
a PKCS#12 of our own). Medians of CPU seconds over interleaved rounds, in one process, and their ratio.

Run from the repository root: ``.venv/bin/python benchmarks/event_context.py [--rounds 15]``. Prints figures; asserts
nothing.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._measure import reference_seconds
from buzon.config import CertificateSettings, default_settings
from buzon.runtime import Runtime


def _p12(folder: Path, nit: str) -> Path:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
    from cryptography.x509.oid import NameOID

    from dian.pki import issue_certificate, new_key
    from dian.trust import NIT_OID

    key = new_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "EMPRESA DE PRUEBA S.A.S."),
                      x509.NameAttribute(NIT_OID, nit)])  # fmt: skip
    now = dt.datetime.now(dt.UTC)
    cert = issue_certificate(name, key, issuer_name=name, issuer_key=key, ca=False,
                             not_before=now - dt.timedelta(days=1), not_after=now + dt.timedelta(days=365))  # fmt: skip
    path = folder / "empresa.p12"
    path.write_bytes(pkcs12.serialize_key_and_certificates(b"empresa", key, cert, None,
                                                           BestAvailableEncryption(b"clave")))  # fmt: skip
    return path


def _runtimes(folder: Path) -> dict[str, Runtime]:
    from store.db import migrate

    demo = default_settings(base=folder / "demo")
    configured = default_settings(base=folder / "configured")
    p12 = _p12(folder, configured.company.nit_number)
    configured = dataclasses.replace(
        configured,
        certificate=CertificateSettings(pkcs12_path=str(p12), password="clave"),  # noqa: S106 — a throwaway file
        dian=dataclasses.replace(configured.dian, environment="habilitacion"),
    )
    out = {}
    cases = (("demo (simulador, certificado sandbox)", demo), ("configurada (PKCS#12 propio)", configured))
    for name, settings in cases:
        runtime = Runtime.from_settings(settings)
        migrate(runtime.engine)
        runtime.event_context(runtime.sessions)  # the sandbox certificate issued, the database warm
        out[name] = runtime
    return out


def _cpu(call: Callable[[], object]) -> float:
    started = time.process_time()
    call()
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runtimes = _runtimes(Path(tmp))
        print(f"reference loop: {reference_seconds() * 1000:.1f} ms CPU")
        for name, runtime in runtimes.items():

            def before(runtime: Runtime = runtime) -> object:
                runtime.__dict__.pop("_certificates", None)  # what every call paid before: open the PKCS#12 again
                runtime.__dict__.pop("_registered_software", None)  # … and seed the simulator again
                return runtime.event_context(runtime.sessions)

            def after(runtime: Runtime = runtime) -> object:
                return runtime.event_context(runtime.sessions)

            old, new = [], []
            for _ in range(args.rounds):
                old.append(_cpu(before))
                new.append(_cpu(after))
            b, a = statistics.median(old), statistics.median(new)
            print(f"{name}: event_context before {b * 1000:.2f} ms CPU, now {a * 1000:.3f} ms CPU "
                  f"(×{b / a:.0f} less; medians of {args.rounds} interleaved rounds)")  # fmt: skip
            runtime.close()


if __name__ == "__main__":
    main()
