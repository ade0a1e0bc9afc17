"""Injected faults through the admin endpoint and the Python API, as the client sees them over HTTP."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from dian.codes import EventCode
from dian.soap import DianRejected, DianTransportError
from tests.integration.dian_fixtures import DianWorld, dian_world

pytestmark = pytest.mark.integration
__all__ = ["dian_world"]


def _admin(world: DianWorld, method: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - loopback
        world.server.base_url + "/_sim/faults", data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


@pytest.mark.parametrize(("kind", "status"), [("http500", 500), ("http503", 503)])
def test_http_errors_are_retryable_transport_errors(dian_world: DianWorld, kind: str, status: int) -> None:
    _admin(dian_world, "POST", {"operation": "GetStatus", "kind": kind, "count": 1})
    client = dian_world.client(dian_world.seller)
    with pytest.raises(DianTransportError) as caught:
        client.get_status("x")
    assert (caught.value.status, caught.value.retryable) == (status, True)
    assert caught.value.words.startswith(f"el servicio de la DIAN respondió HTTP {status} (")
    assert client.get_status("x").status_code == "66"  # count 1: the next call is answered
    assert _admin(dian_world, "GET")["faults"] == []


def test_connection_reset_is_retryable(dian_world: DianWorld) -> None:
    dian_world.simulator.faults.add("GetStatus", "reset")
    with pytest.raises(DianTransportError) as caught:
        dian_world.client(dian_world.seller).get_status("x")
    assert caught.value.retryable
    assert caught.value.words == "no se pudo conectar con el servicio de la DIAN"


def test_timeout_is_retryable(dian_world: DianWorld) -> None:
    dian_world.simulator.faults.add("GetStatus", "timeout", seconds=5)
    client = dian_world.client(dian_world.seller, read_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(DianTransportError) as caught:
        client.get_status("x")
    assert caught.value.retryable
    assert "timed out" in str(caught.value)  # the technical account, for the log
    assert caught.value.words == "la DIAN no respondió a tiempo"  # what a person reads
    assert time.monotonic() - started < 3


def test_latency_delays_the_answer(dian_world: DianWorld) -> None:
    _admin(dian_world, "POST", {"operation": "*", "kind": "latency", "seconds": 0.4, "count": 1})
    started = time.monotonic()
    assert dian_world.client(dian_world.seller).get_status("x").status_code == "66"
    assert time.monotonic() - started >= 0.4


def test_admin_rejects_bad_faults_and_clears(dian_world: DianWorld) -> None:
    with pytest.raises(urllib.error.HTTPError) as caught:
        _admin(dian_world, "POST", {"operation": "GetStatus", "kind": "meteor"})
    assert caught.value.code == 400
    caught.value.close()
    _admin(dian_world, "POST", {"operation": "GetStatus", "kind": "http500", "count": None})
    assert len(_admin(dian_world, "GET")["faults"]) == 1
    assert _admin(dian_world, "DELETE")["faults"] == []


def test_commit_then_drop_makes_the_resend_regla_90_with_the_original_answer(dian_world: DianWorld) -> None:
    invoice = dian_world.invoice()
    dian_world.client(dian_world.seller).send_bill_sync("fv.xml", invoice)
    buyer = dian_world.client(dian_world.buyer)
    event = dian_world.event(EventCode.ACUSE_RECIBO, invoice)
    _admin(dian_world, "POST", {"operation": "SendEventUpdateStatus", "kind": "drop"})
    with pytest.raises(DianTransportError) as caught:
        buyer.send_event_update_status("ar.xml", event)
    assert caught.value.retryable
    # The outbox retries the same bytes: DIAN already registered them.
    with pytest.raises(DianRejected) as again:
        buyer.send_event_update_status("ar.xml", event)
    assert again.value.already_registered
    from dian.ubl import parse_document

    cude = parse_document(event).uuid
    assert again.value.response.document_key == cude
    assert parse_document(again.value.response.xml).document_reference.uuid == cude
    assert buyer.get_status(cude).accepted
