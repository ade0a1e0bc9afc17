"""Every command meets a broken configuration, database, mailbox or certificate with one line naming it on stderr and
exit code 2 — never a traceback (issue 15). Real processes; PostgreSQL on a port nobody listens on."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.services import free_port

pytestmark = pytest.mark.integration

BUZON = [sys.executable, "-m", "buzon.cli"]
CUFE = "a" * 96
COMMANDS = {
    "init": ["init"],
    "poll": ["poll", "--once"],
    "import": ["import", "{sample}"],
    "scheduler": ["scheduler"],
    "serve": ["serve", "--port", "{port}"],
    "user list": ["user", "list"],
    "jobs": ["jobs", "list"],
    "event send": ["event", "send", CUFE, "030"],
}


def run(args: list[str], cwd: Path, config: str) -> subprocess.CompletedProcess:
    """`buzon ARGS` with this configuration (and a small file to import, and a free port to serve on)."""
    (cwd / "buzon.toml").write_text(f'data_dir = "{cwd / "var"}"\n' + config)
    (cwd / "nota.xml").write_bytes(b"<nota/>\n")
    args = [a.format(sample=cwd / "nota.xml", port=free_port()) for a in args]
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUZON_")}
    env["BUZON_CONFIG"] = str(cwd / "buzon.toml")
    return subprocess.run([*BUZON, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def one_line(result: subprocess.CompletedProcess) -> str:
    """The one error line (and that there is nothing else: no traceback)."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert result.returncode == 2, (result.returncode, result.stderr)
    return lines[0]


@pytest.mark.parametrize("command", COMMANDS)
def test_an_unreachable_postgresql_is_one_line(tmp_path, command):
    port = free_port()
    line = one_line(
        run(COMMANDS[command], tmp_path, f'[database]\nurl = "postgresql+psycopg://buzon@127.0.0.1:{port}/buzon"\n')
    )
    assert line.startswith(f"error: database postgresql+psycopg://buzon@127.0.0.1:{port}/buzon: cannot connect"), line


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("url", ["mysql://buzon@127.0.0.1/buzon", "nosuchdb://x/y", "postgres://buzon@127.0.0.1/b"])
def test_a_database_url_of_another_kind_is_one_line(tmp_path, command, url):
    line = one_line(run(COMMANDS[command], tmp_path, f'[database]\nurl = "{url}"\n'))
    assert line.startswith("error: database.url: ") and "is not a database URL Buzón can use" in line, line


@pytest.mark.parametrize("command", COMMANDS)
def test_an_sqlite_file_whose_folder_cannot_be_made_is_one_line(tmp_path, command):
    (tmp_path / "a-file").write_text("not a folder")
    url = f"sqlite:///{tmp_path / 'a-file' / 'db' / 'buzon.sqlite3'}"
    line = one_line(run(COMMANDS[command], tmp_path, f'[database]\nurl = "{url}"\n'))
    assert line.startswith(f"error: database {url}: cannot create its folder"), line


@pytest.mark.parametrize("command", COMMANDS)
def test_an_imap_inbox_without_password_is_one_line(tmp_path, command):
    config = '[inbox]\nsource = "imap"\n[imap]\nuser = "recepcion"\npassword = ""\n'
    line = one_line(run(COMMANDS[command], tmp_path, config))
    assert line == "error: imap.password: an IMAP inbox needs imap.password or imap.oauth2_token to log in"


def test_an_unreachable_mailbox_is_one_line(tmp_path):
    port = free_port()
    config = f'[inbox]\nsource = "imap"\n[imap]\nhost = "127.0.0.1"\nport = {port}\ntls = "none"\nuser = "r"\n'
    config += 'password = "p"\n'
    assert run(["init"], tmp_path, config).returncode == 0
    line = one_line(run(["poll", "--once"], tmp_path, config))
    assert line.startswith(f"error: mailbox imap (127.0.0.1:{port}): ConnectionRefusedError"), line


@pytest.mark.parametrize("command", ["serve", "scheduler"])
def test_a_company_certificate_that_cannot_be_opened_is_one_line_before_starting(tmp_path, command):
    config = f'[certificate]\npkcs12_path = "{tmp_path / "absent.p12"}"\npassword = "x"\n'
    assert run(["init"], tmp_path, config).returncode == 0  # init signs nothing
    line = one_line(run(COMMANDS[command], tmp_path, config))
    assert line.startswith("error: certificate.pkcs12_path: "), line


def test_several_problems_are_one_line_that_points_to_check_config(tmp_path):
    line = one_line(run(["import", "{sample}"], tmp_path, "[imap]\nprot = 1\n[dian]\nread_timeout = 1e400\n"))
    assert line == "error: imap.prot: unknown key (did you mean 'port'?) (and 1 more: `buzon check-config` lists them)"
    listed = run(["check-config"], tmp_path, "[imap]\nprot = 1\n[dian]\nread_timeout = 1e400\n")
    assert listed.returncode == 2
    assert listed.stderr.splitlines() == [
        "error: imap.prot: unknown key (did you mean 'port'?)",
        "error: dian.read_timeout: expected a finite number, got inf",
    ]


def test_a_taken_web_port_is_one_line(tmp_path):
    assert run(["init"], tmp_path, "").returncode == 0
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        # The simulator on a free port too: its default (8090) may be taken, which serve reports on a line of its own.
        line = one_line(run(["serve", "--port", str(port)], tmp_path, f"[dian]\nsimulator_port = {free_port()}\n"))
    assert line.startswith(f"error: web.bind: cannot listen on 127.0.0.1:{port} (Address already in use"), line
