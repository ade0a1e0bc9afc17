"""Applying: the writes of one message's plan, towards the step ``committed`` of its batch.

``apply`` turns a resolved plan into the message's outcome (filed, ignored as a duplicate, or quarantined with the
reason a clerk reads) and adds its writes to the batch's (``writes.Writes``): the documents it files
(``file_document``), the documents on file "sin confirmar" it proves (``confirm_on_file``), DIAN's answers kept until
their document arrives (``keep_answer``), the events it records (``events.record``), and the audit entries. Nothing is
committed here: the batch commits every message's writes together (``service.Intake``).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from dian.codes import DocumentState
from dian.proof import Level
from dian.reception import ONLINE_SETTLED, settle_confirmed
from dian.ubl import TaxTotal
from dian.xades import Check, Outcome, Verdict, verdict_of
from inbox.intake import events
from inbox.intake.keys import RunKeys
from inbox.intake.known import Known, OnFile, number_key, referenced_cufe
from inbox.intake.plan import Item, Mail, Plan
from inbox.intake.terms import Result
from inbox.intake.tx import Tx
from inbox.intake.writes import MATCH_LOOSE, Filing, Writes, clip
from store.models import LooseAnswer, MailStatus, QuarantineReason, ReceivedDocument
from store.models import Verdict as StoredVerdict

_DOCS = ReceivedDocument.__table__
_CONFIRM_DOC = (
    _DOCS.update()
    .where(_DOCS.c.id == sa.bindparam("confirmed_id"), _DOCS.c.verdict == Verdict.UNCONFIRMED.value)
    .values(
        verdict=sa.bindparam("new_verdict"),
        report=sa.bindparam("new_report"),
        dian_response_blob=sa.bindparam("new_answer"),
        state=sa.case((_DOCS.c.state == DocumentState.UNCONFIRMED.value, DocumentState.VALIDATED.value),
                      else_=_DOCS.c.state),
    )
)  # fmt: skip

# How a verified document is filed: (mail, item, blob keys, PDF key, writes, known, result); ``file_document`` below,
# or the Intake's ``_file`` step that calls it.
FileDocument = Callable[[Mail, Item, dict[str, str | None], str | None, Writes, Known, Result], None]


def apply(
    conn: Tx, mail: Mail, plan: Plan, writes: Writes, known: Known, *, keys: RunKeys, file: FileDocument
) -> Result:
    """The outcome of one message from its resolved plan, with its writes added to the batch's."""
    result = Result(mail.id, MailStatus.PENDING)
    if plan.duplicate_of is not None:
        mail.status, mail.reason = MailStatus.IGNORED, QuarantineReason.DUPLICATE
        mail.reason_detail = f"El mismo correo ya se recibió (mensaje #{plan.duplicate_of})"
        result.duplicates.append(mail.message_id or "")
        writes.audit("mail.duplicate", f"mail:{mail.id}", {"earlier": plan.duplicate_of})
        return finish(mail, result)
    if plan.reason is not None:
        return quarantine(mail, result, plan.reason, plan.detail, writes)
    refused: list[Item] = []
    kept: list[Item] = []
    for item in plan.items:
        if item.reason is not None:
            refused.append(item)
        elif item.upgrade is not None:
            confirm_on_file(conn, item, known, writes, result)
        elif item.duplicate:
            result.duplicates.append(item.cufe or "")
        else:
            kept.append(item)
        if item.learned is not None and item.reason is None:
            keys.learn(conn, item.learned, at=writes.now, actor=writes.actor)
    # The blobs the rows name, staged by key: the batch stores them all in one go before it commits.
    pdf_key = writes.stage(plan.pdf) if any(i.kind == "document" for i in kept) else None
    for item in kept:
        if item.kind == "answer":
            keep_answer(conn, mail, item, writes, result)
        elif item.kind == "document":
            report = item.report
            assert report is not None and report.document_xml is not None
            blobs = {
                "signed": writes.stage(report.document_xml),
                "answer": writes.stage(report.dian_response_xml),
                "container": writes.stage(plan.containers.get(item.part)),
            }
            file(mail, item, blobs, pdf_key, writes, known, result)
        else:
            assert item.event_xml is not None
            blobs = {"signed": writes.stage(item.event_xml), "answer": writes.stage(item.event_answer_xml)}
            events.record(conn, mail, item, blobs, writes, known, result)
    if refused:
        first = refused[0]
        assert first.reason is not None
        detail = " | ".join(i.detail for i in refused)
        if done := len(result.filed) + len(result.events) + len(result.confirmed) + len(result.answers):
            detail += f" (además se archivaron {done} documento(s) del correo)"
        for item in refused:
            writes.audit("document.quarantined",
                item.cufe or f"mail:{mail.id}",
                {"mail_message_id": mail.id, "reason": item.reason.value if item.reason else None,
                 "part": item.part, "detail": item.detail},
            )  # fmt: skip
        return quarantine(mail, result, first.reason, detail, writes)
    if result.filed or result.events or result.confirmed or result.answers:
        mail.status, mail.reason, mail.reason_detail = MailStatus.FILED, None, None
    else:  # every document in it is already on file
        mail.status, mail.reason = MailStatus.IGNORED, QuarantineReason.DUPLICATE
        mail.reason_detail = "Todos los documentos del correo ya estaban archivados: " + ", ".join(
            c[:16] + "…" for c in result.duplicates
        )
        writes.audit("mail.duplicate", f"mail:{mail.id}", {"cufes": result.duplicates})
    return finish(mail, result)


def finish(mail: Mail, result: Result) -> Result:
    """The result says what was decided for the message."""
    result.status, result.reason, result.detail = mail.status, mail.reason, mail.reason_detail
    return result


def quarantine(mail: Mail, result: Result, reason: QuarantineReason, detail: str, writes: Writes) -> Result:
    """The message is quarantined for ``reason`` (with its audit entry)."""
    mail.status, mail.reason, mail.reason_detail = MailStatus.QUARANTINED, reason, detail
    writes.audit(
        "mail.quarantined", f"mail:{mail.id}",
        {"reason": reason.value, "detail": detail, "subject": mail.subject},
    )  # fmt: skip
    return finish(mail, result)


def confirm_on_file(conn: Tx, item: Item, known: Known, writes: Writes, result: Result) -> None:
    """A document on file "sin confirmar" proven by this message (its DIAN answer, mailed now): validated."""
    report = item.upgrade
    assert report is not None and item.cufe is not None
    document_id = known.id_of(item.cufe)
    answer_key = writes.stage(report.dian_response_xml)
    summary = report.to_dict()
    verdict = report.verdict
    summary["intake"] = {"confirmed_by_part": item.part, "at": writes.now.isoformat()}
    params = {"confirmed_id": document_id, "new_verdict": verdict.value, "new_report": summary}
    confirmed = conn.execute(_CONFIRM_DOC, {**params, "new_answer": answer_key}).rowcount
    if not confirmed:
        result.duplicates.append(item.cufe)
        return
    on_file = known.documents[item.cufe]
    on_file.verdict = verdict.value
    if document_id is not None:
        conn.execute(MATCH_LOOSE, {"loose_cufe": item.cufe, "loose_document": document_id,
                                   "loose_outcome": "confirma el documento"})  # fmt: skip
        result.touched.append(document_id)
    writes.audit("document.dian.confirmed", item.cufe,
                 {"document_id": document_id, "verdict": verdict.value, "part": item.part,
                  "basis": report.dian_basis})  # fmt: skip
    result.confirmed.append(item.cufe)


def keep_answer(conn: Tx, mail: Mail, item: Item, writes: Writes, result: Result) -> None:
    """DIAN's answer for a document not on file yet: kept by CUFE, weighed when the document arrives."""
    assert item.cufe is not None and item.answer_xml is not None
    key = writes.stage(item.answer_xml)
    conn.execute(LooseAnswer.__table__.insert(), {"cufe": item.cufe, "blob_key": key, "mail_message_id": mail.id,
                                                  "received_at": writes.now})  # fmt: skip
    writes.audit("document.dian_answer.kept", item.cufe, {"mail_message_id": mail.id, "part": item.part})
    result.answers.append(item.cufe)


def file_document(
    mail: Mail,
    item: Item,
    keys: dict[str, str | None],
    pdf_key: str | None,
    writes: Writes,
    known: Known,
    result: Result,
) -> None:
    """A verified document filed: its row and audit entry join the batch's insert (``Writes.flush``), and the batch
    knows it is on file from now on."""
    report = item.report
    assert report is not None and report.document is not None and item.cufe is not None
    doc = report.document
    summary = report.to_dict()
    if item.extra_checks:
        summary["checks"].extend(c.to_dict() for c in item.extra_checks)
    summary["intake"] = {"mail_message_id": mail.id, "part": item.part, "at": writes.now.isoformat()}
    verdict = report.verdict
    if item.confirmed_online:  # DIAN's endpoint confirmed what the mail could not prove
        summary["checks"] = settle_confirmed(summary["checks"], ONLINE_SETTLED)
        verdict = verdict_of(Check(c["name"], Outcome(c["outcome"]), c["detail"]) for c in summary["checks"])
        summary["dian_validated"], summary["dian_proof"] = True, Level.CONFIRMED.value
    elif any(c.outcome == Outcome.WARN for c in item.extra_checks) and verdict == Verdict.VALID:
        verdict = Verdict.VALID_WITH_WARNINGS
    summary["verdict"] = verdict.value
    referenced = referenced_cufe(doc)
    referenced_id = known.id_of(referenced) if referenced else None
    total = doc.monetary_total
    row = dict(
        cufe=item.cufe,
        document_type=doc.document_type,
        environment=doc.environment,
        number=clip(doc.number, 40),
        prefix=clip(doc.prefix or "", 10),
        issuer_nit=clip(doc.supplier.nit, 20),
        issuer_dv=clip(doc.supplier.dv, 1),
        issuer_name=clip(doc.supplier.registration_name or doc.supplier.trade_name or "", 450),
        buyer_nit=clip(doc.customer.nit, 20),
        buyer_name=clip(doc.customer.registration_name or doc.customer.trade_name or "", 450),
        software_provider_nit=clip(doc.software_provider_nit, 20),
        issue_date=doc.issue_date,
        issued_at=doc.issued_at,
        due_date=doc.due_date,
        payment_means=doc.payment_means,
        currency=clip(doc.currency or "COP", 3),
        line_extension_amount=total.line_extension,
        tax_exclusive_amount=total.tax_exclusive if total.tax_exclusive is not None else Decimal(0),
        tax_inclusive_amount=total.tax_inclusive if total.tax_inclusive is not None else total.payable,
        payable_amount=total.payable,
        taxes=[_tax(t) for t in doc.tax_totals] + [_tax(t, withholding=True) for t in doc.withholdings],
        lines=[_line(line) for line in doc.lines],
        line_count=len(doc.lines),
        signed_xml_blob=keys["signed"],
        attached_blob=keys.get("container"),
        dian_response_blob=keys.get("answer"),
        pdf_blob=pdf_key,
        verdict=StoredVerdict(verdict.value),
        state=DocumentState.UNCONFIRMED if verdict is Verdict.UNCONFIRMED else DocumentState.VALIDATED,
        report=summary,
        mail_message_id=mail.id,
        referenced_cufe=referenced,
        referenced_document_id=referenced_id,
        order_reference=clip(doc.order_reference, 100) or None,
    )
    on_file = known.documents[item.cufe] = OnFile(
        None, keys["signed"], doc.supplier.nit, doc.customer.nit, verdict.value
    )
    known.filed_number(number_key(doc.supplier.nit, doc.document_type, doc.number), item.cufe, None)
    audit_data = {
        "mail_message_id": mail.id,
        "document_id": None,  # written by the flush, with the id
        "type": doc.document_type.value,
        "number": doc.number,
        "issuer_nit": doc.supplier.nit,
        "verdict": verdict.value,
        "referenced_cufe": referenced,
    }
    writes.filings.append(
        Filing(row, on_file, result, writes.reserve(), audit_data, item.orphan_notes, item.orphan_events)
    )
    writes.relink.add(item.cufe)
    if item.cufe in known.answers:  # DIAN's answer mailed before it: weighed (and now matched) with it
        matched = "confirma el documento" if report.dian_validated else "no prueba la validación"
        writes.filings[-1].loose_outcome = matched
    if referenced and referenced_id is None:
        writes.relink.add(referenced)
        known.waiting_notes.add(referenced)
    result.filed.append(item.cufe)


def _tax(total: TaxTotal, *, withholding: bool = False) -> dict[str, Any]:
    return {
        "scheme_id": total.scheme_id,
        "scheme_name": total.scheme_name,
        "amount": str(total.amount),
        "withholding": withholding,
        "subtotals": [
            {
                "scheme_id": sub.scheme_id,
                "amount": str(sub.amount),
                "taxable_amount": None if sub.taxable_amount is None else str(sub.taxable_amount),
                "percent": None if sub.percent is None else str(sub.percent),
            }
            for sub in total.subtotals
        ],
    }


def _line(line: Any) -> dict[str, Any]:
    return {
        "id": line.id,
        "quantity": str(line.quantity),
        "unit_code": line.unit_code,
        "description": line.description,
        "line_extension_amount": str(line.line_extension_amount),
        "unit_price": None if line.unit_price is None else str(line.unit_price),
    }
