"""The local DIAN simulator as the shell uses it: where it keeps its state, its URL, the sandbox certificate it issues
to the company, registering our software with it, and running it beside the web application.

dian.simulator (zeep, the SOAP stack: about 0.25 s of imports) is imported inside the functions that start or seed a
simulator, so that commands which never meet it (`buzon import`, `buzon user`) do not pay for it.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from buzon.config import Settings

if TYPE_CHECKING:
    from dian.simulator import SimulatorServer
    from dian.trust import SigningIdentity
    from dian.ubl.build import Software

SANDBOX_P12 = "company-sandbox.p12"
SANDBOX_PASSWORD = b"buzon-sandbox"  # the sandbox certificate's, issued by the local simulator's CA

_SANDBOX_LOCK = threading.Lock()


def data_dir(settings: Settings) -> Path:
    """Where the local DIAN simulator keeps its state, CA and certificates (one for every company of the install: it
    plays the one DIAN they all answer to)."""
    return Path(settings.dian.simulator_dir) if settings.dian.simulator_dir else settings.data_path / "dian-sim"


def is_local(settings: Settings) -> bool:
    """True when Buzón itself runs the DIAN Buzón talks to (the simulator environment with no endpoint of its own)."""
    return settings.dian.environment == "simulator" and not settings.dian.endpoint


def url(settings: Settings) -> str:
    """The local simulator's service URL (dian.endpoint wins when set)."""
    from dian.simulator.wsgi import SERVICE_PATH  # start-up time: see the module's docstring

    return settings.dian.endpoint or f"http://127.0.0.1:{settings.dian.simulator_port}{SERVICE_PATH}"


def sandbox_path(settings: Settings) -> Path:
    """Where the company's sandbox certificate is kept: the first company's beside the simulator's state, another
    company's in its own data folder (one NIT each)."""
    return (settings.data_path if settings.dian.simulator_dir else data_dir(settings)) / SANDBOX_P12


def sandbox_identity(settings: Settings) -> SigningIdentity:
    """A sandbox certificate for the company's NIT, issued once under the simulator's CA and kept under the data
    directory, so that a trainee or an integrator can work without a real certificate."""

    from dian.trust import load_pkcs12

    path = sandbox_path(settings)
    with _SANDBOX_LOCK:  # the scheduler's first runs ask for it at once: one issues it, the others read it
        if path.exists():
            return load_pkcs12(path, SANDBOX_PASSWORD)
        return _issue_sandbox(settings, path)


def _issue_sandbox(settings: Settings, path: Path) -> SigningIdentity:
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

    from dian.simulator import Simulator  # start-up time: see the module's docstring
    from dian.trust import load_pkcs12

    simulator = Simulator(data_dir(settings))
    try:
        identity = simulator.issue_identity(settings.company.nit_number, settings.company.name)
    finally:
        simulator.close()
    data = pkcs12.serialize_key_and_certificates(
        b"buzon-sandbox", identity.key, identity.certificate, list(identity.chain),
        BestAvailableEncryption(SANDBOX_PASSWORD),
    )  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_bytes(data)
    partial.chmod(0o600)
    partial.replace(path)  # whole or absent: another process never reads half a file
    return load_pkcs12(path, SANDBOX_PASSWORD)


def register_software(settings: Settings, software: Software) -> None:
    """Make our software, its numbering range and our reception address known to the local simulator (another one is
    seeded by its owner)."""
    from dian.simulator import Simulator  # start-up time: see the module's docstring

    simulator = Simulator(data_dir(settings))
    try:
        simulator.seed(
            {
                "software": [{"id": software.software_id, "pin": software.pin, "provider_nit": software.provider_nit}],
                # DIAN's habilitación range for own software (radian-issuing-facts B.1), so that `buzon ranges sync`
                # reads one from the local simulator as it would from DIAN.
                "numbering": [
                    {
                        "nit": settings.company.nit_number,
                        "software_id": software.software_id,
                        "resolution": "18760000001",
                        "prefix": "SETP",
                        "from": 990000000,
                        "to": 995000000,
                        "valid_from": "2019-01-19",
                        "valid_to": "2030-01-19",
                        "technical_key": "fc8eac422eba16e22ffd8c6f94b3f40a6e38162c",
                    },
                    {  # the documento soporte's own range (radian-issuing-facts C.5), marked with `ranges kind`
                        "nit": settings.company.nit_number,
                        "software_id": software.software_id,
                        "resolution": "18764000000001",
                        "prefix": "DS",
                        "from": 1,
                        "to": 5000,
                        "valid_from": "2026-01-01",
                        "valid_to": "2030-12-31",
                        "technical_key": "5b7d3c4e9f1a2b6c8d0e7f3a1b5c9d2e4f6a8b0c",
                        "kind": "support_document",
                    },
                ],
                "exchange_emails": [
                    {
                        "nit": settings.company.nit_number,
                        "name": settings.company.name,
                        "email": settings.company.reception_email,
                    }
                ],
            }
        )
    finally:
        simulator.close()


def serve(settings: Settings, port: int = 0) -> SimulatorServer:
    """The local simulator serving on a loopback port (0: a free one) in a thread; OSError when the port is taken.
    stop() it and close its simulator after."""
    from dian.simulator import Simulator, SimulatorServer  # start-up time: see the module's docstring

    simulator = Simulator(data_dir(settings))
    try:
        return SimulatorServer(simulator, port=port).start()
    except BaseException:
        simulator.close()
        raise
