"""The columns every freshly signed document of ours writes into its OutboundDocument row (issuing/service.py for
invoices and notes, issuing/support_service.py for the documento soporte): number, key, totals, range, the signed
bytes' blob and the outbox's first attempt. Who the counterpart is, the report and the contingency are the callers'."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from dian.codes import PaymentMeans
from issuing.document import BOGOTA
from store.models import OutboundDocument, OutboundState

__all__ = ["signed_columns"]


def signed_columns(ctx: Any, document: Any, request: Any, *, range_id: int, consecutive: int, prefix: str,
                   now: dt.datetime, actor: str, reference: OutboundDocument | None) -> dict[str, Any]:  # fmt: skip
    """OutboundDocument's columns for ``document`` (IssuedDocument or IssuedSupport, signed at ``now``) issued from
    ``request`` (its ``payload`` and ``json_data()``); stores the signed bytes in ``ctx.blobs``."""
    payload, totals = request.payload, document.totals
    return dict(
        environment=ctx.environment, prefix=prefix, number=document.number, cufe=document.uuid, issued_at=now,
        currency=payload.currency, payable_amount=totals.payable, state=OutboundState.SIGNED,
        xml_blob=ctx.blobs.put(document.xml), origin="issued", issue_date=now.astimezone(BOGOTA).date(),
        due_date=payload.payment.due_date, payment_means=PaymentMeans(payload.payment.form), signed_at=now,
        range_id=range_id, consecutive=consecutive, payload=request.json_data(),
        line_extension_amount=totals.line_extension, tax_exclusive_amount=totals.tax_exclusive,
        tax_inclusive_amount=totals.tax_inclusive, allowance_total_amount=totals.allowance_total,
        charge_total_amount=totals.charge_total,
        withholding_amount=sum((group.amount for group in totals.withholdings), Decimal(0)),
        qr_text=document.qr_text, file_name=document.file_name,
        reference_id=reference.id if reference is not None else None,
        reference_cufe=payload.reference.uuid if payload.reference is not None else None,
        attempts=0, actor=actor,
    )  # fmt: skip
