"""Reaching DIAN from the configuration: the company's signing identity, the web-service client, the online check."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

from buzon.config import ConfigError, Settings
from dian.errors import CertificateError
from dian.simulator import SERVICE_PATH
from dian.soap import DianClient, endpoint_for
from dian.trust import SigningIdentity, load_pkcs12
from dian.xades import Check, Outcome

SANDBOX_P12 = "company-sandbox.p12"


def simulator_data_dir(settings: Settings) -> Path:
    """Where the local DIAN simulator keeps its state, CA and certificates."""
    return settings.data_path / "dian-sim"


def simulator_url(settings: Settings) -> str:
    """The local simulator's service URL (dian.endpoint wins when set)."""
    return settings.dian.endpoint or f"http://127.0.0.1:{settings.dian.simulator_port}{SERVICE_PATH}"


def company_identity(settings: Settings) -> SigningIdentity:
    """The company's signing key and certificate.

    From certificate.pkcs12_path when configured. In the simulator environment without one, a sandbox certificate
    for the company's NIT issued once under the simulator's CA and kept under the data directory, so that a trainee
    or an integrator can work without a real certificate.
    """
    if settings.certificate.pkcs12_path:
        try:
            return load_pkcs12(settings.certificate.pkcs12_path, settings.certificate.password)
        except CertificateError as exc:
            raise ConfigError(f"certificate.pkcs12_path: {exc}") from exc
    if settings.dian.environment != "simulator":
        raise ConfigError(
            f"certificate.pkcs12_path: DIAN's {settings.dian.environment} environment needs the company's certificate"
        )
    path = simulator_data_dir(settings) / SANDBOX_P12
    password = b"buzon-sandbox"
    if path.exists():
        return load_pkcs12(path, password)
    from dian.simulator import Simulator

    simulator = Simulator(simulator_data_dir(settings))
    try:
        identity = simulator.issue_identity(settings.company.nit_number, settings.company.name)
    finally:
        simulator.close()
    data = pkcs12.serialize_key_and_certificates(
        b"buzon-sandbox", identity.key, identity.certificate, list(identity.chain), BestAvailableEncryption(password)
    )
    path.write_bytes(data)
    path.chmod(0o600)
    return load_pkcs12(path, password)


def dian_client(settings: Settings) -> DianClient:
    """A web-service client for the configured environment, signing with the company's identity."""
    endpoint = endpoint_for(settings.dian.environment, simulator_url(settings))
    if settings.dian.environment != "simulator" and settings.dian.endpoint:
        endpoint = settings.dian.endpoint
    return DianClient(
        endpoint,
        company_identity(settings),
        connect_timeout=settings.dian.connect_timeout,
        read_timeout=settings.dian.read_timeout,
    )


def online_check(client: DianClient) -> Callable[[str], Check]:
    """Confirm a received document with DIAN (GetStatus by CUFE): pass, fail when DIAN does not know it, else warn.

    Transport errors propagate: intake files the document with a warning rather than block on DIAN being down.
    """

    def check(cufe: str) -> Check:
        answer = client.get_status(cufe)
        if answer.accepted:
            return Check(
                "dian.online", Outcome.PASS, "DIAN confirma en línea que el documento está validado (GetStatus 00)"
            )
        if answer.status_code == "66":
            return Check(
                "dian.online", Outcome.FAIL, f"DIAN no conoce este CUFE (GetStatus 66: {answer.status_description})"
            )
        return Check(
            "dian.online",
            Outcome.WARN,
            f"DIAN respondió {answer.status_code} ({answer.status_description}) al consultar el documento",
        )

    return check
