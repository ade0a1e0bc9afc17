"""What the shell asks DIAN through its client besides sending events: the online confirmation of a received
document (GetStatus, then GetXmlByDocumentKey) and the suppliers' reception addresses (GetExchangeEmails)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from buzon.config import Settings
from dian.proof import OnlineAnswer
from dian.soap import DianClient, DianFault, DianTransportError


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


def exchange_emails(client: Any, *, ttl: float = 3600.0) -> Callable[[], dict[str, str]]:
    """DIAN's reception addresses by NIT (GetExchangeEmails), fetched at most once per ``ttl`` seconds."""
    cached: dict[str, Any] = {"at": None, "value": {}}

    def lookup() -> dict[str, str]:
        if cached["at"] is None or time.monotonic() - cached["at"] > ttl:
            answer = client.get_exchange_emails()
            rows = answer.rows() if answer.success else []
            cached["value"] = {
                (row.get("Nit") or "").strip(): (row.get("CorreoElectronico") or "").strip()
                for row in rows
                if row.get("CorreoElectronico")
            }
            cached["at"] = time.monotonic()
        return cached["value"]

    return lookup
