"""The real command line over a bed's settings, for the issuing and documento soporte CLI tests
(test_issuing_cli.py, test_support_cli.py): each call a `python -m buzon.cli` process with the bed's config file."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.integration.test_events_cli import write_config

__all__ = ["BUZON", "buzon_cli"]

BUZON = [sys.executable, "-m", "buzon.cli"]


def buzon_cli(settings: Any, config_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """``run(*args, code=0)``: `buzon ARGS --config FILE` (``settings`` written to ``config_path``), asserting its
    exit code and that no traceback reached stderr."""
    config = write_config(settings, config_path)

    def run(*args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([*BUZON, *args, "--config", str(config)], capture_output=True, text=True, timeout=120)
        assert done.returncode == code, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
        return done

    return run
