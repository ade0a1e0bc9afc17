"""Reaching DIAN from the configuration: the company's signing identity, the web-service client, the online check."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

from buzon.config import ConfigError, Settings
from dian.errors import CertificateError
from dian.proof import DianKeys, OnlineAnswer
from dian.simulator import SERVICE_PATH
from dian.soap import DianClient, DianFault, DianTransportError, endpoint_for
from dian.trust import SigningIdentity, TrustStore, load_pkcs12

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


def online_check(client: DianClient, settings: Settings) -> Callable[[str], OnlineAnswer]:
    """Ask DIAN about a received document: GetStatus by CUFE, then GetXmlByDocumentKey for DIAN's own copy.

    What DIAN says is weighed by ``dian.proof.confirm_online``; transport errors propagate (intake files the document
    as unconfirmed and the confirmation job asks again). Only an answer from an https endpoint (DIAN's) or from the
    local simulator in the simulator environment may teach a DIAN certificate.
    """
    endpoint = client.endpoint
    environment = settings.dian.environment
    learnable = endpoint.startswith("https://") or environment == "simulator"

    def check(cufe: str) -> OnlineAnswer:
        answer = client.get_status(cufe)
        document_xml = None
        if answer.status_code == "00":
            try:
                held = client.get_xml_by_document_key(cufe)
            except (DianTransportError, DianFault):
                held = None  # DIAN's copy is a bonus: GetStatus's signed answer already confirms the CUFE
            if held is not None and held.found:
                document_xml = held.xml
        return OnlineAnswer(
            status_code=answer.status_code,
            description=answer.status_description,
            answer_xml=answer.xml,
            document_xml=document_xml,
            endpoint=endpoint,
            environment=environment,
            learnable=learnable,
        )

    return check


def trust_store(settings: Settings) -> TrustStore:
    """The configured trust store (an unconfigured, absent default folder is an empty store); ConfigError names
    dian.trust_store when its folder cannot be read."""
    pins = settings.dian.pinned_dian_certificates
    if not settings.dian.trust_store and not settings.trust_store_path.is_dir():
        return TrustStore(pins=frozenset(pins))
    try:
        return TrustStore.from_folder(settings.trust_store_path, pins=pins)
    except CertificateError as exc:
        raise ConfigError(f"dian.trust_store: {exc}") from exc


def dian_keys(settings: Settings, trust: TrustStore, sessions: Any = None) -> DianKeys:
    """What DIAN's signature may be anchored in: the trust store, the shipped and configured pins, and (when a
    database is at hand) the certificates learned from DIAN itself."""
    learned: frozenset[str] = frozenset()
    if sessions is not None:
        from store.dian_certificates import learned_pins

        with sessions() as session:
            learned = learned_pins(session)
    return DianKeys.of(trust, settings.dian.pinned_dian_certificates, learned)
