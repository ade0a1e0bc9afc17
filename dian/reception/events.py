"""An event received (ApplicationResponse 030-051, bare or in its container), or DIAN's answer mailed on its own."""

from __future__ import annotations

import datetime as dt
from typing import Any

from lxml import etree

from dian.codes import DIAN_NIT, EventCode
from dian.errors import ParseError
from dian.nit import same_nit
from dian.proof import DianKeys, Level
from dian.reception.answer import prefixed, weigh_answer
from dian.reception.container import ContainerSignature
from dian.reception.keys import key_problem
from dian.reception.report import ReceptionReport
from dian.trust import TrustStore, certificate_nits, nit_matches
from dian.ubl import ApplicationResponse, parse_document
from dian.xades import Check, Outcome, has_signature, verify

_EVENT_CODES = frozenset(code.value for code in EventCode)


def verify_application_response(
    data: bytes, root: etree._Element, trust: TrustStore, keys: DianKeys, now: dt.datetime | None
) -> ReceptionReport:
    """A bare ApplicationResponse: DIAN's validation of a document (mailed on its own) or a counterpart's event."""
    try:
        claimed = parse_document(root)
    except ParseError:
        claimed = None
    is_answer = isinstance(claimed, ApplicationResponse) and (
        claimed.is_validation or same_nit(claimed.sender.nit, DIAN_NIT)
    )
    if not is_answer:
        event = claimed if isinstance(claimed, ApplicationResponse) else None
        return verify_event(data, root, None, trust, keys, now, [], None, claimed=event)
    checks: list[Check] = []
    answer, report, notifications, level, basis = weigh_answer(data, None, keys, now, checks, owned_root=root)
    ref = answer.document_reference if answer is not None else None
    if ref is not None:
        if problem := key_problem("CUFE del documento validado", ref.uuid):
            checks.append(Check("dian.document_reference", Outcome.FAIL, problem))
            level = Level.INVALID
        else:
            checks.append(
                Check(
                    "dian.document_reference",
                    Outcome.PASS,
                    f"validación de DIAN del documento {ref.id} (CUFE {(ref.uuid or '')[:16]}…); se cruza con el "
                    "documento por su CUFE cuando esté archivado",
                )
            )
    elif answer is not None:
        checks.append(Check("dian.document_reference", Outcome.FAIL, "la respuesta de DIAN no nombra el documento"))
        level = Level.INVALID
    return ReceptionReport(
        checks=tuple(checks),
        kind="dian_answer",
        dian_response=answer,
        dian_signature=report,
        dian_response_xml=data,
        notifications=notifications,
        dian_proof=level,
        dian_basis=basis,
    )


def verify_event(
    event_xml: bytes,
    root: etree._Element,
    answer_xml: bytes | None,
    trust: TrustStore,
    keys: DianKeys,
    now: dt.datetime | None,
    checks: list[Check],
    container_xml: bytes | None,
    container: ContainerSignature | None = None,
    *,
    claimed: ApplicationResponse | None = None,
) -> ReceptionReport:
    """A counterpart's event: its signature, that its signer is its SenderParty (or the sender's software provider),
    the shape of its CUDE and CUFE, and DIAN's answer registering it (dian-facts 2.5). ``claimed`` is the event as
    read from the unverified tree, when the caller has read it already."""
    if claimed is None:  # read before verify() detaches the signature of the tree it owns
        claimed = _claimed_event(root)

    def refused(**fields: Any) -> ReceptionReport:
        return _event_report(checks, container_xml, container, event_xml, unverified_event=claimed,
                             dian_proof=Level.INVALID, **fields)  # fmt: skip

    if not has_signature(root):
        checks.append(Check("event.signature", Outcome.FAIL, f"{_event_words(claimed)} no está firmado"))
        return refused()
    signature = verify(root, trust=trust, now=now, owned=True)
    checks.extend(prefixed("event", signature))
    event: ApplicationResponse | None = None
    if signature.signed_c14n is not None:
        try:
            parsed = parse_document(signature.signed_element)
        except ParseError as exc:
            checks.append(Check("event.parse", Outcome.FAIL, f"el evento firmado no se puede leer: {exc}"))
        else:
            if isinstance(parsed, ApplicationResponse):
                event = parsed
    if event is None:
        what = _event_words(claimed)
        checks.append(Check("event.parse", Outcome.FAIL, f"{what}: la firma no verifica, nada de él es confiable"))
        return refused(document_signature=signature)
    if not event.is_event:
        checks.append(
            Check(
                "event.parse",
                Outcome.FAIL,
                f"el ApplicationResponse trae el código «{event.response_code}», no un evento",
            )
        )
    else:
        checks.append(Check("event.parse", Outcome.PASS, _event_words(event)))
    ref = event.document_reference
    for label, value in (("CUDE del evento", event.uuid), ("CUFE de la factura del evento", ref.uuid if ref else None)):
        if problem := key_problem(label, value):
            checks.append(Check("event.uuid", Outcome.FAIL, problem))
    cert = signature.certificate
    if cert is not None:
        sender = event.sender.nit
        provider = event.software_provider_nit
        if nit_matches(cert, sender):
            checks.append(Check("event.signer.nit", Outcome.PASS, f"firmado por quien lo envía (NIT {sender})"))
        elif provider and nit_matches(cert, provider):
            checks.append(
                Check(
                    "event.signer.nit", Outcome.PASS, f"firmado por el proveedor tecnológico del remitente ({provider})"
                )
            )
        else:
            checks.append(
                Check(
                    "event.signer.nit",
                    Outcome.FAIL,
                    f"el certificado firmante es del NIT {', '.join(certificate_nits(cert)) or 'desconocido'}, pero "
                    f"el evento dice enviarlo el NIT {sender}",
                )
            )
    cude = (event.uuid or "").strip().lower() or None
    answer, answer_report, notes, level, basis = weigh_answer(answer_xml, None, keys, now, checks, about=cude)
    return _event_report(checks, container_xml, container, event_xml, event=event, document_signature=signature,
                         dian_response=answer, dian_signature=answer_report, dian_response_xml=answer_xml,
                         notifications=notes, dian_proof=level, dian_basis=basis)  # fmt: skip


def _event_words(event: ApplicationResponse | None) -> str:
    if event is None:
        return "el evento"
    code = event.response_code
    label = EventCode(code).label if code in _EVENT_CODES else f"código {code or '?'}"
    ref = event.document_reference
    about = f" sobre la factura {ref.id} (CUFE {(ref.uuid or '?')[:16]}…)" if ref else ""
    return f"el evento {code} ({label}) del NIT {event.sender.nit}{about}"


def _claimed_event(root: etree._Element) -> ApplicationResponse | None:
    """What an event says of itself before (or without) its signature being proven; for messages only."""
    try:
        claimed = parse_document(root)
    except ParseError:
        return None
    return claimed if isinstance(claimed, ApplicationResponse) else None


def _event_report(
    checks: list[Check],
    container_xml: bytes | None,
    container: ContainerSignature | None,
    event_xml: bytes,
    **fields: Any,
) -> ReceptionReport:
    """The report of an event (kind "event"); ``document_signature`` is the event's own signature."""
    if container is None:
        return ReceptionReport(checks=tuple(checks), kind="event", container_xml=container_xml, event_xml=event_xml,
                               **fields)  # fmt: skip
    settled = container.settled(checks, fields["dian_proof"])
    return ReceptionReport(checks=settled, kind="event", container_xml=container_xml, event_xml=event_xml,
                           container_signature=container.report, **fields)  # fmt: skip
