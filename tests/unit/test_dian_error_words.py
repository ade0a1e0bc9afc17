"""What a failed call to DIAN says to a person: Spanish words from the error's attributes (kind, status, fault code),
never from its English message, which stays the technical account for the log."""

from __future__ import annotations

import pytest

from dian.errors import words_of
from dian.soap.errors import DianFault, DianTransportError


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (DianTransportError("x", kind="tls"), "falló la conexión segura (TLS) con la DIAN"),
        (DianTransportError("x", kind="timeout"), "la DIAN no respondió a tiempo"),
        (DianTransportError("x", kind="connection"), "no se pudo conectar con el servicio de la DIAN"),
        (DianTransportError("x", status=503), "el servicio de la DIAN respondió HTTP 503 (servicio no disponible)"),
        (DianTransportError("x", status=520), "el servicio de la DIAN respondió HTTP 520 (error del servidor)"),
        (DianTransportError("x", status=200), "la respuesta de la DIAN no se pudo leer"),
        (DianTransportError("x", kind="unreadable"), "la respuesta de la DIAN no se pudo leer"),
        (DianFault("Invalid security", code="s:Sender"),
         "el servicio de la DIAN respondió con un error SOAP (s:Sender): Invalid security"),
        (DianFault("?"), "el servicio de la DIAN respondió con un error SOAP (sin código): ?"),
    ],
)  # fmt: skip
def test_each_kind_of_failure_has_its_words(error: Exception, words: str) -> None:
    assert words_of(error) == words
    assert str(error) == "x" or "SOAP fault" in str(error)  # the technical account is untouched


def test_the_words_do_not_read_the_message() -> None:
    said = DianTransportError("GetStatus: HTTP 503 without a SOAP answer timed out TLS", kind="connection")
    assert said.words == "no se pudo conectar con el servicio de la DIAN"


def test_a_socket_error_and_anything_else() -> None:
    assert words_of(ConnectionResetError(104, "reset")) == "no se pudo conectar con el servicio de la DIAN"
    assert words_of(TimeoutError("timed out")) == "la DIAN no respondió a tiempo"
    assert words_of(ValueError("bad")) == "error inesperado al consultar la DIAN (ValueError: bad)"
