"""The exception tree of the dian package: every message names the offending value."""

from __future__ import annotations


class DianError(Exception):
    """Base of every error raised by the dian package."""


def words_of(error: BaseException) -> str:
    """Why a call to DIAN failed, in a person's words: the error's own ``words`` (every DIAN web-service error has
    them, ``dian.soap.errors``), a socket's failure, or the unexpected error named as it is."""
    words = getattr(error, "words", None)
    if isinstance(words, str):
        return words
    if isinstance(error, TimeoutError):
        return "la DIAN no respondió a tiempo"
    if isinstance(error, OSError):
        return "no se pudo conectar con el servicio de la DIAN"
    return f"error inesperado al consultar la DIAN ({type(error).__name__}: {error})"


class ParseError(DianError):
    """An XML document is malformed, hostile or not a DIAN document; the message says what and where."""

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.where = where
        super().__init__(f"{message} (en {where})" if where else message)


class UnsupportedTypeError(ParseError):
    """A well-formed DIAN document of a type Buzón does not take (InvoiceTypeCode outside its codes: a documento
    equivalente, say): readable, but nothing Buzón may file as an invoice or answer with events."""


class BuildError(DianError):
    """A document could not be built from the given values; the message names the field."""


class SignatureError(DianError):
    """A document could not be signed (bad key, bad placeholder)."""


class CertificateError(DianError):
    """A certificate or PKCS#12 file could not be loaded; the message names the file."""
