"""Pages on a phone, in Debian's Chromium against the real app: the quarantine list is one card per mail whose reason
and detail are on screen without scrolling sideways (the clerk acts on that sentence), and a document page's tables
(lines, taxes, the verification's checks) fit the screen; at 1440×900 they stay tables. Screenshots go to
test-artifacts/ for a person to look at."""

from __future__ import annotations

from typing import Any

import pytest

from buzon import jobs
from tests.integration.events_fixtures import events_bed as events_bed
from tests.integration.inbox_fixtures import append, mail
from tests.web.test_browser import browser as browser
from tests.web.test_browser import log_in, screenshot
from tests.web.test_browser import site as site

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]


@pytest.mark.parametrize("events_bed", ["sqlite"], indirect=True)
def test_a_quarantined_mail_reads_as_a_card_on_a_phone(browser: Any, site: Any) -> None:
    append(site.bed.dovecot, site.bed.folder, mail(("nota.txt", b"sin factura"), subject="Cotizacion de marzo"))
    assert jobs.poll_mailbox()["summary"]["quarantined"] == {"no_document": 1}
    for width, height, cards in ((390, 844, True), (1440, 900, False)):
        context = browser.new_context(locale="es-CO", viewport={"width": width, "height": height})
        page = context.new_page()
        page.set_default_timeout(20_000)
        log_in(page, site, "ana")
        page.goto(f"{site.url}/cuarentena")
        row = page.locator("#cuarentena tbody tr").first
        detail = row.locator(".q-detail")
        assert "no trae ningún documento electrónico" in detail.inner_text()
        box = detail.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (width, box)
        assert page.evaluate("document.scrollingElement.scrollWidth") <= width  # nothing to scroll sideways to
        header_shown = page.locator("#cuarentena thead").is_visible()
        assert header_shown is not cards, (width, header_shown)
        if cards:
            named = row.locator("td[data-label='Motivo']").evaluate("td => getComputedStyle(td, '::before').content")
            assert named == '"Motivo: "', named  # each cell of the card is named
        screenshot(page, f"cuarentena-{width}.png")
        context.close()


# Tables in a document page that scroll sideways inside their own box on this width (none should).
_OVERFLOWING = """() => [...document.querySelectorAll('table')]
    .filter(t => t.scrollWidth > t.clientWidth + 2)
    .map(t => `${t.className} in #${(t.closest('section') || {}).id}: ${t.scrollWidth}/${t.clientWidth}`)"""


@pytest.mark.parametrize("events_bed", ["sqlite"], indirect=True)
def test_a_document_page_fits_a_phone(browser: Any, site: Any) -> None:
    for width, height in ((390, 844), (1440, 900)):
        context = browser.new_context(locale="es-CO", viewport={"width": width, "height": height})
        page = context.new_page()
        page.set_default_timeout(20_000)
        log_in(page, site, "ana")
        page.goto(f"{site.url}/documentos/{site.document_id}")
        assert page.evaluate(_OVERFLOWING) == [], width
        assert page.evaluate("document.scrollingElement.scrollWidth") <= width
        detail = page.locator("table.checks tbody tr").first.locator("td").last
        box = detail.bounding_box()
        assert box is not None and box["x"] + box["width"] <= width, (width, box)
        if width < 768:  # on a phone the detail takes the card's width, not a squeezed fourth column
            assert box["width"] > width / 2, box
        assert page.locator("table.lines").first.locator("td[data-label='Valor']").first.is_visible()
        screenshot(page, f"documento-{width}.png")
        context.close()
