"""'Validación DIAN sin confirmar' and the 'Certificados DIAN' page in a real browser (Debian's Chromium under
Playwright), at a desktop (1440×900) and a phone (390×844) size: a bare invoice mailed without DIAN's answer is filed
unconfirmed by the real intake; the clerk sees the amber banner and filters the inbox by it; the auditor reads the
certificates page. Screenshots go to test-artifacts/ (gitignored) for a person to look at."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from dian.trust import fingerprint, issuer_text, spki_fingerprint, subject_text
from dian.ubl import parse_document
from store.models import DianCertificate, Verdict
from tests.integration.dian_fixtures import BUYER_NIT, SELLER_NIT
from tests.integration.inbox_fixtures import append, mail
from tests.web import browser_pages
from tests.web.test_browser import browser, log_in, screenshot, site  # noqa: F401 - fixtures and helpers
from tests.web.test_browser import events_bed as events_bed  # the fixture, re-exported

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

SIZES = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
# The elements that stick out of the viewport (those inside a box that scrolls are not counted, nor those a person
# cannot see: the folded menu's links are laid out when measured, though its <details> is closed).
OVERFLOW = """() => [...document.querySelectorAll('body *')].filter(e => {
    if (!e.checkVisibility({contentVisibilityAuto: true, visibilityProperty: true})) return false;
    for (let p = e.parentElement; p; p = p.parentElement) {
        if (getComputedStyle(p).overflowX === 'auto') return false;
    }
    return e.getBoundingClientRect().right > document.documentElement.clientWidth + 1;
}).map(e => (e.closest('[id]') || {}).id + '>' + e.tagName + '.' + e.className + ' '
    + Math.round(e.getBoundingClientRect().right)).slice(0, 5).join(' | ')"""


def _bare_invoice(live: Any) -> tuple[int, str]:
    """The seller's invoice mailed on its own, without DIAN's ApplicationResponse: filed, but unconfirmed."""
    bed = live.bed
    bare = bed.world.invoice(at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=3))
    append(bed.dovecot, bed.folder, mail(("factura.xml", bare), subject=f"{SELLER_NIT};PROVEEDOR;X;01;PROVEEDOR"))
    from buzon import jobs

    assert jobs.poll_mailbox()["summary"]["filed"] == 1
    cufe = parse_document(bare).uuid
    return bed.document_id(cufe), parse_document(bare).number


def _learn(live: Any, cufe: str) -> None:
    """A DIAN certificate as intake's online confirmation records it (the simulator's 'DIAN' signer)."""
    cert = live.bed.world.simulator.dian_identity.certificate
    with live.bed.sessions() as s:
        s.add(DianCertificate(spki_sha256=spki_fingerprint(cert), fingerprint_sha256=fingerprint(cert),
                              subject=subject_text(cert), issuer=issuer_text(cert), serial=hex(cert.serial_number),
                              not_before=cert.not_valid_before_utc, not_after=cert.not_valid_after_utc,
                              pem=cert.public_bytes(serialization.Encoding.PEM).decode(), learned_from=cufe,
                              endpoint=live.bed.world.url, environment="simulator"))  # fmt: skip
        s.commit()


@pytest.mark.parametrize("events_bed", ["sqlite"], indirect=True)
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_unconfirmed_document_inbox_filter_and_certificates_page(browser, site, size):  # noqa: F811
    doc_id, number = _bare_invoice(site)
    doc = site.bed.document(doc_id)
    assert doc.verdict is Verdict.UNCONFIRMED, (doc.verdict, doc.report)
    _learn(site, site.bed.document(site.document_id).cufe)

    context = browser.new_context(locale="es-CO", viewport=SIZES[size])
    page = context.new_page()
    page.set_default_timeout(20_000)
    log_in(page, site, "ana")

    page.goto(f"{site.url}/?verdict=unconfirmed")
    rows = page.locator("#documentos tbody tr")
    assert rows.count() == 1 and number in rows.first.inner_text()
    badge = rows.first.locator(".verdict-tag.verdict-unconfirmed")
    assert "Validación DIAN sin confirmar" in badge.inner_text()
    assert page.locator("select[name=verdict]").input_value() == "unconfirmed"
    assert page.evaluate(OVERFLOW) == ""
    assert badge.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(253, 230, 138)"  # amber
    screenshot(page, f"inbox-unconfirmed-{size}.png")

    page.goto(f"{site.url}/documentos/{doc_id}")
    banner = page.locator("#sin-confirmar")
    assert banner.is_visible()
    text = banner.inner_text()
    assert "Validación DIAN sin confirmar" in text and "ningún evento automático" in text
    assert "Pedir al proveedor" in text and "Consultar a la DIAN en línea" in text
    assert banner.evaluate("e => getComputedStyle(e).borderLeftColor") == "rgb(180, 83, 9)"
    box = banner.bounding_box()
    assert box is not None and box["width"] <= SIZES[size]["width"]  # no sideways scrolling on a phone
    assert page.evaluate(OVERFLOW) == ""  # nothing pushes the page sideways
    assert page.locator("#verificacion tr.check-warn td[title='dian.response']").count() == 1
    assert page.locator("#verificacion tr.check-pass td[title='dian.response']").count() == 0
    screenshot(page, f"document-unconfirmed-{size}.png")
    context.close()

    context = browser.new_context(locale="es-CO", viewport=SIZES[size])
    page = context.new_page()
    page.set_default_timeout(20_000)
    log_in(page, site, "olga")
    if size == "phone":  # the areas fold behind "Menú" on a phone
        page.locator("details.menu > summary").click()
    browser_pages.go_to_area(page, "Certificados DIAN")  # in the Control menu on a wide screen (web/nav.py)
    page.wait_for_url(f"{site.url}/certificados-dian")
    learned = page.locator("#certificados-aprendidos tbody tr")
    assert learned.count() == 1
    assert "800197268" in learned.first.inner_text()
    assert page.locator("#raices-de-confianza tbody tr").count() >= 1  # the simulator's CA
    assert page.evaluate(OVERFLOW) == ""  # wide tables scroll inside their box, not the page
    screenshot(page, f"certificates-{size}.png")
    context.close()


def _forged_event(live: Any) -> None:
    """A 034 about the site's invoice mailed by a stranger (NIT 123456789) with a forger's own "DIAN" answer."""
    from types import SimpleNamespace

    from tests.integration.trust_fixtures import STRANGER_NIT, event_mail, forged, party, stranger

    bed = live.bed
    cufe = bed.document(live.document_id).cufe
    number = bed.document(live.document_id).number
    about = SimpleNamespace(invoice=SimpleNamespace(number=number, cufe=cufe), company_nit=BUYER_NIT)
    container = event_mail(about, stranger(), party(STRANGER_NIT, "ATACANTE S.A.S."), forged().pki.dian, BUYER_NIT)
    append(bed.dovecot, bed.folder, mail(("evento.xml", container), subject="Evento;034;ATACANTE"))
    from buzon import jobs

    assert jobs.poll_mailbox()["summary"]["quarantined"] == {"forged": 1}


@pytest.mark.parametrize("events_bed", ["sqlite"], indirect=True)
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_a_forged_event_in_quarantine_says_what_did_not_match(browser, site, size):  # noqa: F811
    _forged_event(site)
    context = browser.new_context(locale="es-CO", viewport=SIZES[size])
    page = context.new_page()
    page.set_default_timeout(20_000)
    log_in(page, site, "ana")
    page.goto(f"{site.url}/cuarentena")
    text = page.locator("main").inner_text()
    assert "123456789" in text and "vendedor" in text  # who sent it, and who alone may
    assert page.evaluate(OVERFLOW) == ""
    screenshot(page, f"quarantine-forged-{size}.png")
    page.goto(f"{site.url}/documentos/{site.document_id}")
    assert "Aceptación tácita" not in page.locator("#eventos").inner_text()  # the invoice's state did not move
    context.close()
