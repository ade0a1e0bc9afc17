"""`buzon dian-sim` as a real process: it serves the WSDL on the given port and stops cleanly."""

from __future__ import annotations

import subprocess
import sys
import urllib.request

import pytest

from tests.services import free_port, wait_for_port

pytestmark = pytest.mark.integration


def test_buzon_dian_sim_serves_the_wsdl(tmp_path) -> None:
    port = free_port()
    seed = tmp_path / "seed.json"
    seed.write_text('{"acquirers": [{"id_type": "31", "id_number": "1", "name": "X", "email": "x@x.test"}]}')
    process = subprocess.Popen(
        [sys.executable, "-m", "buzon.cli", "dian-sim", "--port", str(port), "--data", str(tmp_path / "d"),
         "--seed", str(seed)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp_path,
    )  # fmt: skip
    try:
        assert wait_for_port(port, timeout=30), "the simulator did not start"
        url = f"http://127.0.0.1:{port}/WcfDianCustomerServices.svc?wsdl"
        with urllib.request.urlopen(url, timeout=5) as response:
            assert b"WcfDianCustomerServices" in response.read()
        assert (tmp_path / "d" / "pki" / "ca.pem").is_file()
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)
    assert b"DIAN simulator at http://127.0.0.1:" in output
