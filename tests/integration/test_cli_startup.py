"""`buzon import`'s fixed cost: the command loads what intake needs and nothing else (no Alembic, no SOAP stack, no
simulator, no web framework), and the schema check agrees with Alembic's own answer."""

from __future__ import annotations

import json
import subprocess
import sys

REPO_ENTRY = (
    "import json, sys\n"
    "from buzon.cli import main\n"
    "try:\n"
    "    main(sys.argv[1:])\n"
    "except SystemExit as exc:\n"
    "    code = exc.code\n"
    "watched = [m for m in sys.modules if '.' not in m or m in ('dian.simulator', 'dian.soap')]\n"
    "print(json.dumps({'code': code, 'loaded': sorted(watched)}))\n"
)
NEEDLESS = {"alembic", "mako", "zeep", "dian.simulator", "dian.soap", "flask", "apscheduler", "reportlab", "werkzeug"}


def test_buzon_import_loads_no_needless_library(tmp_path):
    (tmp_path / "buzon.toml").write_text(f'data_dir = "{tmp_path / "var"}"\n')
    sample = tmp_path / "nota.xml"
    sample.write_bytes(b"<nota>no es una factura</nota>\n")
    env = {"BUZON_CONFIG": str(tmp_path / "buzon.toml"), "PATH": "/usr/bin:/bin"}
    init = subprocess.run([sys.executable, "-m", "buzon.cli", "init"], cwd=tmp_path, env=env, capture_output=True)
    assert init.returncode == 0, init.stderr
    run = subprocess.run([sys.executable, "-c", REPO_ENTRY, "import", str(sample)], cwd=tmp_path, env=env,
                         capture_output=True, text=True)  # fmt: skip
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["code"] == 0, run.stderr
    assert "en cuarentena: 1" in run.stdout
    assert "inbox" in report["loaded"]  # the probe sees the modules intake loaded
    assert sorted(NEEDLESS & set(report["loaded"])) == []


def test_the_schema_check_agrees_with_alembic(tmp_path):
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from store.db import MIGRATIONS, current_revision, head_revision, make_engine, migrate

    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        assert current_revision(engine) is None
        assert head_revision() == ScriptDirectory(str(MIGRATIONS)).get_current_head()
        migrate(engine, "0001")
        with engine.connect() as conn:
            assert current_revision(engine) == MigrationContext.configure(conn).get_current_revision() == "0001"
        migrate(engine)
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()
