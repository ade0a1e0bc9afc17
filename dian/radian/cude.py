"""The CUDE of a blank endorsement, the one exception to the event CUDE of dian-facts.md 1.4 (A.4).

Every other event 035-051 uses ``dian.cufe.event_cude`` unchanged.
"""

from __future__ import annotations

from datetime import date

from dian.cufe import sha384_hex

__all__ = ["blank_endorsement_cude", "blank_endorsement_cude_input"]


def blank_endorsement_cude_input(
    *,
    number: str,
    issue_date: date,
    issue_time: str,
    receiver_nit: str,
    response_code: str,
    list_id: str,
    document_number: str,
    document_type_code: str,
    software_pin: str,
) -> str:
    """Return the text hashed into the CUDE of a 037/038/039 with ResponseCode/@listID 2 (A.4).

    DIAN's ``ValidateCufe`` (document type 96) and HGInet agree: no sender NIT, and the listID right after the code:
    Num_DE + Fec + Hor + DocAdq + ResponseCode + listID + ID + DocumentTypeCode + PIN.
    """
    return (
        number
        + issue_date.isoformat()
        + issue_time
        + receiver_nit
        + response_code
        + list_id
        + document_number
        + document_type_code
        + software_pin
    )


def blank_endorsement_cude(
    *,
    number: str,
    issue_date: date,
    issue_time: str,
    receiver_nit: str,
    response_code: str,
    list_id: str,
    document_number: str,
    document_type_code: str,
    software_pin: str,
) -> str:
    """Return the SHA-384 hex CUDE of a blank endorsement (A.4)."""
    return sha384_hex(
        blank_endorsement_cude_input(
            number=number,
            issue_date=issue_date,
            issue_time=issue_time,
            receiver_nit=receiver_nit,
            response_code=response_code,
            list_id=list_id,
            document_number=document_number,
            document_type_code=document_type_code,
            software_pin=software_pin,
        )
    )
