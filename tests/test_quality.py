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
