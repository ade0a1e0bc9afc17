"""The fixed start-up cost of `buzon import`: CPU seconds (user + system) of one `buzon import` of one small file on
an initialised SQLite database, and of `buzon import --help`, which loads the command line and nothing else.

Run from the repository root: ``.venv/bin/python benchmarks/startup.py [--rounds 7] [BEFORE]``. With ``BEFORE``, the
path of another checkout of the code (``git worktree add /tmp/before <commit>``; nothing installed there), both are
measured in interleaved rounds with this virtualenv's Python, and the medians and their ratio are printed. Each run
is a fresh process started from an empty folder (so the checkout named by PYTHONPATH is the one imported); the CPU
time is the child's, from ``resource.getrusage(RUSAGE_CHILDREN)``. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ENTRY = "from buzon.cli import main; main()"


def cpu_seconds(code: Path, args: list[str], cwd: Path) -> float:
    """CPU seconds (user + system) of one `buzon ARGS` run from checkout ``code``."""
    env = {**os.environ, "PYTHONPATH": str(code), "BUZON_CONFIG": str(cwd / "buzon.toml")}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run([sys.executable, "-c", ENTRY, *args], cwd=cwd, env=env, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"{code}: buzon {' '.join(args)} failed: {result.stderr.decode()[-2000:]}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", nargs="?", type=Path, help="another checkout to compare with (e.g. a git worktree)")
    parser.add_argument("--rounds", type=int, default=7)
    options = parser.parse_args()
    codes = {"now": REPO}
    if options.before:
        codes = {"before": options.before.resolve(), "now": REPO}
    with tempfile.TemporaryDirectory(prefix="buzon-startup-") as tmp:
        sample = Path(tmp) / "nota.xml"
        sample.write_bytes(b"<nota>no es una factura</nota>\n")  # one small file: quarantined, nothing else to do
        folders = {}
        for name, code in codes.items():  # each checkout its own database, at the schema it expects
            folders[name] = Path(tmp) / name
            folders[name].mkdir()
            (folders[name] / "buzon.toml").write_text(f'data_dir = "{folders[name] / "var"}"\n')
            cpu_seconds(code, ["init"], folders[name])
        figures: dict[tuple[str, str], list[float]] = {}
        runs = {"import FILE": ["import", str(sample)], "import --help": ["import", "--help"]}
        for _ in range(options.rounds):
            for label, args in runs.items():
                for name, code in codes.items():
                    figures.setdefault((label, name), []).append(cpu_seconds(code, args, folders[name]))
    print(f"buzon start-up, CPU seconds (user + system), median of {options.rounds} interleaved runs [min-max]")
    for label in runs:
        line = [f"  {label:<14}"]
        for name in codes:
            values = figures[(label, name)]
            line.append(f"{name}: {statistics.median(values):.2f} s [{min(values):.2f}-{max(values):.2f}]")
        if len(codes) == 2:
            ratio = statistics.median(figures[(label, "now")]) / statistics.median(figures[(label, "before")])
            line.append(f"now/before: {ratio:.2f}")
        print("   ".join(line))


if __name__ == "__main__":
    main()
