"""What a clerk (or a job) asks to send as the buyer — an event code and what that code needs — its stored form (an
approval keeps it), its own checks before any rule or number, and the refusals of an emission."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dian.codes import ClaimReason, EventCode
from dian.errors import DianError
from dian.ubl import Person

# Ours to send as the buyer (034 is the seller's; 035-051 belong to RADIAN).
BUYER_EVENTS = (EventCode.ACUSE_RECIBO, EventCode.RECLAMO, EventCode.RECIBO_BIEN, EventCode.ACEPTACION_EXPRESA)
_WITH_PERSON = (EventCode.ACUSE_RECIBO, EventCode.RECIBO_BIEN)


class EventRefused(DianError):
    """The event may not be sent now; ``reason`` is a Spanish sentence a clerk can act on."""

    def __init__(self, reason: str, rule: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.rule = rule


class ApprovalPending(EventRefused):
    """Not signed: four-eyes holds it until a second user approves (events/approvals.py). The request is kept."""

    def __init__(self, reason: str, approval_id: int) -> None:
        super().__init__(reason)
        self.approval_id = approval_id


@dataclass(frozen=True)
class EventRequest:
    """What a clerk (or a job) asks for: the code, and what that code needs."""

    code: EventCode
    person: Person | None = None  # 030 and 032: who received
    claim_reason: ClaimReason | None = None  # 031
    note: str | None = None  # 031: the clerk's explanation, sent as cbc:Note

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", EventCode(self.code))
        if self.claim_reason is not None:
            object.__setattr__(self, "claim_reason", ClaimReason(self.claim_reason))


def request_dict(request: EventRequest) -> dict[str, Any]:
    """The exact request, as an approval keeps it (``request_of`` reads it back)."""
    return {
        "code": request.code.value,
        "person": person_dict(request.person),
        "claim_reason": request.claim_reason.value if request.claim_reason else None,
        "note": request.note,
    }


def request_of(data: dict[str, Any]) -> EventRequest:
    person = data.get("person")
    return EventRequest(
        code=EventCode(data["code"]),
        person=Person(**{k: v for k, v in person.items() if v is not None}) if person else None,
        claim_reason=data.get("claim_reason"),  # type: ignore[arg-type]
        note=data.get("note"),
    )


def person_dict(person: Person | None) -> dict[str, Any] | None:
    if person is None:
        return None
    return {
        "id_type": person.id_type,
        "id": person.id,
        "first_name": person.first_name,
        "family_name": person.family_name,
        "job_title": person.job_title,
        "department": person.department,
    }


def check_request(request: EventRequest, default_person: Person | None) -> Person | None:
    if request.code not in BUYER_EVENTS:
        raise EventRefused(
            f"Buzón envía como comprador los eventos 030, 031, 032 y 033; el {request.code.value} no es del comprador."
        )
    person = request.person
    if request.code in _WITH_PERSON:
        person = person or default_person
        if person is None:
            raise EventRefused(
                f"El evento {request.code.value} identifica a la persona que recibe: indique su documento y nombre."
            )
        if not person.id.strip() or not person.first_name.strip() or not person.family_name.strip():
            raise EventRefused("La persona que recibe necesita número de documento, nombres y apellidos.")
    elif person is not None:
        raise EventRefused(f"El evento {request.code.value} no lleva la persona que recibe.")
    if request.code is EventCode.RECLAMO and request.claim_reason is None:
        raise EventRefused("El reclamo (031) necesita el motivo: 01, 02, 03 o 04.")
    if request.code is not EventCode.RECLAMO and (request.claim_reason is not None or request.note):
        raise EventRefused("Solo el reclamo (031) lleva motivo y nota.")
    return person
