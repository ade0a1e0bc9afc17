"""The admin API (loopback JSON) for what we issue: test-set quotas, DIAN contingency windows, the buyer's policy.

* ``POST /_sim/test-sets`` ``{"id", "invoices"?, "credit_notes"?, "debit_notes"?, "delay_seconds"?}`` → 200 state;
  ``GET /_sim/test-sets/<id>`` → 200 state (quota, accepted, rejected, complete, documents) or 404.
* ``POST /_sim/contingencies`` ``{"start", "end"?}`` (ISO-8601 with offset; no end: still open) → 201 the windows;
  ``GET /_sim/contingencies`` → 200 ``{"windows": [...]}``.
* ``POST /_sim/buyer-policy`` ``{"policy": "off|accept|claim|silence", "buyer_nit"?, "concept"?}`` → 200;
  ``GET /_sim/buyer-policy`` → 200 ``{"policies": [...], "log": [...]}``.

Bad input answers 400 ``{"error": "…"}``.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from werkzeug.wrappers import Request, Response

__all__ = ["issued_admin"]


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), status=status, mimetype="application/json")


def _moment(value: Any, field: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError(f"{field}: give the offset (e.g. -05:00)")
    return moment


def issued_admin(simulator: Any, request: Request) -> Response:
    """Answer one admin request under /_sim/test-sets, /_sim/contingencies or /_sim/buyer-policy."""
    path = request.path.rstrip("/")
    try:
        spec = json.loads(request.get_data(as_text=True) or "{}") if request.method == "POST" else {}
        if not isinstance(spec, dict):
            raise ValueError("expected a JSON object")
        if path.startswith("/_sim/test-sets"):
            if request.method == "POST" and path == "/_sim/test-sets":
                return _json(simulator.test_sets.configure(spec))
            if request.method == "GET" and path.startswith("/_sim/test-sets/"):
                test_set_id = path.removeprefix("/_sim/test-sets/")
                try:
                    return _json(simulator.test_sets.describe(test_set_id))
                except KeyError:
                    return _json({"error": f"no hay set de pruebas {test_set_id}"}, status=404)
        elif path == "/_sim/contingencies":
            if request.method == "POST":
                start = _moment(spec["start"], "start")
                end = _moment(spec["end"], "end") if spec.get("end") else None
                if end is not None and end < start:
                    raise ValueError("end: before start")
                simulator.issued.declare(start, end)
                return _json({"windows": simulator.issued.windows()}, status=201)
            if request.method == "GET":
                return _json({"windows": simulator.issued.windows()})
        elif path == "/_sim/buyer-policy":
            if request.method == "POST":
                return _json(simulator.buyer.set(spec))
            if request.method == "GET":
                return _json(simulator.buyer.describe())
    except KeyError as exc:
        return _json({"error": f"falta el campo {exc}"}, status=400)
    except (ValueError, TypeError) as exc:
        return _json({"error": str(exc)}, status=400)
    return Response("not found\n", status=404, mimetype="text/plain")
