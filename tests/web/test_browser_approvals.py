"""Four-eyes in Chromium (issue 20) against the real app and the DIAN simulator over HTTP: Ana asks for the 033 on
the document page and is told it waits for approval; on "Aprobaciones pendientes" she sees her request without the
buttons; Beto, another clerk, finds it on the dashboard and the list, approves it, and the result box at the top of
his page says DIAN registered it. Screenshots at 1440x900 and 390x844 of the requester's page, the pending list and
the approved outcome go to test-artifacts/aprobaciones/ (and $BUZON_SHOTS when set).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from buzon import jobs
from buzon.config import ApprovalSettings
from buzon.runtime import event_service
from dian.calendar import BOGOTA, BusinessCalendar
from dian.codes import EventCode
from events.emit import ApprovalPending, EventRequest, emit_and_commit
from store.models import ApprovalState, Role, SubmissionState
from tests.integration.events_fixtures import days_ago
from tests.services import free_port
from tests.web.conftest import PASSWORD, password_hash
from tests.web.test_browser import ARTIFACTS
from tests.web.test_browser import browser as browser  # the fixtures, re-exported for these tests
from tests.web.test_browser import events_bed as events_bed
from web.app import create_app
from web.auth import create_user

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

SIZES = {"1440x900": (1440, 900), "390x844": (390, 844)}
SHOTS = ARTIFACTS / "aprobaciones"


@dataclasses.dataclass
class Site:
    url: str
    bed: Any
    document_id: int


@pytest.fixture
def site(events_bed) -> Iterator[Site]:
    from werkzeug.serving import make_server

    bed = events_bed
    settings = dataclasses.replace(bed.settings, approvals=ApprovalSettings(
        enabled=True, amount_threshold=100_000, events=("031", "033")))  # fmt: skip
    bed.settings, bed.runtime = settings, jobs.configure(settings, engine=bed.runtime.engine)
    document_id = bed.receive(at=days_ago(1))
    bed.send(document_id, EventCode.ACUSE_RECIBO)
    bed.send(document_id, EventCode.RECIBO_BIEN)
    assert bed.deliver()["events"]["registered"] == 2
    # A second invoice whose 032 was signed three business days ago: its window ends today or on the next business
    # day, so Ana's claim on it is flagged ("¡Urgente!").
    calendar = BusinessCalendar()
    day = calendar.add_business_days(dt.datetime.now(BOGOTA).date(), -3)
    issued = dt.datetime.combine(day, dt.time(8), tzinfo=BOGOTA).astimezone(dt.UTC)
    urgent_id = bed.receive(at=issued)
    bed.send(urgent_id, EventCode.ACUSE_RECIBO, at=issued + dt.timedelta(hours=1))
    bed.send(urgent_id, EventCode.RECIBO_BIEN, at=issued + dt.timedelta(hours=2))
    assert bed.deliver()["events"]["registered"] == 2
    with pytest.raises(ApprovalPending):
        emit_and_commit(bed.sessions, bed.runtime.ctx, urgent_id, EventRequest(
            EventCode.RECLAMO, claim_reason="03", note="Llegaron 8 de 10 cajas"), actor="user:ana")  # fmt: skip
    with bed.sessions() as s:
        for name, first, family in (("ana", "Ana Lucía", "Torres Rivera"), ("beto", "Beto", "Gómez Díaz")):
            create_user(s, name, role=Role.CLERK, password=PASSWORD, password_hash=password_hash(PASSWORD),
                        actor="test", id_type="13", id_number="52111222", first_name=first,
                        family_name=family)  # fmt: skip
        s.commit()
    app = create_app(settings, engine=bed.runtime.engine, events=lambda sessions: event_service(settings, sessions))
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(f"http://127.0.0.1:{port}", bed, document_id)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def _page(browser: Any, site: Site, username: str, size: str = "1440x900") -> Any:
    width, height = SIZES[size]
    page = browser.new_context(locale="es-CO", viewport={"width": width, "height": height}).new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{site.url}/")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("form.stacked button[type=submit]")
    page.wait_for_url(re.compile(rf"{re.escape(site.url)}/"))
    return page


def _shots(page: Any, name: str, *, full: bool = True) -> None:
    """The page at both sizes (full length), into test-artifacts/aprobaciones/ and $BUZON_SHOTS."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    extra = Path(os.environ["BUZON_SHOTS"]) if os.environ.get("BUZON_SHOTS") else None
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        path = SHOTS / f"{name}-{size}.png"
        page.screenshot(path=str(path), full_page=full)
        assert path.stat().st_size > 10_000
        if extra is not None:
            extra.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, extra / path.name)
    page.set_viewport_size({"width": 1440, "height": 900})


@pytest.mark.parametrize("events_bed", ["sqlite"], indirect=True)
def test_the_requester_waits_and_a_second_clerk_approves_and_sees_dian_register_it(browser, site):
    ana = _page(browser, site, "ana")
    ana.goto(f"{site.url}/documentos/{site.document_id}")
    ana.click("#accion-033 button[type=submit]")
    ana.wait_for_selector("#confirmar")
    ana.click("#confirmar button[type=submit]")
    ana.wait_for_url(re.compile(r"#resultado$"))
    box = ana.locator("#resultado")
    assert "Pendiente de aprobación" in box.inner_text() and "Aprobaciones pendientes" in box.inner_text()
    assert [e.code for e in site.bed.events(site.document_id)] == [EventCode.ACUSE_RECIBO, EventCode.RECIBO_BIEN]
    assert "Aceptación expresa (033), pedido por Ana Lucía" in ana.locator("#aprobaciones-pendientes").inner_text()
    _shots(ana, "solicitante-documento", full=False)

    ana.click("#nav-aprobaciones") if ana.locator("#nav-aprobaciones").is_visible() else ana.goto(
        f"{site.url}/aprobaciones")  # fmt: skip
    ana.wait_for_url(re.compile(r"/aprobaciones"))
    card = ana.locator("#pendientes li.approval[data-code='033']")
    assert "Usted lo pidió" in card.inner_text() and card.locator("button").count() == 0
    assert "Aceptación expresa (033)" in card.inner_text() and "$ 100.000 o más" in card.inner_text()
    _shots(ana, "solicitante-aprobaciones")

    beto = _page(browser, site, "beto")
    beto.goto(f"{site.url}/resumen")
    figure = beto.locator("#cifra-aprobaciones").inner_text()
    assert "2 eventos pendientes de aprobación" in figure and "1 por perder el plazo legal" in figure, figure
    assert beto.locator("#nav-aprobaciones .nav-count").text_content() == "2"  # the nav link's count, on every page
    _shots(beto, "resumen", full=False)
    beto.click("#cifra-aprobaciones")
    beto.wait_for_url(re.compile(r"/aprobaciones$"))
    flagged = beto.locator("#pendientes li.approval").first  # the one about to miss its window comes first
    assert flagged.get_attribute("data-code") == "031" and "¡Urgente!" in flagged.inner_text()
    assert "03 — " in flagged.inner_text() and "Llegaron 8 de 10 cajas" in flagged.inner_text()
    card = beto.locator("#pendientes li.approval[data-code='033']")
    assert "Ana Lucía Torres Rivera (ana)" in card.inner_text()
    assert card.locator("button.primary", has_text="Aprobar").is_visible()
    _shots(beto, "pendientes")

    card.locator("button", has_text="Aprobar").click()
    beto.wait_for_url(re.compile(r"/aprobaciones#resultado$"))
    box = beto.locator("#resultado")
    box.wait_for()
    assert box.get_attribute("data-kind") == "registered", box.inner_text()
    assert "Aceptación expresa (033)" in box.inner_text() and "registrado por la DIAN" in box.inner_text()
    rect = box.bounding_box()
    assert rect is not None and 0 <= rect["y"] < 450, rect  # where the approver's eyes are
    assert beto.locator("#pendientes li.approval").count() == 1  # the flagged claim still waits
    assert beto.locator("#nav-aprobaciones .nav-count").text_content() == "1"
    assert "Aprobada y enviada" in beto.locator("#decididas").inner_text()
    _shots(beto, "aprobada", full=False)
    _shots(beto, "aprobada-completa")

    events = {e.code: e for e in site.bed.events(site.document_id)}
    assert events[EventCode.ACEPTACION_EXPRESA].submission_state is SubmissionState.REGISTERED
    assert events[EventCode.ACEPTACION_EXPRESA].actor == "user:beto"
    with site.bed.sessions() as s:
        from sqlalchemy import select

        from store.models import Approval

        assert dict(s.execute(select(Approval.code, Approval.state)).all()) == {
            EventCode.RECLAMO: ApprovalState.PENDING, EventCode.ACEPTACION_EXPRESA: ApprovalState.SENT}
