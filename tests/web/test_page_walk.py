"""Every page of the app in Debian's Chromium, as each of the five demo users, on a seeded demo installation: at
390x844 no page scrolls sideways (WCAG 1.4.10), every page says lang="es-CO", has exactly one h1, and every visible
input, select and textarea has a label (label[for] or a wrapping label, aria-label or aria-labelledby).

The pages are discovered, not listed: every GET route without parameters in app.url_map (so a page added tomorrow is
walked too), a document page, the login page, and the error pages (404, 405, the CSRF refusal, a 500 and, for roles
that meet one, 403). Screenshots of each at 1440x900 and 390x844 go to test-artifacts/walk/ for a person to look at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Blueprint
from sqlalchemy.orm import Session

from store.models import OutboundDocument, Role
from tests.web.demo_site import DemoSite, demo_site, served
from tests.web.test_browser import browser as browser  # the fixture (Debian's Chromium), shared
from web.access import roles

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "walk"
DEMO_PASSWORD = "buzon-demo"
USERS = {
    "auxiliar": Role.CLERK,
    "tesoreria": Role.TREASURY,
    "admin": Role.ADMIN,
    "auditor": Role.AUDITOR,
    "facturacion": Role.BILLING,
}
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
BOOM = "/prueba/error-interno"
NOT_PAGES = {"static", "health", "auth.logout"}  # no HTML page of their own

# The checks, run in the page: sideways scroll, lang, h1s, and the visible form controls that nobody labelled.
AUDIT_JS = """() => {
  const visible = (el) => {
    const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
  };
  const skip = new Set(['hidden', 'submit', 'button', 'reset', 'image']);
  const unlabelled = [...document.querySelectorAll('input, select, textarea')]
    .filter((el) => !(el.tagName === 'INPUT' && skip.has(el.type)) && visible(el))
    .filter((el) => !(el.labels && el.labels.length) && !(el.getAttribute('aria-label') || '').trim()
                    && !(el.getAttribute('aria-labelledby') || '').trim())
    .map((el) => el.outerHTML.slice(0, 120));
  const wide = [...document.querySelectorAll('body *')]
    .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1 && visible(el))
    .filter((el) => !el.closest('.table-scroll, table, pre') || el.matches('.table-scroll, table, pre'))
    .slice(0, 5).map((el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
                      + (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ')[0] : '')
                      + ' right=' + Math.round(el.getBoundingClientRect().right));
  return {
    scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
    lang: document.documentElement.getAttribute('lang'),
    h1: document.querySelectorAll('h1').length, unlabelled, wide,
  };
}"""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[DemoSite]:
    with demo_site(Path(tmp_path_factory.mktemp("walk"))) as found:
        probe = Blueprint("walk_probe", __name__)

        @probe.get(BOOM)
        @roles(*Role)
        def boom() -> str:
            raise RuntimeError("un fallo de prueba")

        found.app.register_blueprint(probe)
        with served(found) as running:
            yield running


def discovered(site: DemoSite) -> list[str]:
    """GET routes without parameters that answer HTML pages, plus a document page."""
    paths = []
    for rule in site.app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments or rule.endpoint in NOT_PAGES:
            continue
        if rule.rule.startswith("/api/") or rule.rule == BOOM:
            continue
        paths.append(rule.rule)
    document = site.first_document()
    assert document is not None, "the demo seeded no documents"
    paths.append(f"/documentos/{document.id}")
    with Session(site.engine) as session:  # one of our own documents (the demo's receivables), when there is one
        issued = session.scalars(sa.select(OutboundDocument.id).order_by(OutboundDocument.id)).first()
    if issued is not None:
        paths.append(f"/facturas-emitidas/{issued}")
    return sorted(set(paths))


def slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "inicio"


def audit_page(page: Any, name: str) -> list[str]:
    """The problems of the page now shown at 390 px; a screenshot at each size."""
    problems = []
    page.set_viewport_size(PHONE)
    found = page.evaluate(AUDIT_JS)
    if found["scrollWidth"] > found["innerWidth"]:
        problems.append(f"{name}: scrolls sideways at 390 px ({found['scrollWidth']} px wide; {found['wide']})")
    if found["lang"] != "es-CO":
        problems.append(f"{name}: lang={found['lang']!r}")
    if found["h1"] != 1:
        problems.append(f"{name}: {found['h1']} h1 elements")
    if found["unlabelled"]:
        problems.append(f"{name}: unlabelled controls {found['unlabelled']}")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}-390x844.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(ARTIFACTS / f"{name}-1440x900.png"), full_page=True)
    return problems


def new_page(browser: Any) -> Any:
    context = browser.new_context(locale="es-CO", viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page


def log_in(page: Any, site: DemoSite, username: str) -> None:
    page.goto(f"{site.url}/ingresar")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("form.stacked button[type=submit]")
    page.wait_for_load_state()
    assert "/ingresar" not in page.url, f"{username} could not sign in"


@pytest.mark.parametrize("username", list(USERS))
def test_every_page_reflows_at_390_px_for_each_role(browser, site, username):
    page = new_page(browser)
    log_in(page, site, username)
    problems: list[str] = []
    walked = refused = 0
    for path in discovered(site):
        head = page.request.get(site.url + path, max_redirects=0)
        kind = head.headers.get("content-type", "")
        if head.status in (301, 302, 303, 307, 308) or "text/html" not in kind:
            continue  # a redirect, a download (CSV) or JSON: not a page of its own
        if "attachment" in head.headers.get("content-disposition", ""):
            continue
        page.goto(site.url + path)
        page.wait_for_load_state()
        if head.status == 403:
            refused += 1
            if refused > 1:
                continue  # one 403 page per role is enough to look at
        problems += audit_page(page, f"{username}-{slug(path)}" if head.status != 403 else f"{username}-403")
        walked += 1
    assert walked >= 4, f"only {walked} pages walked for {username}"
    for path, name in (("/no-existe", "404"), ("/salir", "405"), (BOOM, "500")):
        page.goto(site.url + path)
        problems += audit_page(page, f"{username}-{name}")
    assert not problems, "\n".join(problems)


def test_the_login_and_anonymous_error_pages(browser, site):
    page = new_page(browser)
    problems = []
    page.goto(f"{site.url}/ingresar")
    problems += audit_page(page, "anonimo-ingresar")
    page.goto(f"{site.url}/no-existe")
    problems += audit_page(page, "anonimo-404")
    # The CSRF refusal: a form posted without its token.
    with page.expect_navigation():  # wait for the posted page itself, not the one the form was made on
        page.evaluate("""() => { const f = document.createElement('form'); f.method = 'post';
                                  f.action = '/ingresar'; document.body.appendChild(f); f.submit(); }""")
    page.wait_for_load_state()
    assert "No se pudo enviar el formulario" in page.locator("h1").inner_text()
    problems += audit_page(page, "anonimo-400-csrf")
    assert not problems, "\n".join(problems)


def test_the_phone_menu_opens_and_the_skip_link_reaches_the_content(browser, site):
    page = new_page(browser)
    log_in(page, site, "auxiliar")
    menu = page.locator("details.menu")
    assert menu.locator("summary").is_visible()
    assert not page.locator("nav.areas").is_visible()  # folded on a phone
    menu.locator("summary").click()
    assert page.locator("nav.areas").is_visible()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "auxiliar-menu-abierto-390x844.png"))
    page.set_viewport_size(DESKTOP)
    page.goto(site.url + "/")
    assert not page.locator("details.menu summary").is_visible()
    assert page.locator("nav.areas").is_visible()  # always shown on a wide screen
    page.keyboard.press("Tab")
    skip = page.locator("a.skip-link")
    assert skip.evaluate("el => el === document.activeElement")
    assert skip.inner_text() == "Saltar al contenido"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "contenido"


def test_many_areas_are_grouped_in_menus_and_a_few_stay_on_one_line(browser, site):
    """web/nav.py: the administrator's sixteen areas under four menus of the bar, one open at a time, the page's own
    menu marked; the clerk's areas listed as they are; each bar on one line at 1440 px."""
    page = new_page(browser)
    page.set_viewport_size(DESKTOP)
    log_in(page, site, "admin")
    page.goto(f"{site.url}/tareas")
    groups = page.locator("nav.areas li.nav-group > details > summary")
    assert groups.all_text_contents() == ["Recepción", "Tesorería", "Facturación", "Control"]
    assert page.locator("nav.areas details.here > summary").text_content() == "Control"
    assert page.locator("nav.areas a[aria-current=page]").text_content() == "Tareas"
    assert page.locator("nav.areas > ul").bounding_box()["height"] < 40  # one line
    assert not page.locator("nav.areas >> text=Títulos valor").is_visible()
    groups.nth(1).click()
    assert page.locator("nav.areas >> text=Títulos valor").is_visible()
    groups.nth(0).click()  # <details name="areas">: opening one menu closes the other
    assert page.locator("nav.areas >> text=Bandeja").is_visible()
    assert not page.locator("nav.areas >> text=Títulos valor").is_visible()
    page.click("nav.areas >> text=Bandeja")
    page.wait_for_load_state()
    assert page.locator("nav.areas details.here > summary").text_content() == "Recepción"

    clerk = new_page(browser)
    clerk.set_viewport_size(DESKTOP)
    log_in(clerk, site, "auxiliar")
    assert clerk.locator("nav.areas li.nav-group").count() == 0
    assert clerk.locator("nav.areas >> text=Bandeja").is_visible()
    assert clerk.locator("nav.areas >> text=Títulos valor").is_visible()
    assert clerk.locator("nav.areas > ul").bounding_box()["height"] < 40


def test_on_a_phone_the_groups_are_headings_of_the_open_menu(browser, site):
    page = new_page(browser)
    log_in(page, site, "admin")
    page.click("details.menu > summary")
    for label in ("Bandeja", "Títulos valor", "Facturas emitidas", "Administración"):
        assert page.locator(f"nav.areas >> text={label}").is_visible(), label
    heading = page.locator("nav.areas li.nav-group summary", has_text="Control")
    assert heading.evaluate("el => getComputedStyle(el).pointerEvents") == "none"  # a heading: a tap cannot fold it
