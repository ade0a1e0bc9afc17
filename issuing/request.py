"""One request to issue: the native payload plus the numbering the ERP may choose (``number``, ``prefix``,
``resolution_number``, which must fall in a range read from DIAN), and the digest that tells a retried request from
a different one under the same idempotency key."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from issuing.payload import Payload
from issuing.problems import PayloadError, Problem
from issuing.validation import read_payload

__all__ = ["NUMBERING_FIELDS", "IssueRequest", "digest", "read_request", "require_request"]

NUMBERING_FIELDS = ("number", "prefix", "resolution_number")
_PREFIX = re.compile(r"^[A-Z0-9]{0,4}$")  # DIAN prefixes: up to four letters or digits (SETP, FE, FV1…)
_RESOLUTION = re.compile(r"^[0-9]{1,20}$")


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def digest(data: Mapping[str, Any]) -> str:
    """SHA-256 of the request's canonical JSON (keys sorted): the same request always gives the same digest."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_plain)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class IssueRequest:
    """A payload to issue, the numbering the caller chose (None: Buzón takes the next consecutive), and the JSON as
    sent (kept with the document and digested for idempotency)."""

    payload: Payload
    data: Mapping[str, Any]
    number: int | None = None
    prefix: str | None = None
    resolution_number: str | None = None

    @property
    def digest(self) -> str:
        return digest(self.data)

    def json_data(self) -> dict[str, Any]:
        """The request as JSON-ready data (Decimals as strings), for the database."""
        return json.loads(json.dumps(self.data, ensure_ascii=False, default=_plain))


def _numbering(data: Mapping[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    found: dict[str, Any] = {}
    problems = []
    number = data.get("number")
    if number is not None:
        text = str(number) if isinstance(number, int | str) and not isinstance(number, bool) else ""
        if not (text.isascii() and text.isdigit() and 0 < len(text) <= 15):
            problems.append(Problem("/number", "el consecutivo es un entero positivo (sin prefijo), hasta 15 dígitos"))
        else:
            found["number"] = int(text)
    prefix = data.get("prefix")
    if prefix is not None:
        if not isinstance(prefix, str) or not _PREFIX.match(prefix):
            problems.append(Problem("/prefix", "el prefijo tiene hasta 4 letras mayúsculas o dígitos (el de la DIAN)"))
        else:
            found["prefix"] = prefix
    resolution = data.get("resolution_number")
    if resolution is not None:
        text = str(resolution) if isinstance(resolution, int | str) and not isinstance(resolution, bool) else ""
        if not _RESOLUTION.match(text):
            problems.append(Problem("/resolution_number", "el número de resolución son dígitos (hasta 20)"))
        else:
            found["resolution_number"] = text
    return found, problems


def read_request(data: object) -> tuple[IssueRequest | None, tuple[Problem, ...]]:
    """Read a native request (the payload plus optional ``number``/``prefix``/``resolution_number``): every problem at
    once, never raises."""
    if not isinstance(data, Mapping):
        return None, (Problem("", "se esperaba un objeto JSON con el documento"),)
    numbering, problems = _numbering(data)
    rest = {key: value for key, value in data.items() if key not in NUMBERING_FIELDS}
    payload, payload_problems = read_payload(rest)
    problems.extend(payload_problems)
    if numbering and payload is not None and not payload.type.is_invoice and "resolution_number" in numbering:
        problems.append(Problem("/resolution_number", "las notas se numeran en la serie propia, sin resolución"))
    if problems or payload is None:
        return None, tuple(problems)
    return IssueRequest(payload=payload, data=dict(data), **numbering), ()


def require_request(data: object) -> IssueRequest:
    """Like :func:`read_request`, raising PayloadError with every problem."""
    request, problems = read_request(data)
    if request is None:
        raise PayloadError(problems)
    return request
