"""NIT check digit (dígito de verificación), DIAN's modulo-11 algorithm with its fixed prime weights."""

from __future__ import annotations

_WEIGHTS = (3, 7, 13, 17, 19, 23, 29, 37, 41, 43, 47, 53, 59, 67, 71)


def check_digit(nit: str) -> str:
    """The DV of a NIT given as digits only (no DV, no dots)."""
    if not nit.isdigit() or len(nit) > len(_WEIGHTS):
        raise ValueError(f"a NIT is 1 to 15 digits, got {nit!r}")
    total = sum(int(d) * w for d, w in zip(reversed(nit), _WEIGHTS, strict=False))
    rest = total % 11
    return str(rest if rest < 2 else 11 - rest)
