"""The document page's answers where the eye is, in Chromium against the real app and the DIAN simulator over HTTP.

After each action the result box sits at the top of the viewport, has the focus and the right role, and tells the
truth: registered (green), queued because DIAN answered 503 with "Reintentar ahora" (amber) that registers once the
simulator is back, rejected by DIAN with the rule explained in Spanish (red). Also: Acuse + recibo in one click,
assignment, internal comments, "Consultar en DIAN", and the confirmation page's focused button. Screenshots at
1440x900 and 390x844 go to test-artifacts/.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from store.models import Role, SubmissionState
from tests.integration.dian_fixtures import BUYER_SW
from tests.web.conftest import PASSWORD, password_hash
from tests.web.test_browser import ARTIFACTS, log_in
from tests.web.test_browser import browser as browser  # the fixtures, re-exported for these tests
from tests.web.test_browser import events_bed as events_bed
from tests.web.test_browser import site as site
from web.auth import create_user

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

SIZES = {"1440x900": (1440, 900), "390x844": (390, 844)}


def open_page(browser: Any, site: Any, size: str = "1440x900") -> Any:
    width, height = SIZES[size]
    context = browser.new_context(locale="es-CO", viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(20_000)
    log_in(page, site, "ana")
    page.goto(f"{site.url}/documentos/{site.document_id}")
    return page


def after_action(page: Any) -> Any:
    """The result box after a form post: at the top of the viewport, focused, announced."""
    page.wait_for_url(re.compile(r"#resultado$"))
    box = page.locator("#resultado")
    box.wait_for()
    page.wait_for_function("document.activeElement && document.activeElement.id === 'resultado'")
    rect = box.bounding_box()
    viewport = page.viewport_size
    assert rect is not None and viewport is not None
    assert 0 <= rect["y"] < viewport["height"] * 0.5, rect  # its top in the upper half of what the eye sees
    assert rect["x"] >= 0 and rect["x"] + rect["width"] <= viewport["width"] + 1, rect
    return box


def states(site: Any) -> list[tuple[str, SubmissionState]]:
    return [(e.code.value, e.submission_state) for e in site.bed.events(site.document_id)]


@pytest.mark.parametrize("events_bed", ["sqlite"], indirect=True)
def test_acuse_y_recibo_in_one_click_is_reported_registered_at_the_top(browser, site):
    page = open_page(browser, site, "390x844")
    assert page.locator("#accion-030-032").count() == 1
    page.click("#accion-030-032 button[type=submit]")
    box = after_action(page)
    assert box.get_attribute("role") == "status"
    assert box.get_attribute("data-kind") == "registered"
    assert box.locator(".result-item[data-code='030'][data-kind='registered']").count() == 1
    assert box.locator(".result-item[data-code='032'][data-kind='registered']").count() == 1
    assert "registrado por la DIAN" in box.inner_text()
    assert states(site) == [("030", SubmissionState.REGISTERED), ("032", SubmissionState.REGISTERED)]
    assert page.locator("#accion-030-032").count() == 0  # both are done: the combined action is gone
    page.screenshot(path=str(ARTIFACTS / "document-registered-390x844.png"))
    page.set_viewport_size({"width": 1440, "height": 900})
    page.screenshot(path=str(ARTIFACTS / "document-registered-1440x900.png"))


@pytest.mark.parametrize("events_bed", ["sqlite"], indirect=True)
def test_a_dian_outage_is_queued_amber_with_retry_now_that_registers_once_dian_is_back(browser, site):
    faults = site.bed.world.simulator.faults
    faults.add("SendEventUpdateStatus", "http503", count=None)
    page = open_page(browser, site, "390x844")
    page.click("#accion-030 button[type=submit]")
    box = after_action(page)
    assert box.get_attribute("role") == "status" and box.get_attribute("data-kind") == "queued"
    text = box.inner_text()
    assert re.search(r"la DIAN no respondió; se reintentará a (las|el) .*\d\d:\d\d", text), text
    assert "HTTP 503 (servicio no disponible)" in text
    assert "without" not in text and "SOAP answer" not in text  # never the outbox's English
    assert page.locator("#reintentar").is_visible()
    page.screenshot(path=str(ARTIFACTS / "document-queued-390x844.png"))
    page.set_viewport_size({"width": 1440, "height": 900})
    page.screenshot(path=str(ARTIFACTS / "document-queued-1440x900.png"))
    assert states(site) == [("030", SubmissionState.SEND_FAILED)]

    faults.clear()
    page.click("#reintentar")
    box = after_action(page)
    assert box.get_attribute("data-kind") == "registered", box.inner_text()
    assert "Acuse de recibo (030)" in box.inner_text() and "registrado por la DIAN" in box.inner_text()
    assert states(site) == [("030", SubmissionState.REGISTERED)]
    with site.bed.sessions() as s:
        from sqlalchemy import select

        from store.models import AuditEntry

        actions = list(s.scalars(select(AuditEntry.action).where(AuditEntry.action.like("event.030.%"))))
    assert "event.030.retry_requested" in actions and "event.030.registered" in actions


@pytest.mark.parametrize("events_bed", ["sqlite"], indirect=True)
def test_a_dian_rejection_is_red_with_the_rule_explained_in_spanish(browser, site):
    # DIAN's record of our software's PIN changes (a re-registration in the portal): the events' fingerprint no
    # longer matches and DIAN answers AAB27b.
    site.bed.world.simulator.seed(
        {"software": [{"id": BUYER_SW.software_id, "pin": "99999", "provider_nit": BUYER_SW.provider_nit}]}
    )
    page = open_page(browser, site)
    page.click("#accion-030 button[type=submit]")
    box = after_action(page)
    assert box.get_attribute("role") == "alert" and box.get_attribute("data-kind") == "rejected"
    rule = box.locator("li.rule[data-rule='AAB27b']")
    assert rule.count() == 1
    said = rule.inner_text()
    assert "huella del software" in said and "dian.software_pin" in said  # meaning and next step
    assert "La DIAN dice: «Huella no corresponde" in said  # and DIAN's own words
    assert page.locator("#reintentar").count() == 0  # a rejection is not retried: it must be fixed
    page.screenshot(path=str(ARTIFACTS / "document-rejected-1440x900.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(ARTIFACTS / "document-rejected-390x844.png"))
    assert states(site) == [("030", SubmissionState.REJECTED)]


@pytest.mark.parametrize("events_bed", ["sqlite"], indirect=True)
def test_assignment_comments_and_consultar_en_dian(browser, site):
    with site.bed.sessions() as s:
        create_user(s, "luis", role=Role.CLERK, password=PASSWORD, password_hash=password_hash(PASSWORD),
                    actor="test", first_name="Luis", family_name="Mora")  # fmt: skip
        s.commit()
    page = open_page(browser, site)
    page.select_option("#asignar-a", "luis")
    page.click(".assign-form button")
    box = after_action(page)
    assert box.get_attribute("data-kind") == "registered" and "asignado a luis" in box.inner_text()
    assert "Luis Mora (luis)" in page.locator("#asignado").inner_text()
    page.select_option("#asignar-a", "yo")
    page.click(".assign-form button")
    after_action(page)
    assert "(ana)" in page.locator("#asignado").inner_text()
    assert site.bed.document(site.document_id).assigned_to == "ana"

    page.fill("#comentario", "Falta la orden de compra 4411.\nLlamar al proveedor.")
    page.click(".comment-form button")
    box = after_action(page)
    assert "Comentario guardado" in box.inner_text()
    assert "Falta la orden de compra 4411." in page.locator("#comentarios .comment-body").inner_text()
    # A control character is refused with a message, at the top, as an alert.
    page.evaluate("document.querySelector('#comentario').value = 'hola\\u0001mundo'")
    page.click(".comment-form button")
    box = after_action(page)
    assert box.get_attribute("role") == "alert" and "U+0001" in box.inner_text()
    assert page.locator("#comentarios .comment").count() == 1
    page.screenshot(path=str(ARTIFACTS / "document-comment-refused-1440x900.png"))

    page.click("#consulta-dian button")
    box = after_action(page)
    text = box.inner_text()
    assert box.get_attribute("data-kind") == "registered", text
    assert "código 00" in text and "registrada como válida" in text
    assert "código 00" in page.locator("#consulta-dian").inner_text()
    answer = page.locator("#consulta-dian a").get_attribute("href")
    assert answer and page.request.get(site.url + answer).body().startswith(b"<")
    page.screenshot(path=str(ARTIFACTS / "document-dian-status-1440x900.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(ARTIFACTS / "document-dian-status-390x844.png"))


@pytest.mark.parametrize("events_bed", ["sqlite"], indirect=True)
def test_the_confirmation_page_focuses_its_button(browser, site):
    page = open_page(browser, site)
    page.click("#accion-030-032 button[type=submit]")
    after_action(page)
    page.click("#accion-033 button[type=submit]")
    page.wait_for_selector("#confirmar")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'confirmar-envio'")
    assert site.number in page.locator("#confirmar-envio").inner_text()
    page.screenshot(path=str(ARTIFACTS / "document-confirm-1440x900.png"))
