"""Several companies in one install, through the real command line on SQLite and PostgreSQL: `buzon init` makes and
stamps each company's database, --company picks whose users and data a command reaches, and a configuration that
points one company at another's database is refused before anything is read or written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.services import two_databases

pytestmark = pytest.mark.integration

BUZON = [sys.executable, "-m", "buzon.cli"]


def config(folder: Path, first: str, second: str) -> Path:
    path = folder / "buzon.toml"
    path.write_text(f"""data_dir = "{folder / 'var'}"
[database]
url = "{first}"
[company]
nit = "900123456-8"
name = "Uno S.A.S."
[[companies]]
[companies.database]
url = "{second}"
[companies.company]
nit = "800197268-4"
name = "Dos S.A.S."
""")
    return path


def run(path: Path, *args: str, code: int = 0, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*BUZON, *args, "--config", str(path)], capture_output=True, text=True, timeout=120,
                          input=stdin)  # fmt: skip
    assert done.returncode == code, (args, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    return done


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_each_company_has_its_own_stamped_database_and_commands_act_for_one(tmp_path: Path, kind: str) -> None:
    with two_databases(kind, tmp_path) as (first, second):
        path = config(tmp_path, first, second)
        out = run(path, "init").stdout
        assert "Uno S.A.S. (900123456-8): database" in out and "Dos S.A.S. (800197268-4): database" in out
        assert run(path, "init").stdout.count("is up to date") == 2  # twice changes nothing
        listed = run(path, "companies").stdout
        assert listed.count("state: ready") == 2 and "800197268-4    Dos S.A.S." in listed

        run(path, "user", "add", "ana", "--role", "clerk", "--password-stdin", stdin="una-clave-larga\n")
        run(path, "user", "add", "beto", "--role", "admin", "--company", "800197268", "--password-stdin",
            stdin="otra-clave-larga\n")  # fmt: skip
        first_users = run(path, "user", "list").stdout
        second_users = run(path, "user", "list", "--company", "800197268-4").stdout
        assert "ana" in first_users and "beto" not in first_users
        assert "beto" in second_users and "ana" not in second_users
        run(path, "user", "list", "--company", "811111111", code=2)

        # Each company's auditor pack is sealed with that company's own certificate (here: the local DIAN's sandbox).
        for nit in ("900123456", "800197268"):
            pack = tmp_path / f"pack-{nit}.zip"
            run(path, "archive", "export", "--from", "2026-01-01", "--to", "2026-12-31", "--company", nit,
                "--out", str(pack))  # fmt: skip
            checked = subprocess.run([*BUZON, "archive", "verify", str(pack)], capture_output=True, text=True,
                                     timeout=120).stdout  # fmt: skip  # offline: no configuration
            assert f"(NIT {nit})" in checked and "intact" in checked, checked

        # Company 2 pointed at company 1's database: refused, naming whose it is; nothing is created in it.
        swapped = config(tmp_path, second, first)  # each company named the other's database
        refused = run(swapped, "user", "list", code=2)
        assert "belongs to the company with NIT 800197268-4, not 900123456-8" in refused.stderr
        refused = run(swapped, "init", code=2)
        assert "belongs to the company with NIT" in refused.stderr
        listed = run(swapped, "companies", "--json", code=1).stdout  # each company's state, for the operator
        assert listed.count("belongs to the company with NIT") == 2
