"""The buzon command as a new user runs it: real processes, real databases, a real HTTP server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.integration.schema import snapshot
from tests.services import free_port, fresh_postgres_database, wait_for_port

pytestmark = pytest.mark.integration

BUZON = [sys.executable, "-m", "buzon.cli"]
COMMANDS = ["check-config", "init", "serve", "scheduler"]


def run(args, cwd: Path, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("BUZON_CONFIG")}
    full_env.update(env or {})
    return subprocess.run([*BUZON, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("command", [[], *([c] for c in COMMANDS)])
def test_help_on_every_command(tmp_path, command):
    result = run([*command, "--help"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout
    if command:
        assert "--config" in result.stdout


@pytest.mark.parametrize(
    ("toml", "line"),
    [
        ("[imap]\nprot = 993\n", "error: imap.prot: unknown key (did you mean 'port'?)"),
        ('[imap]\nport = "abc"\n', "error: imap.port: expected an integer, got 'abc'"),
    ],
)
def test_check_config_names_the_bad_key_in_one_line_and_exits_2(tmp_path, toml, line):
    (tmp_path / "bad.toml").write_text(toml)
    result = run(["check-config", "--config", "bad.toml"], tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [line]


def test_check_config_accepts_the_example(tmp_path):
    from tests.pki import pki, write_pkcs12

    example = Path(__file__).resolve().parents[2] / "config.example.toml"
    # check-config opens the certificate the example names: put one where it says (under tmp_path).
    p12 = write_pkcs12(pki().company, tmp_path / "firma.p12", password=b"x")
    text = example.read_text(encoding="utf-8")
    assert 'pkcs12_path = "/etc/buzon/firma.p12"' in text
    copy = tmp_path / "example.toml"
    copy.write_text(text.replace('"/etc/buzon/firma.p12"', f'"{p12}"'), encoding="utf-8")
    env = {n: "x" for n in ("BUZON_CERT_PASSWORD", "BUZON_DIAN_PIN", "BUZON_IMAP_PASSWORD", "BUZON_SMTP_PASSWORD")}
    env["BUZON_SECRET_KEY"] = "k"
    result = run(["check-config", "--config", str(copy)], tmp_path, env)
    assert result.returncode == 0, result.stderr
    assert "configuration OK" in result.stdout


def test_config_from_environment_variable(tmp_path):
    (tmp_path / "env.toml").write_text('[company]\nname = "Desde Variable S.A.S."\n')
    result = run(["check-config"], tmp_path, {"BUZON_CONFIG": str(tmp_path / "env.toml")})
    assert "Desde Variable S.A.S." in result.stdout


def test_init_twice_on_sqlite_and_postgresql_gives_one_schema(tmp_path):
    first = run(["init"], tmp_path)
    assert first.returncode == 0, first.stderr
    assert "upgraded from empty to revision" in first.stdout
    second = run(["init"], tmp_path)
    assert "is up to date" in second.stdout
    sqlite = sa.create_engine(f"sqlite:///{tmp_path / 'var' / 'buzon.sqlite3'}")
    sqlite_schema = snapshot(sqlite)
    sqlite.dispose()
    with fresh_postgres_database() as url:
        (tmp_path / "pg.toml").write_text(f'[database]\nurl = "{url}"\n')
        assert run(["init", "--config", "pg.toml"], tmp_path).returncode == 0
        again = run(["init", "--config", "pg.toml"], tmp_path)
        assert "is up to date" in again.stdout
        assert "postgresql" in again.stdout
        pg = sa.create_engine(url)
        pg_schema = snapshot(pg)
        pg.dispose()
    assert pg_schema == sqlite_schema
    assert "received_documents" in sqlite_schema


def test_init_reports_an_unreachable_database(tmp_path):
    (tmp_path / "pg.toml").write_text('[database]\nurl = "postgresql+psycopg://nobody@127.0.0.1:1/none"\n')
    result = run(["init", "--config", "pg.toml"], tmp_path)
    assert result.returncode == 2  # a database that cannot be reached is the configuration's to fix (issue 15)
    assert result.stderr.startswith("error: database postgresql+psycopg://nobody@127.0.0.1:1/none")


def test_serve_with_no_configuration_answers_health_and_home(tmp_path):
    assert run(["init"], tmp_path).returncode == 0
    port = free_port()
    with subprocess.Popen(
        [*BUZON, "serve", "--port", str(port)], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    ) as proc:
        try:
            _check_served(port)
        finally:
            proc.terminate()
            proc.wait(10)
    # The generated secret key is kept private to the owner.
    assert oct((tmp_path / "var" / "secret_key").stat().st_mode & 0o777) == "0o600"


def _check_served(port: int) -> None:
    assert wait_for_port(port, 20), "buzon serve did not open its port"
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as resp:
        health = json.load(resp)
    assert health["status"] == "ok"
    assert health["revision"] == health["expected_revision"]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as resp:
        page = resp.read().decode()
    assert 'lang="es-CO"' in page
    assert "Modo demostración" in page


def test_serve_refuses_an_unmigrated_database(tmp_path):
    result = run(["serve", "--port", str(free_port())], tmp_path)
    assert result.returncode == 2
    assert "run `buzon init` first" in result.stderr


def test_scheduler_starts_with_the_database_job_store_and_stops_on_sigterm(tmp_path):
    assert run(["init"], tmp_path).returncode == 0
    with subprocess.Popen([*BUZON, "scheduler"], cwd=tmp_path, stdout=subprocess.PIPE, text=True) as proc:
        try:
            deadline = time.monotonic() + 20
            line = ""
            while time.monotonic() < deadline and "scheduler started" not in line:
                line = proc.stdout.readline()
            assert "scheduler started" in line
            engine = sa.create_engine(f"sqlite:///{tmp_path / 'var' / 'buzon.sqlite3'}")
            tables = sa.inspect(engine).get_table_names()
            engine.dispose()
            assert "apscheduler_jobs" in tables
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(10) == 0
            assert "scheduler stopped" in proc.stdout.read()
        finally:
            if proc.poll() is None:
                proc.kill()
