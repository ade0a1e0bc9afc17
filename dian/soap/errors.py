"""The errors of DIAN's web service, as one small tree under ``dian.errors.DianError``.

``DianTransportError`` is the only retryable kind (timeouts, resets, 5xx without a SOAP answer); ``DianFault`` is a
SOAP fault (the request was refused before DIAN looked at the document, e.g. a bad WS-Security header);
``DianRejected`` is a well-formed DIAN answer that says no, with DIAN's messages parsed (dian-facts 6.5).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dian.errors import DianError

if TYPE_CHECKING:
    from dian.soap.results import DianMessage, DianResponse

__all__ = ["DianFault", "DianRejected", "DianServiceError", "DianTransportError"]


class DianServiceError(DianError):
    """Base of every error of the DIAN web-service client.

    ``str(error)`` is the technical account, in English, for the log and the audit record; ``words`` says the same to
    a person, in Spanish, from the error's own attributes (never from its message).
    """

    @property
    def words(self) -> str:
        return "la DIAN no dio una respuesta válida"


# The statuses a gateway in front of DIAN's service commonly answers without a SOAP body, in words.
_HTTP_WORDS = {
    408: "tiempo de espera agotado",
    429: "demasiadas solicitudes",
    500: "error interno del servidor",
    502: "puerta de enlace inválida",
    503: "servicio no disponible",
    504: "tiempo de espera de la puerta de enlace agotado",
}


class DianTransportError(DianServiceError):
    """The call did not get a DIAN answer: timeout, connection reset, HTTP 5xx or a non-SOAP body.

    ``kind`` says which: ``tls`` (handshake or certificate), ``timeout``, ``connection`` (refused, reset, closed
    without an answer), ``http`` (a status without a SOAP answer) or ``unreadable`` (an answer that is not DIAN's).
    """

    def __init__(
        self, message: str, *, status: int | None = None, retryable: bool = True, kind: str | None = None
    ) -> None:
        self.status = status
        self.retryable = retryable
        self.kind = kind or ("http" if status is not None and status != 200 else "unreadable")
        super().__init__(message)

    @property
    def words(self) -> str:
        if self.kind == "tls":
            return "falló la conexión segura (TLS) con la DIAN"
        if self.kind == "timeout":
            return "la DIAN no respondió a tiempo"
        if self.kind == "connection":
            return "no se pudo conectar con el servicio de la DIAN"
        if self.kind == "http" and self.status is not None:
            said = _HTTP_WORDS.get(self.status, "error del servidor")
            return f"el servicio de la DIAN respondió HTTP {self.status} ({said})"
        return "la respuesta de la DIAN no se pudo leer"


class DianFault(DianServiceError):
    """DIAN (or the simulator) answered with a SOAP fault; ``code`` is the fault code, ``subcodes`` its details."""

    retryable = False

    def __init__(self, message: str, *, code: str | None = None, subcodes: tuple[str, ...] = ()) -> None:
        self.code = code
        self.subcodes = subcodes
        super().__init__(f"SOAP fault {code or '?'}: {message}")
        self.reason = message

    @property
    def words(self) -> str:
        return f"el servicio de la DIAN respondió con un error SOAP ({self.code or 'sin código'}): {self.reason}"


class DianRejected(DianServiceError):
    """DIAN processed the request and refused it; ``response`` is the whole answer, ``messages`` its rules."""

    retryable = False

    def __init__(self, response: DianResponse) -> None:
        self.response = response
        self.status_code = response.status_code
        self.messages: tuple[DianMessage, ...] = response.messages
        rejections = [m for m in response.messages if m.kind != "Notificación"] or list(response.messages)
        detail = "; ".join(m.render() for m in rejections[:5]) or response.status_description or "sin detalle"
        super().__init__(f"DIAN StatusCode {response.status_code}: {detail}")
        self.detail = detail

    @property
    def words(self) -> str:
        return f"la DIAN respondió {self.status_code}: {self.detail}"

    @property
    def rejections(self) -> tuple[DianMessage, ...]:
        """The messages that blocked the document (``Rechazo``)."""
        return self.response.rejections

    @property
    def already_registered(self) -> bool:
        """True for "Regla: 90 … Documento procesado anteriormente": DIAN already holds the document (6.5)."""
        return self.response.already_registered
