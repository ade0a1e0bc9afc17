"""Cadena de la auditoría in Chromium (issue 20): an auditor goes from the log to the chain page, verifies it (the page
says "verificada" only then), and after an entry is changed in the database behind the application's back the same
button says "rota" naming it; screenshots at 1440x900 and 390x844 into test-artifacts/auditoria-cadena/, with the
page walk's phone checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from buzon.config import default_settings
from store import audit
from store.db import session_factory
from store.models import Role
from tests.services import migrated_database
from tests.web import browser_pages
from tests.web.conftest import add_user
from tests.web.test_browser import browser as browser  # the fixture (Debian's Chromium), shared
from tests.web.test_browser_titles import log_in, serve
from web.app import create_app

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "auditoria-cadena"


def shoot(page: Any, name: str) -> None:
    browser_pages.shoot(page, ARTIFACTS, name)


def test_an_auditor_verifies_the_chain_and_sees_it_broken_after_a_change(browser, tmp_path: Path) -> None:
    with migrated_database("sqlite", tmp_path) as engine:
        sessions = session_factory(engine)
        with sessions() as s:
            add_user(s, "auditora", Role.AUDITOR, first_name="Alba", family_name="Ruiz")
            s.commit()
        for i in range(5):
            with sessions() as s:
                audit.record(s, actor="user:auditora", action="document.viewed", subject=f"FE{i}")
                s.commit()
        app = create_app(default_settings(base=tmp_path), engine=engine)
        with serve(app) as url:
            page = log_in(browser, url, "auditora")
            page.goto(f"{url}/auditoria")
            page.click("#enlace-cadena")
            page.wait_for_selector("#verificar-cadena")
            assert page.locator("#cadena-verificada").count() == 0
            page.click("#verificar-cadena button[type=submit]")
            page.wait_for_selector("#cadena-verificada")
            text = page.locator("#cadena-verificada").inner_text()
            with engine.connect() as conn:
                position, digest = audit.chain_head(conn)
            assert "Cadena verificada" in text and f"posición {position}" in text and digest in text
            shoot(page, "verificada")

            with engine.begin() as conn:  # as the database's owner could
                conn.exec_driver_sql("DROP TRIGGER audit_entries_no_update")
                changed = conn.execute(sa.text("SELECT id FROM audit_entries WHERE subject = 'FE2'")).scalar_one()
                conn.execute(sa.text("UPDATE audit_entries SET actor = 'user:mallory' WHERE id = :id"), {"id": changed})
            page.click("#verificar-cadena button[type=submit]")
            page.wait_for_selector("#cadena-rota")
            text = page.locator("#cadena-rota").inner_text()
            assert "Cadena rota" in text and f"entrada n.º {changed}" in text
            shoot(page, "rota")
