"""Paquete de auditoría in Chromium (issue 20): an auditor signs in, sees the period form and the active legal holds,
downloads the pack of a period (it verifies offline), and a period backwards is a Spanish error; screenshots at
1440x900 and 390x844 into test-artifacts/archivo/, with the page walk's phone checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from store.archive.verify import verify_pack
from store.models import ReceivedDocument, Role
from tests.integration.archive_fixtures import ArchiveBed, archive_bed, period  # noqa: F401 - the fixture
from tests.integration.issuing_fixtures import issuing_bed  # noqa: F401 - the fixture
from tests.web import browser_pages
from tests.web.conftest import add_user
from tests.web.test_browser import browser as browser  # the fixture (Debian's Chromium), shared
from tests.web.test_browser_titles import log_in, serve
from web.app import create_app

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "archivo"


def shoot(page: Any, name: str) -> None:
    browser_pages.shoot(page, ARTIFACTS, name)


@pytest.mark.parametrize("issuing_bed", ["sqlite"], indirect=True)
def test_an_auditor_downloads_the_pack_in_the_browser(browser, archive_bed: ArchiveBed, tmp_path: Path) -> None:  # noqa: F811
    bed = archive_bed
    held = bed.cli("archive", "hold", "add", "--scope", "supplier", "--nit", "805004648", "--reason",
                   "Requerimiento de la DIAN 2026-118: facturas de este proveedor")  # fmt: skip
    assert held.exit_code == 0, held.output
    with bed.sessions() as s:
        cufe = s.execute(sa.select(ReceivedDocument.cufe).order_by(ReceivedDocument.id)).scalars().first()
    assert bed.cli("archive", "hold", "add", "--scope", "document", "--cufe", cufe, "--reason", "Proceso judicial "
                   "ante el juzgado 12 civil del circuito").exit_code == 0  # fmt: skip
    with bed.sessions() as s:
        add_user(s, "auditora", Role.AUDITOR, first_name="Alba", family_name="Ruiz")
        s.commit()
    runtime = bed.issuing.runtime
    app = create_app(bed.issuing.settings, engine=runtime.engine, company_identity=runtime.company_identity)
    with serve(app) as url:
        page = log_in(browser, url, "auditora")
        browser_pages.go_to_area(page, "Paquete de auditoría")  # in the Control menu: an auditor's areas are grouped
        page.wait_for_selector("#form-paquete")
        holds = page.locator("#retenciones").inner_text()
        assert "Requerimiento de la DIAN 2026-118" in holds and "los documentos del NIT 805004648" in holds
        assert f"el documento con CUFE/CUDE {cufe}" in holds
        first, last = period()
        page.fill("#p-desde", first)
        page.fill("#p-hasta", last)
        shoot(page, "paquete")
        with page.expect_download() as download:
            page.click("#descargar-paquete")
        pack = tmp_path / download.value.suggested_filename
        download.value.save_as(pack)
        assert pack.name == f"paquete-auditoria-{first}-{last}.zip"
        check = verify_pack(pack)
        assert check.ok and check.files > 10, check.problems

        page.goto(f"{url}/archivo/paquete?desde=2026-02-01&hasta=2026-01-01")
        assert "es posterior a Hasta" in page.locator("#error-paquete").inner_text()
        shoot(page, "paquete-error")
