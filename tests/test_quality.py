"""The code's own rules: ruff is clean and the layer contract of DESIGN.md section 2 holds."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    return str(BIN / name) if (BIN / name).exists() else (shutil.which(name) or name)


def test_ruff_is_clean():
    result = subprocess.run([tool("ruff"), "check", "--output-format", "concise", "."], cwd=REPO, capture_output=True)
    assert result.returncode == 0, result.stdout.decode()[-4000:]


def test_layer_contract_holds():
    result = subprocess.run([tool("lint-imports"), "--no-cache"], cwd=REPO, capture_output=True)
    assert result.returncode == 0, result.stdout.decode()[-4000:]


def test_no_import_circle():
    import grimp

    graph = grimp.build_graph("dian", "store", "inbox", "events", "radian", "issuing", "web", "buzon")
    circles = set()
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            chain = graph.find_shortest_chain(importer=imported, imported=module)
            if chain:
                circles.add(tuple(sorted(chain)))
    assert sorted(circles) == [], f"import circles: {sorted(circles)}"


def test_every_benchmark_still_imports():
    """`make bench` runs each script: one whose imports went stale (a name renamed in the product) fails there, long
    after the change that broke it; importing them here runs nothing but their definitions (main is guarded)."""
    import importlib.util

    broken = []
    for script in sorted((REPO / "benchmarks").glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"_bench_{script.stem}", script)
        assert spec is not None and spec.loader is not None
        module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)  # dataclasses look it up there
        try:
            spec.loader.exec_module(module)
        except Exception as exc:  # each broken script is named, not just the first
            broken.append(f"{script.name}: {exc!r}")
        finally:
            del sys.modules[spec.name]
    assert broken == []
