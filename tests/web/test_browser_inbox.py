"""The inbox in Chromium (Playwright) against the real app, events service and DIAN simulator over HTTP: search,
select-all, bulk 033 with its confirmation, bulk assignment and the saved views, at 1440x900 and 390x844 (no
horizontal page scroll), with screenshots in test-artifacts/."""

from __future__ import annotations

import re

import pytest

from dian.codes import EventCode
from tests.integration.events_fixtures import days_ago
from tests.web.test_browser import browser as browser
from tests.web.test_browser import events_bed as events_bed
from tests.web.test_browser import log_in, screenshot
from tests.web.test_browser import site as site

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} is {width}px wide"


@pytest.mark.parametrize("events_bed", ["sqlite"], indirect=True)
def test_select_all_bulk_033_with_confirmation_assign_and_saved_views(browser, site):
    bed = site.bed
    # Two more invoices; the fixture's and one more get 030 + 032 registered, the third is left without them.
    second = bed.receive(at=days_ago(1, hour=11))
    third = bed.receive(at=days_ago(1, hour=12))
    for document_id in (site.document_id, second):
        bed.send(document_id, EventCode.ACUSE_RECIBO)
        bed.send(document_id, EventCode.RECIBO_BIEN)
    bed.deliver()
    numbers = {i: bed.document(i).number for i in (site.document_id, second, third)}

    page = site.page(browser)
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, site, "ana")
    assert page.locator("#conteo").inner_text().startswith("3 documentos recibidos")
    # The row of a document in its window says when it ends, in the filter's words.
    row = page.locator("#documentos tbody tr", has_text=numbers[second])
    assert re.search(r"Vence (hoy|mañana|el \w+|en \d días hábiles)", row.locator("td.deadline").inner_text())
    screenshot(page, "inbox-1440.png")

    # The search box: part of the number, in lower case.
    part = numbers[third][-3:].lower()
    page.fill("input[name=q]", part)
    page.click("#filtros button[type=submit]")
    page.wait_for_url(re.compile(r"q="))
    assert numbers[third] in page.locator("#documentos").inner_text()
    assert "coincide" in page.locator("#conteo").inner_text()
    screenshot(page, "inbox-searched-1440.png")

    # Select-all on the page, then 033: a confirmation page lists what will and will not be sent.
    page.goto(f"{site.url}/")
    page.check("#marcar-pagina")
    assert page.locator("#marcados").inner_text() == "3"
    page.click("button[value=aceptar]")
    page.wait_for_selector("#confirmar-resumen")
    assert "2 facturas" in page.locator("#confirmar-resumen").inner_text()
    will = page.locator("#se-enviara").inner_text()
    assert numbers[site.document_id] in will and numbers[second] in will
    wont = page.locator("#no-se-enviara").inner_text()
    assert numbers[third] in wont and "primero debe estar registrado el evento 030" in wont  # not allowed, and why
    assert page.evaluate("document.activeElement.textContent").startswith("Enviar 033 de 2 facturas")
    screenshot(page, "inbox-bulk-confirm-1440.png")
    page.click(".confirm-form button[type=submit]")
    page.wait_for_selector("#resultado")
    result = page.locator("#resultado").inner_text()
    assert result.count("Registrado por la DIAN") == 2, result
    assert "2 registrados por la DIAN" in page.locator("#resultado-resumen").inner_text()
    assert page.evaluate("document.activeElement.id") == "resultado-resumen"
    screenshot(page, "inbox-bulk-result-1440.png")
    states = {e.code.value: e.submission_state.value for e in bed.events(second)}
    assert states["033"] == "registered"
    assert "033" not in {e.code.value for e in bed.events(third)}

    # Assign every document the inbox shows (scope "all that match") to the clerk herself.
    page.goto(f"{site.url}/")
    page.check("input[name=scope][value=all]")
    page.select_option("#asignar-a", "ana")
    page.click("button[value=asignar]")
    page.wait_for_selector("#resultado")
    assert page.locator("#resultado").inner_text().count("Asignado a Ana Lucía Torres Rivera") == 3

    # "Mis facturas" is one click, and the rows name the assignee.
    page.goto(f"{site.url}/")
    page.get_by_role("link", name="Mis facturas").click()
    page.wait_for_url(re.compile(r"assigned=me"))
    assert page.locator("nav.views a[aria-current=page]").inner_text() == "Mis facturas"
    assert page.locator("#documentos tbody tr").count() == 3
    assert "Ana Lucía Torres Rivera" in page.locator("#documentos").inner_text()
    assert "Aceptada" in page.locator("#documentos tbody tr", has_text=numbers[second]).inner_text()
    screenshot(page, "inbox-filtered-1440.png")

    # "Vencen hoy" and a refused date say what they found, or why not, on the page.
    page.get_by_role("link", name="Vencen hoy").click()
    page.wait_for_url(re.compile(r"due=0"))
    page.goto(f"{site.url}/?to=9999-12-31")
    assert "fuera del rango" in page.locator("#filtro-error").inner_text()

    # A phone: the same pages reflow, nothing scrolls sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    for path, name in (
        ("/", "inbox-390.png"),
        (f"/?q={part}", "inbox-searched-390.png"),
        ("/?assigned=me", "inbox-filtered-390.png"),
        ("/?to=9999-12-31", "inbox-date-refused-390.png"),
    ):
        page.goto(site.url + path)
        no_sideways_scroll(page)
        screenshot(page, name)
    page.goto(f"{site.url}/")
    page.check(f"#marcar-{third}")
    page.click("button[value=aceptar]")
    page.wait_for_selector("#confirmar-resumen")
    no_sideways_scroll(page)
    screenshot(page, "inbox-bulk-confirm-390.png")
    page.goto(f"{site.url}/")
    page.check(f"#marcar-{third}")
    page.click("button[value=acuse]")
    page.wait_for_selector("#resultado")
    no_sideways_scroll(page)
    screenshot(page, "inbox-bulk-result-390.png")
