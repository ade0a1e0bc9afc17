"""`make run` is the whole product: `buzon init` then `buzon serve` with the demo defaults, and without any other
command the scheduler inside serve sweeps the demo's lapsed window (TC1007), retries the 030 that met a silent DIAN
until the simulator registers it, and mails the supplier's notice to the local SMTP sink, where "Correo enviado"
shows it. The simulator's configured port is taken, so serve must pick another and say so. The scheduler's intervals
are short here (seconds, not minutes) so that this takes well under a minute; screenshots of the mail page at
1440x900 and 390x844 go to test-artifacts/."""

from __future__ import annotations

import http.cookiejar
import mailbox
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.services import free_port, wait_for_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BUZON = [sys.executable, "-m", "buzon.cli"]
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
DEADLINE_SECONDS = 75


@dataclass
class Served:
    url: str
    data: Path
    taken_port: int
    output: Path
    retried_number: str
    retried_event: int

    def db(self) -> sa.Engine:
        return sa.create_engine(f"sqlite:///{self.data / 'buzon.sqlite3'}")


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Served]:
    work = tmp_path_factory.mktemp("make-run")
    taken = socket.create_server(("127.0.0.1", 0))  # someone else already serves on the simulator's port
    port = free_port()
    (work / "buzon.toml").write_text(
        f'demo = true\ndata_dir = "var"\n[web]\nbind = "127.0.0.1:{port}"\n'
        f"[dian]\nsimulator_port = {taken.getsockname()[1]}\n"
        "[scheduler]\npoll_interval = 5\noutbox_interval = 2\ndeadline_interval = 5\n"
        "[events]\nretry_seconds = 1\nretry_max_seconds = 2\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUZON_")}
    env["BUZON_CONFIG"] = str(work / "buzon.toml")
    init = subprocess.run([*BUZON, "init"], cwd=work, env=env, capture_output=True, text=True, timeout=180)
    assert init.returncode == 0, init.stderr
    assert "1 en cola porque la DIAN no respondió" in init.stdout
    engine = sa.create_engine(f"sqlite:///{work / 'var' / 'buzon.sqlite3'}")
    with engine.connect() as conn:
        event_id, number = conn.execute(
            sa.text(
                "SELECT e.id, d.number FROM document_events e JOIN received_documents d ON d.id = e.document_id "
                "WHERE e.submission_state = 'send_failed'"
            )
        ).one()
    engine.dispose()
    output = work / "serve.log"
    with (
        output.open("w") as log,
        subprocess.Popen([*BUZON, "serve"], cwd=work, env=env, stdout=log, stderr=log) as proc,
    ):
        try:
            assert wait_for_port(port, 30), output.read_text()
            yield Served(f"http://127.0.0.1:{port}", work / "var", taken.getsockname()[1], output, number, event_id)
        finally:
            proc.terminate()
            proc.wait(15)
            taken.close()


def _state(served: Served) -> dict[str, Any]:
    engine = served.db()
    try:
        with engine.connect() as conn:
            retried = conn.execute(
                sa.text("SELECT submission_state, attempts FROM document_events WHERE id = :id"),
                {"id": served.retried_event},
            ).one()
            swept = conn.execute(
                sa.text("SELECT window_closed_at FROM received_documents WHERE number = 'TC1007'")
            ).scalar()
            closed = conn.execute(
                sa.text("SELECT count(*) FROM audit_entries WHERE action = 'document.window.closed'")
            ).scalar()
    finally:
        engine.dispose()
    folder = served.data / "sent-mail"
    subjects = [str(m["Subject"]) for m in mailbox.Maildir(folder, create=False)] if folder.is_dir() else []
    return {"retried": tuple(retried), "swept": swept, "closed": closed, "subjects": subjects}


def test_without_another_command_the_window_is_swept_the_event_retried_and_the_notice_readable(served):
    started = time.monotonic()
    state = _state(served)
    while time.monotonic() - started < DEADLINE_SECONDS:
        state = _state(served)
        notice = [s for s in state["subjects"] if f";{served.retried_number};" in s]
        if state["retried"][0] == "registered" and state["swept"] and notice:
            break
        time.sleep(1)
    log = served.output.read_text()
    assert state["retried"][0] == "registered", (state, log[-3000:])
    assert state["retried"][1] >= 2  # the failed attempt at init, then the scheduler's
    assert state["swept"] is not None and state["closed"] >= 1, state  # TC1007's window, closed by the deadlines job
    assert any(f";{served.retried_number};" in s for s in state["subjects"]), state["subjects"]
    # The simulator's port was taken: serve chose another, said so, and DIAN was reached there (the 030 registered).
    said = re.search(rf"port {served.taken_port} is taken \(.*\); using port (\d+) instead", log)
    assert said, log[-3000:]
    assert f"DIAN simulator at http://127.0.0.1:{said.group(1)}/" in log
    # The notice is readable in the web, signed in as the demo clerk.
    page = _signed_in(served, "auxiliar").open(f"{served.url}/correo-enviado", timeout=10).read().decode()
    assert "<h1>Correo enviado</h1>" in page
    assert served.retried_number in page and "efactura@solti.test" in page


def _signed_in(served: Served, username: str) -> urllib.request.OpenerDirector:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    form = opener.open(f"{served.url}/ingresar", timeout=10).read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token, form[:500]
    body = urllib.parse.urlencode({"csrf_token": token.group(1), "username": username, "password": "buzon-demo"})
    opener.open(f"{served.url}/ingresar", data=body.encode(), timeout=10).read()
    return opener


@pytest.mark.browser
def test_the_sent_mail_page_on_a_desktop_and_a_phone(served):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install playwright; never `playwright install`)")
    from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (scripts/install-test-services installs Debian's chromium)")
    started = time.monotonic()
    while not _state(served)["subjects"] and time.monotonic() - started < DEADLINE_SECONDS:
        time.sleep(1)
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for width, height in ((1440, 900), (390, 844)):
                page = chromium.new_page(viewport={"width": width, "height": height})
                page.goto(f"{served.url}/ingresar")
                page.fill("#username", "auxiliar")
                page.fill("#password", "buzon-demo")
                page.click("button[type=submit]")
                page.goto(f"{served.url}/correo-enviado")
                assert page.locator("h1").inner_text() == "Correo enviado"
                assert page.get_attribute("html", "lang") == "es-CO"
                page.locator(".sent-message summary").first.click()
                assert page.locator(".sent-message pre.body").first.is_visible()
                scroll = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
                assert scroll <= 0, f"the page scrolls sideways by {scroll}px at {width}px"
                page.screenshot(path=str(ARTIFACTS / f"sent_mail-{width}x{height}.png"), full_page=True)
                page.close()
        finally:
            chromium.close()
