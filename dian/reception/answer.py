"""DIAN's validation answer as reception weighs it: its signature by the one trust policy (``dian.proof``), its code,
its sender and what it is about."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from lxml import etree

from dian.codes import DIAN_NIT
from dian.errors import ParseError
from dian.nit import same_nit
from dian.proof import UNCONFIRMED, DianKeys, Level, level_of
from dian.ubl import ApplicationResponse, CommercialDocument, LineResponse, parse_document
from dian.xades import Check, Outcome, SignatureReport, verify
from dian.xmlsafe import parse_xml


def local_name(root: etree._Element) -> str:
    tag = root.tag if isinstance(root.tag, str) else ""
    return tag.rpartition("}")[2]


def prefixed(prefix: str, report: SignatureReport, *, skip: Iterable[str] = ()) -> list[Check]:
    skipped = set(skip)
    return [Check(f"{prefix}.{c.name}", c.outcome, c.detail) for c in report.checks if c.name not in skipped]


def weigh_answer(
    answer_xml: bytes | None,
    document: CommercialDocument | None,
    keys: DianKeys,
    now: dt.datetime | None,
    checks: list[Check],
    *,
    about: str | None = None,
    owned_root: etree._Element | None = None,
) -> tuple[ApplicationResponse | None, SignatureReport | None, tuple[LineResponse, ...], Level, str | None]:
    """Weigh DIAN's answer: its signature by the one trust policy, its code, its sender and what it is about."""
    empty: tuple[LineResponse, ...] = ()
    if answer_xml is None:
        what = "el evento" if about is not None else "el documento"
        checks.append(
            Check(
                "dian.response",
                Outcome.WARN,
                f"{UNCONFIRMED}: {what} no trae la respuesta de DIAN; se consulta su estado en DIAN",
            )
        )
        return None, None, empty, Level.UNCONFIRMED, None
    if owned_root is not None:
        answer_root = owned_root
    else:
        try:
            answer_root = parse_xml(answer_xml)
        except ParseError as exc:
            checks.append(Check("dian.response", Outcome.FAIL, f"la respuesta de DIAN adjunta es ilegible: {exc}"))
            return None, None, empty, Level.INVALID, None
    if local_name(answer_root) != "ApplicationResponse":
        checks.append(
            Check("dian.response", Outcome.FAIL, f"la respuesta de DIAN adjunta es un «{local_name(answer_root)}»")
        )
        return None, None, empty, Level.INVALID, None
    report = verify(answer_root, trust=keys.store(), expected_nits=(DIAN_NIT,), now=now, owned=True)
    before = len(checks)
    checks.extend(prefixed("dian", report, skip=("certificate.chain",)))
    level, why = level_of(report)
    chain = report.check("certificate.chain")
    if level is Level.PROVEN:
        checks.append(Check("dian.certificate.chain", Outcome.PASS, f"{why} ({chain.detail if chain else ''})"))
    elif level is Level.UNCONFIRMED:
        checks.append(Check("dian.certificate.chain", Outcome.WARN, why))
    elif chain is not None:
        checks.append(Check("dian.certificate.chain", chain.outcome, chain.detail))
    if report.signed_element is None:
        return None, report, empty, Level.INVALID, None
    try:
        parsed = parse_document(report.signed_element)
    except ParseError as exc:
        checks.append(Check("dian.response", Outcome.FAIL, f"la respuesta de DIAN firmada no se puede leer: {exc}"))
        return None, report, empty, Level.INVALID, None
    if not isinstance(parsed, ApplicationResponse):  # pragma: no cover - the root name was checked above
        checks.append(Check("dian.response", Outcome.FAIL, "la respuesta de DIAN no es un ApplicationResponse"))
        return None, report, empty, Level.INVALID, None
    answer = parsed
    code = answer.response_code
    if code == "02":
        checks.append(Check("dian.response", Outcome.PASS, "Documento validado por la DIAN (código 02)"))
    elif code == "04":
        checks.append(Check("dian.response", Outcome.FAIL, "Documento rechazado por la DIAN (código 04)"))
    else:
        checks.append(
            Check("dian.response", Outcome.FAIL, f"la respuesta adjunta no es una validación de DIAN (código {code!r})")
        )
    if not same_nit(answer.sender.nit, DIAN_NIT):
        checks.append(
            Check(
                "dian.sender", Outcome.FAIL, f"la respuesta la emite el NIT {answer.sender.nit}, no DIAN ({DIAN_NIT})"
            )
        )
    ref = answer.document_reference
    if about is not None:
        named = (ref.uuid or "").strip().lower() if ref else ""
        if named == about:
            checks.append(Check("dian.document_reference", Outcome.PASS, "la respuesta de DIAN es de este evento"))
        else:
            checks.append(
                Check(
                    "dian.document_reference",
                    Outcome.FAIL,
                    f"la respuesta de DIAN es de otro documento (CUDE {named[:16] or '?'}…), no de este evento",
                )
            )
    elif document is not None:
        if ref is None:
            checks.append(Check("dian.document_reference", Outcome.FAIL, "la respuesta de DIAN no nombra el documento"))
        else:
            same_uuid = (ref.uuid or "").strip().lower() == document.uuid.strip().lower()
            same_number = ref.id.strip() == document.number.strip()
            if same_uuid and same_number:
                checks.append(
                    Check("dian.document_reference", Outcome.PASS, f"la respuesta es del documento {document.number}")
                )
            else:
                checks.append(
                    Check(
                        "dian.document_reference",
                        Outcome.FAIL,
                        f"la respuesta de DIAN es de otro documento ({ref.id}, CUFE {(ref.uuid or '?')[:16]}…), "
                        f"no de {document.number} (CUFE {document.uuid[:16]}…)",
                    )
                )
    notifications = tuple(n for n in answer.line_responses if n.code not in {"0000", "0"})
    if notifications:
        listed = ", ".join(n.code for n in notifications)
        checks.append(Check("dian.notifications", Outcome.PASS, f"notificaciones de DIAN (no bloquean): {listed}"))
    if any(c.outcome == Outcome.FAIL for c in checks[before:]):
        level = Level.INVALID
    basis = keys.basis(report) if level.proven else None
    return answer, report, notifications, level, basis
