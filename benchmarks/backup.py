"""`buzon backup` and `buzon restore` on a large audit log and blob store: MB/s, rows/s and peak RSS (issue 20).

Run from the repository root: ``.venv/bin/python benchmarks/backup.py [--rows 200000] [--blobs 2000] [--pg]``.
Loads ``--rows`` audit entries (Core inserts, as intake's writes) and ``--blobs`` blobs of 20 kB into a scratch
SQLite file (``--pg``: a scratch PostgreSQL database ``buzon_bench_backup_<pid>`` on $BUZON_TEST_PG's server,
dropped afterwards), then times one backup and one restore into an empty SQLite folder, each in a child process so
that its peak RSS is its own. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_ADMIN = os.environ.get("BUZON_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")

CHILD = """
import json, resource, sys, time
from pathlib import Path
from store.db import make_engine
what, url, blobs, archive = sys.argv[1:5]
engine = make_engine(url)
started = time.monotonic()
if what == "backup":
    from store.backup import backup
    summary = backup(engine, Path(blobs), Path(archive))
else:
    from store.restore import restore
    summary = restore(engine, Path(blobs), Path(archive))
seconds = time.monotonic() - started
print(json.dumps({"seconds": seconds, "rows": sum(summary.rows.values()), "blobs": summary.blobs,
                  "size": summary.size, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def load(url: str, blob_dir: Path, rows: int, blobs: int) -> None:
    from store.audit import entry, insert_entries
    from store.blobs import BlobStore
    from store.db import make_engine, migrate

    engine = make_engine(url)
    migrate(engine)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    batch = 5000
    for first in range(0, rows, batch):
        with engine.begin() as conn:
            insert_entries(conn, [
                entry(actor="bench", action="document.filed", subject=f"cufe-{n:012d}",
                      data={"document_id": n, "note": "x" * 80}, at=start + timedelta(seconds=n))
                for n in range(first, min(rows, first + batch))
            ])  # fmt: skip
    store = BlobStore(blob_dir)
    for first in range(0, blobs, 200):
        store.put_many(secrets.token_bytes(20_000) for _ in range(first, min(blobs, first + 200)))
    store.close()
    engine.dispose()


def child(what: str, url: str, blobs: Path, archive: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", CHILD, what, url, str(blobs), str(archive)], env=env,
                          capture_output=True, text=True, check=True)  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--blobs", type=int, default=2_000)
    parser.add_argument("--pg", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="buzon-bench-backup-") as tmp:
        folder = Path(tmp)
        name = f"buzon_bench_backup_{os.getpid()}"
        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT") if args.pg else None
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            url = sa.engine.make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
        else:
            url = f"sqlite:///{folder / 'source.sqlite3'}"
        try:
            started = time.monotonic()
            load(url, folder / "blobs", args.rows, args.blobs)
            kind = "PostgreSQL" if args.pg else "SQLite"
            print(f"loaded {args.rows} audit entries and {args.blobs} blobs of 20 kB into {kind} in "
                  f"{time.monotonic() - started:.1f} s")  # fmt: skip
            archive = folder / "backup.tar"
            for what, target, blobs in (
                ("backup", url, folder / "blobs"),
                ("restore", f"sqlite:///{folder / 'restored.sqlite3'}", folder / "r-blobs"),
            ):
                found = child(what, target, blobs, archive)
                mb = found["size"] / 1e6
                rate, peak = found["rows"] / found["seconds"], found["peak_rss_mb"]
                print(f"{what}: {found['seconds']:.1f} s, {rate:,.0f} rows/s, {mb / found['seconds']:.1f} MB/s of "
                      f"archive ({mb:.0f} MB), peak RSS {peak:.0f} MB")  # fmt: skip
        finally:
            if admin is not None:
                with admin.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
    print(f"this process's peak RSS (the load): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
