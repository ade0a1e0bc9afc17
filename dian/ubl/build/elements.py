"""Writing UBL elements: a root with every prefix declared, children by 'cac:A/cbc:B' path, decimal and money text,
the serialized bytes, and the check of an issue time."""

from __future__ import annotations

import functools
import re
from decimal import Decimal

from lxml import etree

from dian.cufe import format_amount
from dian.errors import BuildError
from dian.ubl import namespaces as ns

_DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>'
AGENCY_ID = "195"
AGENCY_NAME = "CO, DIAN (Dirección de Impuestos y Aduanas Nacionales)"
_ISSUE_TIME = re.compile(r"^\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")


def new_root(local: str) -> etree._Element:
    namespace = ns.ROOT_NAMESPACES[local]
    return etree.Element(f"{{{namespace}}}{local}", nsmap={None: namespace, **ns.NSMAP})


@functools.cache
def _steps(path: str) -> tuple[str, ...]:
    # The Clark names of a 'cac:A/cbc:B' path, resolved once per distinct path (a document has a few dozen).
    return tuple(ns.clark(path).split("/"))


def sub(parent: etree._Element, path: str, text: str | None = None, **attributes: str | None) -> etree._Element:
    """Append the element(s) of a 'cac:A/cbc:B' path, set the last one's text and non-None attributes."""
    element = parent
    for step in _steps(path):
        element = etree.SubElement(element, step)
    return _fill(element, text, attributes)


def sts(parent: etree._Element, local: str, text: str | None = None, **attributes: str | None) -> etree._Element:
    return _fill(etree.SubElement(parent, f"{{{ns.STS}}}{local}"), text, attributes)


def _fill(element: etree._Element, text: str | None, attributes: dict[str, str | None]) -> etree._Element:
    """Set an element's text and its attributes that are not None."""
    if text is not None:
        element.text = text
    for name, value in attributes.items():
        if value is not None:
            element.set(name, value)
    return element


def number(value: Decimal) -> str:
    return format(value, "f")


def money(value: Decimal, field: str) -> str:
    """An amount that enters the CUFE: at most 2 decimals, written with exactly 2 (dian-facts.md 1.1)."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise BuildError(f"{field}: expected a finite Decimal, got {value!r}")
    if value != value.quantize(Decimal("0.01")):
        raise BuildError(f"{field}: {value} has more than 2 decimals; the CUFE takes exactly 2 (dian-facts.md 1.1)")
    return format_amount(value)


def serialize(root: etree._Element) -> bytes:
    return _DECLARATION + etree.tostring(root, encoding="UTF-8", xml_declaration=False)


def check_time(value: str, field: str) -> None:
    if not _ISSUE_TIME.match(value):
        raise BuildError(f"{field}: expected HH:MM:SS-05:00 (the offset enters the CUFE/CUDE), got {value!r}")
