"""What the browser tests of the issuing pages share (test_browser_issued.py, test_browser_support.py,
test_browser_archive.py, test_browser_audit_chain.py): screenshots at both sizes with the page walk's phone checks,
the preview PDF posted with the preview page's own fields, and going to an area through the bar's menus."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.web.test_browser_titles import SIZES
from tests.web.test_page_walk import AUDIT_JS

__all__ = ["go_to_area", "preview_pdf", "shoot"]


def go_to_area(page: Any, label: str) -> None:
    """Click an area of the bar, opening its menu first where the role's areas are grouped (web/nav.py)."""
    link = page.locator("nav.areas a", has_text=label)
    if not link.is_visible():
        menu = page.locator("nav.areas li.nav-group", has=page.locator("a", has_text=label))
        menu.locator("summary").click()
    link.click()


def shoot(page: Any, directory: Path, name: str) -> None:
    """The page at both sizes (full page) into ``directory``; on the phone no sideways scroll, one h1 and every control
    labelled."""
    directory.mkdir(parents=True, exist_ok=True)
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        path = directory / f"{name}-{size}.png"
        page.screenshot(path=str(path), full_page=True)
        if size == "390x844":
            found = page.evaluate(AUDIT_JS)
            assert found["scrollWidth"] <= found["innerWidth"], f"{name} scrolls sideways at 390 px: {found['wide']}"
            assert (found["lang"], found["h1"], found["unlabelled"]) == ("es-CO", 1, []), (name, found)
    page.set_viewport_size(SIZES["1440x900"])


def preview_pdf(page: Any, address: str) -> bytes:
    """The preview PDF at ``address``, posted with the fields the preview page carries (#confirmar-envio)."""
    fields = page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('#confirmar-envio input')]
                                 .map((el) => [el.name, el.value]))""")
    answer = page.context.request.post(address, form=fields)
    assert answer.ok and answer.headers["content-type"] == "application/pdf"
    return answer.body()
