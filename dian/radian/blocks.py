"""The value blocks of events 035-051: ``CustomTagGeneral/<Group>`` with alternating Name/Value pairs (A.4).

DIAN reads the values positionally (``InformacionNegociacion/Value[1]`` = ValorTotalEndoso) and, per TS-annex, rejects
on the Name literal, so each block writes its names in the annex order and never reorders them. Money is Decimal with
at most 2 decimals; a rate (TasaDescuento, FactordeDescuento) is a percent with at most 7 decimals (radiankore).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import ROUND_HALF_UP, Decimal
from typing import ClassVar

from lxml import etree

from dian.codes import EventCode
from dian.errors import BuildError, ParseError
from dian.radian.literals import VALUE_BLOCK_NAMESPACE, VALUE_BLOCK_ROOT

__all__ = [
    "EVENT_BLOCKS",
    "Guarantee",
    "Limitation",
    "LimitationEnd",
    "Negotiation",
    "PaymentRecord",
    "PaymentReport",
    "Payments",
    "Protest",
    "RightsTransfer",
    "TransferNotice",
    "TransferPayments",
    "ValueBlock",
    "block_element",
    "block_fields",
    "discounted_price",
    "read_block",
]

_CENT = Decimal("0.01")
RATE_PLACES = 7  # the decimals a rate may carry in a value block
_MONEY, _RATE, _CODE = "money", "rate", "code"
_DECIMAL = re.compile(r"^[0-9]+(?:\.[0-9]+)?$")


def discounted_price(value: Decimal, rate: Decimal) -> Decimal:
    """PrecioPagarseFEV = value × (100 − rate) / 100, to the cent (A.6 rule AAI07b; A.10 for 049).

    The annex gives the formula, not the rounding; half-up to the cent is what a treasurer expects [?].
    """
    return (value * (Decimal(100) - rate) / Decimal(100)).quantize(_CENT, rounding=ROUND_HALF_UP)


class ValueBlock:
    """Base of the typed blocks: ``GROUP`` is the element name, ``NAMES`` the DIAN Name of each field in order."""

    GROUP: ClassVar[str]
    NAMES: ClassVar[tuple[tuple[str, str, str], ...]]  # (DIAN Name, attribute, kind)
    REQUIRED: ClassVar[int]  # how many leading names must be present

    def pairs(self) -> tuple[tuple[str, str], ...]:
        """The (Name, Value) pairs to write, in annex order, stopping at the first absent optional value."""
        out: list[tuple[str, str]] = []
        for position, (name, attribute, kind) in enumerate(self.NAMES):
            value = getattr(self, attribute)
            if value is None:
                if position < self.REQUIRED:
                    raise BuildError(f"{self.GROUP}.{name}: required")
                break
            out.append((name, _format(value, kind, f"{self.GROUP}.{name}")))
        return tuple(out)

    @classmethod
    def from_pairs(cls, pairs: Mapping[str, str], where: str) -> ValueBlock:
        """Read a block from its Name -> Value text; a missing required name or an unreadable number is a ParseError."""
        values: dict[str, object] = {}
        for position, (name, attribute, kind) in enumerate(cls.NAMES):
            text = pairs.get(name)
            if text is None or not text.strip():
                if position < cls.REQUIRED:
                    raise ParseError(f"al bloque de valores {cls.GROUP} le falta {name}", where=f"{where}/{cls.GROUP}")
                values[attribute] = None
                continue
            values[attribute] = _read(text.strip(), kind, f"{where}/{cls.GROUP}/{name}")
        return cls(**values)


def _format(value: object, kind: str, field: str) -> str:
    if kind == _CODE:
        if not isinstance(value, str) or not value.strip():
            raise BuildError(f"{field}: expected a non-empty code, got {value!r}")
        return value.strip()
    if not isinstance(value, Decimal) or not value.is_finite():
        raise BuildError(f"{field}: expected a finite Decimal, got {value!r}")
    if value < 0:
        raise BuildError(f"{field}: {value} is negative")
    if kind == _MONEY:
        if value != value.quantize(_CENT):
            raise BuildError(f"{field}: {value} has more than 2 decimals")
        return f"{value.quantize(_CENT):f}"
    if value > 100:
        raise BuildError(f"{field}: {value} is a percent above 100")
    if value.as_tuple().exponent < -RATE_PLACES:  # type: ignore[operator]
        raise BuildError(f"{field}: {value} has more than {RATE_PLACES} decimals")
    return f"{value:f}"


def _read(text: str, kind: str, where: str) -> object:
    if kind == _CODE:
        return text
    # [0-9], never \d or Decimal() alone: both read Unicode digits (see dian/ubl/parse/values.py).
    if not _DECIMAL.match(text):
        raise ParseError(f"no es un número decimal no negativo: {text!r}", where=where)
    return Decimal(text)


@dataclass(frozen=True)
class Negotiation(ValueBlock):
    """InformacionNegociacion of 037/038/039/047 (A.4, A.6): 038/039 carry only the total (TS-annex, radiankore)."""

    GROUP: ClassVar[str] = "InformacionNegociacion"
    NAMES: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("ValorTotalEndoso", "total", _MONEY),
        ("PrecioPagarseFEV", "price", _MONEY),
        ("TasaDescuento", "discount_rate", _RATE),
        ("MedioPago", "payment_means_code", _CODE),
    )
    REQUIRED: ClassVar[int] = 1

    total: Decimal
    price: Decimal | None = None
    discount_rate: Decimal | None = None
    payment_means_code: str | None = None  # a PaymentMeansCode; 47 in HGInet and Dispapeles

    @classmethod
    def for_rate(cls, total: Decimal, discount_rate: Decimal, payment_means_code: str = "47") -> Negotiation:
        """The terms of a sale of the title: the price follows from the rate (AAI07b)."""
        return cls(total, discounted_price(total, discount_rate), discount_rate, payment_means_code)

    @property
    def complete(self) -> bool:
        """True when price, rate and means are all given, as 037 and 047 need (AAI05/AAI07a/AAI09)."""
        return None not in (self.price, self.discount_rate, self.payment_means_code)


@dataclass(frozen=True)
class RightsTransfer(ValueBlock):
    """InformacionTransferenciaDerechos of 049 (A.4, A.10): the price formula of 037 on FactordeDescuento."""

    GROUP: ClassVar[str] = "InformacionTransferenciaDerechos"
    NAMES: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("ValorTransferenciaDerechos", "value", _MONEY),
        ("PrecioPagarseFEV", "price", _MONEY),
        ("FactordeDescuento", "discount_rate", _RATE),
        ("MedioPago", "payment_means_code", _CODE),
    )
    REQUIRED: ClassVar[int] = 4

    value: Decimal
    price: Decimal
    discount_rate: Decimal
    payment_means_code: str


@dataclass(frozen=True)
class PaymentRecord(ValueBlock):
    """ConstanciadePagos of 036 (A.5): the title value, what was paid and the new value (paid + new = value)."""

    GROUP: ClassVar[str] = "ConstanciadePagos"
    NAMES: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("ValorFEV-TV", "title_value", _MONEY),
        ("ValorPagado", "paid", _MONEY),
        ("NuevoValorTV", "new_value", _MONEY),
    )
    REQUIRED: ClassVar[int] = 3

    title_value: Decimal
    paid: Decimal
    new_value: Decimal


@dataclass(frozen=True)
class Payments(ValueBlock):
    """InformacionPagos of 045 (A.9): the title's value before the payment and what remains after it."""

    GROUP: ClassVar[str] = "InformacionPagos"
    NAMES: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("ValorActualTituloValor", "current_value", _MONEY),
        ("ValorPendienteTituloValor", "pending_value", _MONEY),
    )
    REQUIRED: ClassVar[int] = 2

    current_value: Decimal
    pending_value: Decimal


@dataclass(frozen=True)
class TransferPayments(ValueBlock):
    """InformacionPagoTransferencia of 051 (A.10, AAK07): the same two values as 045."""

    GROUP: ClassVar[str] = "InformacionPagoTransferencia"
    NAMES: ClassVar[tuple[tuple[str, str, str], ...]] = Payments.NAMES
    REQUIRED: ClassVar[int] = 2

    current_value: Decimal
    pending_value: Decimal


@dataclass(frozen=True)
class PaymentReport(ValueBlock):
    """InformacionParaelPago of 046 (A.9)."""

    GROUP: ClassVar[str] = "InformacionParaelPago"
    NAMES: ClassVar[tuple[tuple[str, str, str], ...]] = (("ValorFEV-TV", "title_value", _MONEY),)
    REQUIRED: ClassVar[int] = 1

    title_value: Decimal


@dataclass(frozen=True)
class TransferNotice(ValueBlock):
    """NotificacionPagoDeudor of 050 (A.4, Odoo only [1])."""

    GROUP: ClassVar[str] = "NotificacionPagoDeudor"
    NAMES: ClassVar[tuple[tuple[str, str, str], ...]] = (("ValorFEV-TV", "title_value", _MONEY),)
    REQUIRED: ClassVar[int] = 1

    title_value: Decimal


@dataclass(frozen=True)
class Guarantee(ValueBlock):
    """InformacionAvalar of 035 (A.4, A.7): the amount the avalista backs."""

    GROUP: ClassVar[str] = "InformacionAvalar"
    NAMES: ClassVar[tuple[tuple[str, str, str], ...]] = (("ValorFEVavala", "amount", _MONEY),)
    REQUIRED: ClassVar[int] = 1

    amount: Decimal


@dataclass(frozen=True)
class Limitation(ValueBlock):
    """InformacionMedidaCautelar of 041 (A.4): the amount of the precautionary measure."""

    GROUP: ClassVar[str] = "InformacionMedidaCautelar"
    NAMES: ClassVar[tuple[tuple[str, str, str], ...]] = (("MontoMedidaCautelar", "amount", _MONEY),)
    REQUIRED: ClassVar[int] = 1

    amount: Decimal


@dataclass(frozen=True)
class LimitationEnd(ValueBlock):
    """InformacionMedidaCautelar of 042 (A.4, Odoo only [1]): the debt and the limited value."""

    GROUP: ClassVar[str] = "InformacionMedidaCautelar"
    NAMES: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("ValorDeuda", "debt", _MONEY),
        ("ValorLimitación", "limited_value", _MONEY),
    )
    REQUIRED: ClassVar[int] = 2

    debt: Decimal
    limited_value: Decimal


@dataclass(frozen=True)
class Protest(ValueBlock):
    """InformacionProtesto of 048 (A.4, A.10; AAZD05/07/09)."""

    GROUP: ClassVar[str] = "InformacionProtesto"
    NAMES: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("ValorFEV-TV", "title_value", _MONEY),
        ("ValorAceptado", "accepted_value", _MONEY),
        ("ValorPendiente", "pending_value", _MONEY),
    )
    REQUIRED: ClassVar[int] = 3

    title_value: Decimal
    accepted_value: Decimal
    pending_value: Decimal


E = EventCode
EVENT_BLOCKS: Mapping[EventCode, type[ValueBlock]] = {
    E.AVAL: Guarantee,
    E.INSCRIPCION_TITULO: PaymentRecord,
    E.ENDOSO_PROPIEDAD: Negotiation,
    E.ENDOSO_GARANTIA: Negotiation,
    E.ENDOSO_PROCURACION: Negotiation,
    E.LIMITACION_CIRCULACION: Limitation,
    E.TERMINACION_LIMITACION: LimitationEnd,
    E.PAGO: Payments,
    E.INFORME_PAGO: PaymentReport,
    E.ENDOSO_CESION: Negotiation,
    E.PROTESTO: Protest,
    E.TRANSFERENCIA_DERECHOS: RightsTransfer,
    E.NOTIFICACION_TRANSFERENCIA: TransferNotice,
    E.PAGO_TRANSFERENCIA: TransferPayments,
}
"""The block each event carries (A.4); 040, 043 and 044 carry none."""


def _q(local: str) -> str:
    return f"{{{VALUE_BLOCK_NAMESPACE}}}{local}"


def block_element(block: ValueBlock) -> etree._Element:
    """``CustomTagGeneral/<Group>`` with the block's Name/Value pairs, to put in an ext:ExtensionContent (A.4)."""
    root = etree.Element(_q(VALUE_BLOCK_ROOT))
    group = etree.SubElement(root, _q(block.GROUP))
    for name, value in block.pairs():
        etree.SubElement(group, _q("Name")).text = name
        etree.SubElement(group, _q("Value")).text = value
    return root


def read_block(content: etree._Element, code: EventCode, where: str) -> ValueBlock | None:
    """The block of event ``code`` inside one ext:ExtensionContent, or None when it holds none.

    The block is found by local name, in the value-block namespace or in none (the examples use no prefix, A.4).
    """
    kind = EVENT_BLOCKS.get(code)
    for wrapper in content:
        if not isinstance(wrapper.tag, str) or etree.QName(wrapper).localname != VALUE_BLOCK_ROOT:
            continue
        for group in wrapper:
            if not isinstance(group.tag, str):
                continue
            name = etree.QName(group).localname
            if kind is None or name != kind.GROUP:
                raise ParseError(
                    f"el bloque de valores {name} no corresponde al evento {code.value}",
                    where=f"{where}/{VALUE_BLOCK_ROOT}/{name}",
                )
            return kind.from_pairs(_pairs(group, f"{where}/{VALUE_BLOCK_ROOT}"), f"{where}/{VALUE_BLOCK_ROOT}")
    return None


def _pairs(group: etree._Element, where: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    pending: str | None = None
    for child in group:
        if not isinstance(child.tag, str):
            continue
        local = etree.QName(child).localname
        text = (child.text or "").strip()
        if local == "Name":
            pending = text
        elif local == "Value" and pending is not None:
            if pending in pairs:
                raise ParseError(f"el bloque de valores {etree.QName(group).localname} repite {pending}", where=where)
            pairs[pending] = text
            pending = None
    return pairs


def block_fields(block: ValueBlock) -> dict[str, object]:
    """The block's typed fields by attribute name (for display and tests)."""
    return {f.name: getattr(block, f.name) for f in fields(block)}  # type: ignore[arg-type]
