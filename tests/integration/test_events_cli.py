"""`buzon event send` and `buzon jobs` through the real command line, against the simulator over HTTP."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from store.models import DocumentEvent
from tests.integration.events_fixtures import EventsBed

pytestmark = pytest.mark.integration

BUZON = [sys.executable, "-m", "buzon.cli"]


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def write_config(settings: Any, path: Path) -> Path:
    """The bed's settings as a TOML file (sections of scalars)."""
    import dataclasses

    lines = [f"data_dir = {_toml(settings.data_dir)}"]
    for section in ("database", "company", "certificate", "dian", "inbox", "imap", "smtp", "events", "scheduler"):
        lines.append(f"[{section}]")
        for field in dataclasses.fields(getattr(settings, section)):
            lines.append(f"{field.name} = {_toml(getattr(getattr(settings, section), field.name))}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("events_bed", ["sqlite", "postgresql"], indirect=True)
def test_event_send_and_jobs_from_the_command_line(events_bed: EventsBed, tmp_path: Path) -> None:
    bed = events_bed
    doc_id = bed.receive(at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    cufe = bed.document(doc_id).cufe
    config = write_config(bed.settings, tmp_path / "buzon.toml")
    run = lambda *args: subprocess.run([*BUZON, *args, "--config", str(config)], capture_output=True, text=True)  # noqa: E731

    refused = run("event", "send", cufe, "033")
    assert refused.returncode == 1
    assert "rechazado por Buzón" in refused.stderr and "primero debe estar registrado el evento 030" in refused.stderr

    sent = run("event", "send", cufe, "030")
    assert sent.returncode == 0, sent.stderr
    assert "firmado: 030 número ACU1" in sent.stdout and "DIAN: registered" in sent.stdout
    with bed.sessions() as s:
        (event,) = s.query(DocumentEvent).filter_by(document_id=doc_id).all()
        assert event.actor.startswith("cli:")

    listed = run("jobs")
    assert listed.returncode == 0, listed.stderr
    assert "deliver_outbox" in listed.stdout and "sync_events" in listed.stdout
    assert "última: nunca" not in listed.stdout.split("deliver_outbox")[1].splitlines()[0]  # `event send` ran it

    one = run("jobs", "run", "sync_events")
    assert one.returncode == 0, one.stderr
    result = json.loads(one.stdout)
    assert result["outcome"] == "ok" and result["summary"]["documents"] == 1
    unknown = run("jobs", "run", "nada")
    assert unknown.returncode == 2 and "unknown job" in unknown.stderr
