"""DIAN's answers about events, checked before they change anything: signed by DIAN, chained to our trust store
(when it holds anchors or pins), and about the event or invoice we asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

from dian.codes import DIAN_NIT, EventCode
from dian.errors import ParseError
from dian.soap import DianResponse
from dian.trust import TrustStore
from dian.ubl import ApplicationResponse, parse_document
from dian.xades import Outcome, Verdict, verify


class ForgedAnswer(Exception):
    """An answer claiming to be DIAN's that does not verify; the message says why (Spanish)."""


@dataclass(frozen=True)
class ListedEvent:
    """One event GetStatusEvent lists on an invoice."""

    cude: str
    code: EventCode
    description: str


def checked_answer(xml: bytes | None, trust: TrustStore | None, *, about: str) -> ApplicationResponse:
    """DIAN's ApplicationResponse in ``xml``, refused unless DIAN signed it and it is about ``about`` (a CUDE/CUFE)."""
    if not xml:
        raise ForgedAnswer("la respuesta de la DIAN no trae el ApplicationResponse firmado")
    if trust is not None:
        report = verify(xml, trust=trust, expected_nits=(DIAN_NIT,))
        if report.signed_element is None or report.verdict == Verdict.INVALID:
            failures = [f"{c.name}: {c.detail}" for c in report.checks if c.outcome == Outcome.FAIL]
            raise ForgedAnswer(f"la firma de la respuesta de la DIAN no verifica ({'; '.join(failures[:2])})")
        if (trust.anchors or trust.pins) and report.outcome("certificate.chain") != Outcome.PASS:
            raise ForgedAnswer("la respuesta no está firmada por un certificado de la DIAN de confianza")
        element = report.signed_element
    else:
        element = xml
    try:
        answer = parse_document(element)
    except ParseError as exc:
        raise ForgedAnswer(f"la respuesta de la DIAN es ilegible: {exc}") from exc
    if not isinstance(answer, ApplicationResponse):
        raise ForgedAnswer("la respuesta de la DIAN no es un ApplicationResponse")
    reference = answer.document_reference
    if reference is None or (reference.uuid or "").strip().lower() != about.strip().lower():
        raise ForgedAnswer("la respuesta de la DIAN es sobre otro documento")
    return answer


def listed_events(response: DianResponse, cufe: str, trust: TrustStore | None) -> list[ListedEvent]:
    """The events a GetStatusEvent answer lists on invoice ``cufe`` (LineResponse: CUDE, code, description)."""
    answer = checked_answer(response.xml, trust, about=cufe)
    known = {code.value for code in EventCode}
    return [
        ListedEvent(
            cude=(line.line_id or "").strip().lower(), code=EventCode(line.code), description=line.description or ""
        )
        for line in answer.line_responses
        if line.code in known and line.line_id
    ]
