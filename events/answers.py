"""DIAN's answers about events (SendEvent, GetStatus, GetStatusEvent), checked before they change anything.

One policy for DIAN's word (``dian.proof.weigh_answer``, DESIGN.md 5a): the answer's signature must verify with a
certificate that names DIAN's NIT, and the answer must be about the event or invoice we asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

from dian.codes import EventCode
from dian.proof import DianKeys, Level, weigh_answer
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


def checked_answer(xml: bytes | None, keys: DianKeys, *, about: str) -> ApplicationResponse:
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


def listed_events(response: DianResponse, cufe: str, keys: DianKeys) -> list[ListedEvent]:
    """The events a GetStatusEvent answer lists on invoice ``cufe`` (LineResponse: CUDE, code, description)."""
    answer = checked_answer(response.xml, keys, about=cufe)
    known = {code.value for code in EventCode}
    return [
        ListedEvent(
            cude=(line.line_id or "").strip().lower(), code=EventCode(line.code), description=line.description or ""
        )
        for line in answer.line_responses
        if line.code in known and line.line_id
    ]
