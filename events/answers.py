"""DIAN's answers about events (SendEvent, GetStatus, GetStatusEvent), checked before they change anything.

One policy for DIAN's word (``dian.proof.weigh_answer``, DESIGN.md 5a): the answer's signature must verify with a
certificate that names DIAN's NIT, and the answer must be about the event or invoice we asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

from dian.codes import EventCode
from dian.proof import DianKeys, Level, weigh_answer
from dian.radian.chain import read_status_events
from dian.soap import DianResponse
from dian.ubl import ApplicationResponse


class ForgedAnswer(Exception):
    """An answer claiming to be DIAN's that does not verify; the message says why (Spanish)."""


@dataclass(frozen=True)
class ListedEvent:
    """One event GetStatusEvent lists on an invoice."""

    cude: str
    code: EventCode
    description: str


def checked_answer(xml: bytes | None, keys: DianKeys, *, about: str | None) -> ApplicationResponse:
    """DIAN's ApplicationResponse in ``xml`` as DIAN's endpoint returned it, refused unless its DIAN signature
    verifies and it is about ``about`` (a CUDE or CUFE)."""
    if not xml:
        raise ForgedAnswer("la respuesta de la DIAN no trae el ApplicationResponse firmado")
    proof = weigh_answer(xml, keys, about=about)
    if proof.level is Level.INVALID or proof.answer is None:
        raise ForgedAnswer(proof.detail)
    # PROVEN: DIAN's certificate is anchored or pinned. UNCONFIRMED (a DIAN-named certificate we cannot anchor, such
    # as a rotated one) is accepted here only because every caller passes what DIAN's web service returned to our own
    # request over TLS: the channel is the proof (DESIGN.md 5a, "confirmed online"). Mailed answers never come here.
    return proof.answer


def listed_events(
    response: DianResponse, cufe: str, keys: DianKeys, *, answer_uuid: str | None = None
) -> list[ListedEvent]:
    """The events a GetStatusEvent answer lists on invoice ``cufe``, in DIAN's layout (radian-issuing-facts.md A.12:
    one DocumentResponse per event naming its CUDE). StatusCode 67 means none yet.

    DIAN's answer names no CUFE: its subject is its cbc:UUID, a hash of the invoice's meta
    (``dian.radian.chain.status_answer_uuid``), checked when ``answer_uuid`` is given. Without it only the DIAN
    signature is weighed and the channel (our own request for ``cufe`` over TLS) binds the answer to the invoice."""
    if response.status_code == "67":
        return []
    answer = checked_answer(response.xml, keys, about=None)
    if answer_uuid is not None and (answer.uuid or "").strip().lower() != answer_uuid.strip().lower():
        raise ForgedAnswer(
            f"la lista de eventos de DIAN es sobre otra factura (UUID {(answer.uuid or '?')[:16]}…, "
            f"no {answer_uuid[:16]}… de la factura {cufe[:16]}…)"
        )
    return [
        ListedEvent(cude=entry.cude, code=entry.code, description=entry.description)
        for entry in read_status_events(response.xml or b"")
    ]
