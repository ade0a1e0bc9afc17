"""NIT check digit (dígito de verificación), DIAN's modulo-11 algorithm with its fixed prime weights."""

from __future__ import annotations

_WEIGHTS = (3, 7, 13, 17, 19, 23, 29, 37, 41, 43, 47, 53, 59, 67, 71)


def nit_digits(value: str | None) -> str:
    """The ASCII digits of a NIT before any DV separator: "900123456-7", "900.123.456" and "NIT 900123456" alike."""
    return "".join(c for c in (value or "").split("-")[0] if c in "0123456789")


def same_nit(a: str | None, b: str | None) -> bool:
    """True when two NITs, written with or without DV, dots or words, name the same party."""
    digits = nit_digits(a)
    return bool(digits) and digits == nit_digits(b)


def check_digit(nit: str) -> str:
    """The DV of a NIT given as digits only (no DV, no dots)."""
    if not nit.isdigit() or len(nit) > len(_WEIGHTS):
        raise ValueError(f"a NIT is 1 to 15 digits, got {nit!r}")
    total = sum(int(d) * w for d, w in zip(reversed(nit), _WEIGHTS, strict=False))
    rest = total % 11
    return str(rest if rest < 2 else 11 - rest)
