"""The shape of DIAN's keys (CUFE, CUDE, CUDS): what reception refuses before any lookup."""

from __future__ import annotations

_HEX = frozenset("0123456789abcdef")


def is_key(value: str | None) -> bool:
    """True for a CUFE/CUDE/CUDS of DIAN's shape: SHA-384 as 96 hexadecimal characters (dian-facts 1.1)."""
    text = (value or "").strip().lower()
    return len(text) == 96 and set(text) <= _HEX


def key_problem(what: str, value: str | None) -> str | None:
    text = (value or "").strip()
    if not text:
        return f"el {what} está vacío"
    if is_key(text):
        return None
    shown = text if len(text) <= 40 else f"{text[:40]}… ({len(text)} caracteres)"
    return f"el {what} «{shown}» no tiene la forma de DIAN (96 caracteres hexadecimales, SHA-384)"
