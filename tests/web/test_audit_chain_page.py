"""Cadena de la auditoría on SQLite and PostgreSQL: the page says "verificada" only after recomputing the whole chain
when asked, "rota" naming the entry an attacker with the database's rights changed, and refuses a malformed head."""

from __future__ import annotations

import html

import pytest
import sqlalchemy as sa

from store.audit import chain_head, record
from store.models import Role
from tests.web.conftest import csrf_token

pytestmark = pytest.mark.integration


def verify(client, **form):
    return client.post("/auditoria/cadena", data={"csrf_token": csrf_token(client), **form})


def test_the_chain_is_verified_when_asked_and_found_broken_after_a_change(app_and_db, client_as):
    _, session = app_and_db
    auditor = client_as(Role.AUDITOR)
    page = auditor.get("/auditoria/cadena").get_data(as_text=True)
    assert "Verificar ahora" in page and "Cadena verificada" not in page and "Cadena rota" not in page
    assert 'href="/auditoria/cadena"' in auditor.get("/auditoria").get_data(as_text=True)
    entries = [record(session, actor="user:ana", action="login", subject=str(i)) for i in range(3)]
    session.commit()

    answer = verify(auditor)
    text = html.unescape(answer.get_data(as_text=True))
    assert answer.status_code == 200 and "Cadena verificada" in text
    position, digest = chain_head(session)
    assert position >= 3 and f"posición {position}, hash" in text and digest in text
    assert "Cadena verificada" in html.unescape(verify(auditor, cabeza=f"{position}:{digest}").get_data(as_text=True))

    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_no_change")
    else:
        conn.exec_driver_sql("DROP TRIGGER audit_entries_no_update")
    conn.execute(sa.text("UPDATE audit_entries SET actor = 'user:mallory' WHERE id = :id"), {"id": entries[1].id})
    text = html.unescape(verify(auditor).get_data(as_text=True))
    assert "Cadena verificada" not in text and "Cadena rota" in text
    assert f"(entrada n.º {entries[1].id})" in text and "modificada después de sellada" in text


def test_a_malformed_head_is_refused_in_spanish_and_other_roles_may_not_verify(client_as):
    answer = verify(client_as(Role.AUDITOR), cabeza="12:abc")
    assert answer.status_code == 400
    assert "no tiene la forma POSICIÓN:HASH" in html.unescape(answer.get_data(as_text=True))
    assert client_as(Role.CLERK).get("/auditoria/cadena").status_code == 403
    assert verify(client_as(Role.CLERK)).status_code == 403
