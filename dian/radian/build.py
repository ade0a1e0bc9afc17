"""Build unsigned RADIAN events 035-051 (A.4-A.10) in the header, extension and signature shape of 030-034.

The value block goes in its own ext:UBLExtension after sts:DianExtensions and before the signature placeholder, so
the signature covers it (peers-wave2.md 1.5: a block after the signed slot "travels unsigned"). Every refusal is a
BuildError naming the field; nothing is half-built.
"""

from __future__ import annotations

import base64
from decimal import Decimal

from lxml import etree

from dian.codes import (
    DIAN_NIT,
    EVENT_DOCUMENT_TYPE,
    EndorsementKind,
    EventCode,
    MandateEvidence,
    MandateScope,
    Operation,
)
from dian.cufe import event_cude, software_security_code
from dian.errors import BuildError
from dian.radian import literals
from dian.radian.blocks import (
    EVENT_BLOCKS,
    Negotiation,
    PaymentRecord,
    Payments,
    RightsTransfer,
    TransferPayments,
    block_element,
    discounted_price,
)
from dian.radian.cude import blank_endorsement_cude
from dian.radian.model import LIST_IDS, Mandate, RadianEvent, Share, TitleReference
from dian.ubl import namespaces as ns

# The 030-034 builder's XML helpers: one spelling of the header, the DIAN extensions and the parties.
from dian.ubl.build import Software, qr_url
from dian.ubl.build.elements import check_time, serialize, sub
from dian.ubl.build.envelope import dian_extensions, header
from dian.ubl.build.parties import check_party, party_tax_scheme

__all__ = ["MAX_MANDATE_INVOICES", "build_radian_event", "radian_cude"]

E = EventCode
MAX_MANDATE_INVOICES = 20  # MAX_Attorney, LGC58 (A.8)

# Who receives (A.3): DIAN for these (041/042/044/051 "may be omitted"; Buzón always names it).
_TO_DIAN = frozenset(
    {
        E.AVAL,
        E.INSCRIPCION_TITULO,
        E.LIMITACION_CIRCULACION,
        E.TERMINACION_LIMITACION,
        E.TERMINACION_MANDATO,
        E.PAGO,
        E.PAGO_TRANSFERENCIA,
    }
)
# The receiver is another party than the sender: endorsee, assignee, cesionario (A.3, AAG04).
_TO_OTHER = frozenset(
    {E.ENDOSO_PROPIEDAD, E.ENDOSO_GARANTIA, E.ENDOSO_PROCURACION, E.CANCELACION_ENDOSO, E.ENDOSO_CESION}
    | {E.TRANSFERENCIA_DERECHOS, E.INFORME_PAGO, E.PROTESTO, E.NOTIFICACION_TRANSFERENCIA}
)
_ENDORSEMENTS = frozenset({E.ENDOSO_PROPIEDAD, E.ENDOSO_GARANTIA, E.ENDOSO_PROCURACION, E.ENDOSO_CESION})
_REFERENCE_EVENT = frozenset({E.CANCELACION_ENDOSO, E.TERMINACION_LIMITACION, E.TERMINACION_MANDATO})  # A.4
# ValidityPeriod/EndDate = invoice due date, checked by DIAN (AAH59) for these (A.4).
_NEEDS_DUE_DATE = frozenset(
    {E.INSCRIPCION_TITULO, E.PAGO, E.INFORME_PAGO, E.ENDOSO_CESION, E.PROTESTO, E.TRANSFERENCIA_DERECHOS}
    | {E.NOTIFICACION_TRANSFERENCIA, E.PAGO_TRANSFERENCIA, E.ENDOSO_PROPIEDAD, E.ENDOSO_GARANTIA, E.ENDOSO_PROCURACION}
)
# DocumentReference/IssuerParty names the debtor on these (A.4, AAH25b/AAH26b).
_NEEDS_DEBTOR = _ENDORSEMENTS | {E.TRANSFERENCIA_DERECHOS}
_SHARES_EQUAL_TOTAL = frozenset({E.ENDOSO_PROPIEDAD, E.ENDOSO_CESION, E.TRANSFERENCIA_DERECHOS})  # AAF19, AAG20
_DIRECT = frozenset({Operation.FIRST_REGISTRATION_DIRECT, Operation.LATER_REGISTRATION_DIRECT})
_GENERAL_MANDATES = frozenset({Operation.MANDATE_GENERAL_LIMITED_TIME, Operation.MANDATE_GENERAL_UNLIMITED_TIME})
_TIMED_MANDATES = frozenset({Operation.MANDATE_GENERAL_LIMITED_TIME, Operation.MANDATE_LIMITED_LIMITED_TIME})
_MANDATARIO_WORDS = literals.MANDATARIO_NOTE.split("{mandatario} ")[1].split(" {mandante}")[0]


def radian_cude(event: RadianEvent, software_pin: str) -> str:
    """The CUDE of an event 035-051: dian-facts.md 1.4, or the blank-endorsement formula of A.4."""
    common = {
        "number": event.number,
        "issue_date": event.issue_date,
        "issue_time": event.issue_time,
        "response_code": event.code.value,
        "document_number": event.reference.id,
        "document_type_code": event.reference.type_code,
        "software_pin": software_pin,
    }
    if event.blank:
        return blank_endorsement_cude(receiver_nit=event.receiver.nit, list_id=EndorsementKind.BLANK, **common)
    return event_cude(sender_nit=event.sender.nit, receiver_nit=event.receiver.nit, **common)


# --- checks ------------------------------------------------------------------------------------------------------


def _sum(shares: tuple[Share, ...], field: str) -> Decimal:
    total = Decimal(0)
    for index, share in enumerate(shares, start=1):
        if share.amount is None:
            raise BuildError(f"{field}[{index}].amount: CorporateStockAmount is required here (A.4)")
        total += share.amount
    return total


def _check_list_id(event: RadianEvent) -> None:
    code, list_id = event.code, event.list_id
    allowed = LIST_IDS.get(code)  # MANDATO's scope is checked first, against its mandate
    if code is E.MANDATO:
        if list_id not in (None, event.mandate.scope.value if event.mandate else None):
            raise BuildError(f"list_id: a 043 carries its mandate's scope as listID, got {list_id!r}")
        return
    if allowed is None:
        if list_id is not None:
            raise BuildError(f"list_id: event {code.value} carries no ResponseCode/@listID (A.4), got {list_id!r}")
        return
    if code in _ENDORSEMENTS and list_id is None:
        raise BuildError(f"list_id: event {code.value} says 1 (endoso completo) or 2 (endoso en blanco), A.4")
    if list_id is not None and list_id not in {member.value for member in allowed}:  # type: ignore[attr-defined]
        raise BuildError(f"list_id: {list_id!r} is not a listID of event {code.value} (A.4)")


def _check_block(event: RadianEvent) -> None:
    code, block = event.code, event.block
    kind = EVENT_BLOCKS.get(code)
    if kind is None:
        if block is not None:
            raise BuildError(f"block: event {code.value} carries no value block (A.4)")
        return
    if not isinstance(block, kind):
        raise BuildError(f"block: event {code.value} carries {kind.GROUP} (A.4), got {type(block).__name__}")
    block.pairs()  # formats every value, refusing bad ones
    if isinstance(block, Negotiation):
        if code in (E.ENDOSO_PROPIEDAD, E.ENDOSO_CESION) and not block.complete:
            raise BuildError(f"block: event {code.value} states price, rate and means of payment (AAI05-AAI09)")
        if code in (E.ENDOSO_GARANTIA, E.ENDOSO_PROCURACION) and block.price is not None:
            raise BuildError(f"block: event {code.value} carries only ValorTotalEndoso (A.6)")
        if block.complete:
            _check_price(block.total, block.price, block.discount_rate)  # type: ignore[arg-type]
    if isinstance(block, RightsTransfer):
        _check_price(block.value, block.price, block.discount_rate)
    if isinstance(block, PaymentRecord) and block.paid + block.new_value != block.title_value:
        raise BuildError(
            f"block: ValorPagado {block.paid} + NuevoValorTV {block.new_value} must equal ValorFEV-TV "
            f"{block.title_value} (A.5)"
        )
    if isinstance(block, Payments | TransferPayments):
        _check_payment(event, block)


def _check_price(value: Decimal, price: Decimal, rate: Decimal) -> None:
    expected = discounted_price(value, rate)
    if price != expected:
        raise BuildError(
            f"block.price: PrecioPagarseFEV must be {value} × (100 − {rate}) / 100 = {expected}, got {price} (AAI07b)"
        )


def _check_payment(event: RadianEvent, block: Payments | TransferPayments) -> None:
    paid = _sum(event.sender_shares, "sender_shares") if event.sender_shares else None
    if paid is None:
        raise BuildError("sender_shares: the payer's CorporateStockAmount states the amount paid (A.9)")
    total = event.operation in (Operation.TOTAL_PAYMENT, Operation.TRANSFER_TOTAL_PAYMENT)
    if paid > block.current_value:
        raise BuildError(f"sender_shares: paid {paid} exceeds ValorActualTituloValor {block.current_value} (AAF19b)")
    if total and paid != block.current_value:
        raise BuildError(f"sender_shares: a total payment pays {block.current_value}, got {paid} (AAF19c)")
    if not total and paid == block.current_value:
        raise BuildError(f"sender_shares: {paid} pays the whole value; send the total payment instead (AAF19d)")
    if block.pending_value != block.current_value - paid:
        raise BuildError(
            f"block.pending_value: ValorPendienteTituloValor must be {block.current_value - paid}, "
            f"got {block.pending_value} (AAK07)"
        )
    if event.effective_date is None:
        raise BuildError("effective_date: the payment date goes in Response/EffectiveDate (A.9)")


def _check_mandate(event: RadianEvent) -> None:
    mandate = event.mandate
    if event.code is not E.MANDATO:
        if mandate is not None:
            raise BuildError(f"mandate: only event 043 carries a mandate, not {event.code.value}")
        return
    if mandate is None:
        raise BuildError("mandate: event 043 states the mandate (A.8)")
    if not mandate.mandatario_nit.isdigit():
        raise BuildError(f"mandate.mandatario_nit: digits only, got {mandate.mandatario_nit!r}")
    if mandate.scope is MandateScope.ALL_INVOICES and mandate.invoices:
        raise BuildError("mandate.invoices: a mandate over all invoices (listID 3) lists none (A.8)")
    if mandate.scope is MandateScope.ONE_INVOICE and len(mandate.invoices) != 1:
        raise BuildError(f"mandate.invoices: listID 1 names exactly one invoice, got {len(mandate.invoices)}")
    if mandate.scope is MandateScope.SEVERAL_INVOICES and not 1 <= len(mandate.invoices) <= MAX_MANDATE_INVOICES:
        raise BuildError(
            f"mandate.invoices: listID 2 names 1 to {MAX_MANDATE_INVOICES} invoices (LGC58), "
            f"got {len(mandate.invoices)}"
        )
    for index, invoice in enumerate(mandate.invoices, start=1):
        if invoice.is_event or not invoice.uuid:
            raise BuildError(f"mandate.invoices[{index}]: an invoice with its CUFE (DocumentTypeCode 01)")
    if event.operation in _TIMED_MANDATES and (mandate.start_date is None or mandate.end_date is None):
        raise BuildError(f"mandate: a {event.operation.value} mandate has a start and an end date (A.8)")
    if event.operation not in _TIMED_MANDATES and mandate.end_date is not None:
        raise BuildError(f"mandate.end_date: a {event.operation.value} mandate is for unlimited time (A.8)")
    if mandate.start_date and mandate.end_date and mandate.end_date < mandate.start_date:
        raise BuildError(f"mandate.end_date: {mandate.end_date} is before the start {mandate.start_date}")
    if not mandate.powers:
        raise BuildError("mandate.powers: the mandate states its powers (A.8)")
    general = [p.split("-", 1)[0] == literals.MANDATE_GENERAL_POWER for p in mandate.powers]
    if event.operation in _GENERAL_MANDATES and not all(general):
        raise BuildError(
            f"mandate.powers: 431/432 use {literals.MANDATE_GENERAL_POWER}-<actor> (AAL02), got {mandate.powers}"
        )
    if event.operation not in _GENERAL_MANDATES and any(general):
        raise BuildError(
            f"mandate.powers: 433/434 are limited; {literals.MANDATE_GENERAL_POWER} is for 431/432 (AAL03)"
        )
    if mandate.evidence is MandateEvidence.EMBEDDED and not event.attachments:
        raise BuildError("attachments: schemeID 2 embeds the mandate contract as PDF (AAH84)")


def _check(event: RadianEvent, software: Software) -> None:
    code, operation = event.code, event.operation
    if code in (E.ACUSE_RECIBO, E.RECLAMO, E.RECIBO_BIEN, E.ACEPTACION_EXPRESA, E.ACEPTACION_TACITA):
        raise BuildError(f"operation: events 030-034 are built by dian.ubl.build, got {operation.value}")
    if not event.number:
        raise BuildError("number: the event's own consecutive is required (rule AAD05)")
    check_time(event.issue_time, "issue_time")
    for field, party in (("sender", event.sender), ("receiver", event.receiver)):
        check_party(party, field)
        if not party.dv:
            raise BuildError(f"{field}.dv: CompanyID/@schemeID carries the check digit (dian-facts.md 2.5)")
    if code in _TO_DIAN and event.receiver.nit != DIAN_NIT:
        raise BuildError(f"receiver: event {code.value} goes to DIAN (NIT {DIAN_NIT}), got {event.receiver.nit} (A.3)")
    if code in _TO_OTHER and event.receiver.nit == event.sender.nit:
        raise BuildError(f"receiver: event {code.value} goes to another party than its sender (AAG04)")
    _check_mandate(event)
    reference = event.reference
    if event.mandate is not None:
        first = _mandate_references(event, event.mandate)[:1]
        if (reference,) != first:
            raise BuildError(f"reference: a 043 references its first mandated invoice {first}, got {reference} (A.8)")
    elif not reference.id or not reference.uuid:
        raise BuildError("reference: the referenced document's number and CUFE/CUDE are required (A.4)")
    if (code in _REFERENCE_EVENT) != reference.is_event:
        wanted = (
            f"the event it ends (DocumentTypeCode {EVENT_DOCUMENT_TYPE})" if code in _REFERENCE_EVENT else "the invoice"
        )
        raise BuildError(f"reference: event {code.value} references {wanted} (A.4)")
    if code in _NEEDS_DUE_DATE and event.due_date is None:
        raise BuildError(f"due_date: event {code.value} states the invoice's due date in ValidityPeriod (AAH59)")
    if code in _NEEDS_DEBTOR and event.debtor is None:
        raise BuildError(f"debtor: event {code.value} names the debtor in DocumentReference/IssuerParty (A.4)")
    if event.debtor is not None:
        check_party(event.debtor, "debtor")
    if (operation in _DIRECT) != (event.counterpart is not None and code is E.INSCRIPCION_TITULO):
        if operation in _DIRECT:
            raise BuildError(f"counterpart: {operation.value} names the pre-agreed buyer (A.5 item 9)")
        if code is E.INSCRIPCION_TITULO:
            raise BuildError(f"counterpart: only 362/364 name a pre-agreed buyer, not {operation.value} (radiankore)")
    if event.counterpart is not None and code not in (E.INSCRIPCION_TITULO, E.AVAL):
        raise BuildError(f"counterpart: event {code.value} names no IssuerParty/PartyLegalEntity")
    if event.counterpart is not None and event.counterpart.nit == event.sender.nit:
        raise BuildError("counterpart: the pre-agreed or guaranteed party differs from the sender (AAM04)")
    _check_list_id(event)
    _check_block(event)
    if code in _SHARES_EQUAL_TOTAL and not event.blank:
        total = event.block.total if isinstance(event.block, Negotiation) else event.block.value  # type: ignore[union-attr]
        for field, shares in (("sender_shares", event.sender_shares), ("receiver_shares", event.receiver_shares)):
            if not shares:
                raise BuildError(f"{field}: event {code.value} lists each party with its CorporateStockAmount (A.4)")
            if _sum(shares, field) != total:
                raise BuildError(
                    f"{field}: the shares add up to {_sum(shares, field)}, not the total {total} (AAF19/AAG20)"
                )
    if operation is Operation.ENDORSEMENT_WITHOUT_RESPONSIBILITY and not event.notes:
        raise BuildError("notes: 372 declares the endorsement is 'sin mi responsabilidad' (A.6)")
    if operation is Operation.CANCEL_COLLECTION_ENDORSEMENT and not event.notes:
        raise BuildError("notes: 402 states the reasons for revoking the endorsement (AAD11a)")
    if code is E.PROTESTO and not event.attachments:
        raise BuildError("attachments: 048 embeds the protest certificate as PDF (AAI84)")
    if event.attachments and code not in (E.PROTESTO, E.MANDATO):
        raise BuildError(f"attachments: event {code.value} embeds no document")
    for index, attachment in enumerate(event.attachments, start=1):
        if not attachment.content.startswith(b"%PDF-"):
            raise BuildError(f"attachments[{index}]: {attachment.filename!r} is not a PDF (AAI84/AAH84)")
    if software.provider_nit not in (event.sender.nit, DIAN_NIT) and not any(
        _MANDATARIO_WORDS in note.upper() for note in event.notes
    ):
        raise BuildError(
            f"notes: software of NIT {software.provider_nit} sends for {event.sender.nit}: a note must say "
            f"'{literals.MANDATARIO_NOTE}' (A.3, AAD11)"
        )


# --- XML -----------------------------------------------------------------------------------------------------------


def _shares(parent: etree._Element, shares: tuple[Share, ...], currency: str) -> None:
    for share in shares:
        legal = sub(parent, "cac:PartyLegalEntity")
        sub(legal, "cbc:RegistrationName", share.registration_name)
        sub(
            legal,
            "cbc:CompanyID",
            share.nit,
            schemeAgencyID="195",
            schemeID=share.dv,
            schemeName=share.id_scheme,
        )
        if share.legal_form_code is not None:
            sub(legal, "cbc:CompanyLegalFormCode", share.legal_form_code)
        if share.amount is not None:
            sub(legal, "cbc:CorporateStockAmount", f"{share.amount.quantize(Decimal('0.01')):f}", currencyID=currency)


def _party(root: etree._Element, role: str, event: RadianEvent, shares: tuple[Share, ...]) -> etree._Element:
    element = sub(root, role)
    party_tax_scheme(element, event.sender if role == "cac:SenderParty" else event.receiver, with_address=False)
    _shares(element, shares, "COP")
    return element


def _power_of_attorney(
    parent: etree._Element, nit: str, dv: str | None, description: str, agent: str
) -> etree._Element:
    power = sub(parent, "cac:PowerOfAttorney")
    sub(power, "cbc:ID", nit, schemeAgencyID="195", schemeID=dv, schemeName="31" if dv else None)
    sub(power, "cbc:Description", description)
    agent_party = sub(power, "cac:AgentParty")
    sub(agent_party, "cac:PartyIdentification/cbc:ID", agent)
    return agent_party


def _reference(
    parent: etree._Element,
    reference: TitleReference,
    event: RadianEvent,
    *,
    period: tuple[object, object, str | None, str | None] | None = None,
    debtor: bool = False,
) -> None:
    element = sub(parent, "cac:DocumentReference")
    sub(element, "cbc:ID", reference.id)
    if reference.uuid:
        sub(element, "cbc:UUID", reference.uuid, schemeName=reference.uuid_scheme)
    sub(element, "cbc:DocumentTypeCode", reference.type_code)
    if period is not None:
        start, end, code, text = period
        if any(value is not None for value in period):
            validity = sub(element, "cac:ValidityPeriod")
            if start is not None:
                sub(validity, "cbc:StartDate", start.isoformat())  # type: ignore[attr-defined]
            if end is not None:
                sub(validity, "cbc:EndDate", end.isoformat())  # type: ignore[attr-defined]
            if code is not None:
                sub(validity, "cbc:DescriptionCode", code)
            if text is not None:
                sub(validity, "cbc:Description", text)
    if debtor and event.debtor is not None:
        party_tax_scheme(sub(element, "cac:IssuerParty"), event.debtor, with_address=False)


def _mandate_period(event: RadianEvent, mandate: Mandate) -> tuple[object, object, str, str]:
    timed = event.operation in _TIMED_MANDATES
    return (
        mandate.start_date,
        mandate.end_date,
        "1" if timed else "2",
        literals.MANDATE_PERIOD_LIMITED if timed else literals.MANDATE_PERIOD_UNLIMITED,
    )


def _mandate_references(event: RadianEvent, mandate: Mandate) -> tuple[TitleReference, ...]:
    if mandate.scope is MandateScope.ALL_INVOICES:
        return (TitleReference(literals.MANDATE_ALL_INVOICES_ID, None),)
    return mandate.invoices


def _attachments(block: etree._Element, event: RadianEvent) -> None:
    for index, attachment in enumerate(event.attachments, start=1):
        line = sub(block, "cac:LineResponse")
        reference = sub(line, "cac:LineReference")
        sub(reference, "cbc:LineID", str(index))
        document = sub(reference, "cac:DocumentReference")
        sub(document, "cbc:ID", attachment.filename)
        sub(
            document,
            "cac:Attachment/cbc:EmbeddedDocumentBinaryObject",
            base64.b64encode(attachment.content).decode("ascii"),
            mimeCode=literals.ATTACHMENT_MIME,
            filename=attachment.filename,
        )
        sub(line, "cac:Response/cbc:ResponseCode", event.code.value)


def build_radian_event(event: RadianEvent, *, software: Software) -> bytes:
    """Build an unsigned ApplicationResponse for an event 035-051 with its CUDE (A.4), ready for dian.xades.sign."""
    _check(event, software)
    cude = radian_cude(event, software.pin)
    root = etree.Element(
        f"{{{ns.APPLICATION_RESPONSE}}}ApplicationResponse", nsmap={None: ns.APPLICATION_RESPONSE, **ns.NSMAP}
    )
    dian_extensions(
        root,
        provider_nit=software.provider_nit,
        provider_dv=software.provider_dv,
        software_id=software.software_id,
        security_code=software_security_code(software.software_id, software.pin, event.number),
        # [?] The QR names the referenced document's key: the invoice's CUFE, or for 040/042/044 the ended event's
        # CUDE (dian-facts.md 2.5 shows only the invoice case).
        qr_code=qr_url(event.reference.uuid or "", event.environment),
    )
    if event.block is not None:
        extensions = root[0]
        slot = etree.Element(ns.clark("ext:UBLExtension"))
        etree.SubElement(slot, ns.clark("ext:ExtensionContent")).append(block_element(event.block))
        extensions.insert(len(extensions) - 1, slot)  # before the signature placeholder
    header(root, event.operation.value, literals.PROFILE_ID, event.environment, event.number)
    if event.mandate is not None:
        root.find(ns.clark("cbc:CustomizationID")).set("schemeID", event.mandate.evidence.value)  # type: ignore[union-attr]
    sub(root, "cbc:UUID", cude, schemeID=event.environment.value, schemeName="CUDE-SHA384")
    sub(root, "cbc:IssueDate", event.issue_date.isoformat())
    sub(root, "cbc:IssueTime", event.issue_time)
    for note in event.notes:
        sub(root, "cbc:Note", note)
    sender = _party(root, "cac:SenderParty", event, event.sender_shares)
    mandate = event.mandate
    if mandate is not None:
        _power_of_attorney(
            sender, event.sender.nit, event.sender.dv, mandate.mandante_type.description, mandate.mandante_type.value
        )
    _party(root, "cac:ReceiverParty", event, event.receiver_shares)

    block = sub(root, "cac:DocumentResponse")
    response = sub(block, "cac:Response")
    list_id = mandate.scope.value if mandate is not None else event.list_id
    sub(response, "cbc:ResponseCode", event.code.value, listID=list_id)
    sub(response, "cbc:Description", event.code.label)
    if event.effective_date is not None:
        sub(response, "cbc:EffectiveDate", event.effective_date.isoformat())
    if mandate is not None:
        references = _mandate_references(event, mandate)
        for reference in references:
            _reference(block, reference, event, period=_mandate_period(event, mandate))
        agent = _power_of_attorney(
            sub(block, "cac:IssuerParty"),
            mandate.mandatario_nit,
            mandate.mandatario_dv,
            mandate.mandatario_type.description,
            mandate.mandatario_type.value,
        )
        person = mandate.representative
        if person is not None:
            element = sub(agent, "cac:Person")
            sub(element, "cbc:ID", person.id, schemeID=person.dv, schemeName=person.id_type)
            sub(element, "cbc:FirstName", person.first_name)
            sub(element, "cbc:FamilyName", person.family_name)
            if person.job_title is not None:
                sub(element, "cbc:JobTitle", person.job_title)
            if person.department is not None:
                sub(element, "cbc:OrganizationDepartment", person.department)
    else:
        period = (None, event.due_date, None, None) if event.due_date is not None else None
        _reference(block, event.reference, event, period=period, debtor=True)
        if event.counterpart is not None:
            issuer = sub(block, "cac:IssuerParty")
            _shares(issuer, (event.counterpart,), "COP")
    _attachments(block, event)
    if mandate is not None:
        # The powers: one more DocumentResponse whose DocumentReferences mirror the first (AAL02/AAL03/AAL05/AAL07).
        powers = sub(root, "cac:DocumentResponse")
        answer = sub(powers, "cac:Response")
        sub(answer, "cbc:ResponseCode", ";".join(mandate.powers))
        general = event.operation in _GENERAL_MANDATES
        sub(answer, "cbc:Description", literals.MANDATE_POWERS_GENERAL if general else literals.MANDATE_POWERS_LIMITED)
        for reference in _mandate_references(event, mandate):
            _reference(powers, reference, event)
    return serialize(root)
