"""web.assignment: who may take a document, the change and its audit entry, on real SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from store.models import AuditEntry, Role
from tests.web.conftest import add_user
from tests.web.test_documents import blobs as blobs  # the fixtures, re-exported for these tests
from tests.web.test_documents import document as document
from web.assignment import AssignmentRefused, assign, assignable_users

pytestmark = pytest.mark.integration


def audit(session, action: str) -> list[AuditEntry]:
    return list(session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def test_assign_changes_the_assignee_and_audits_from_and_to(app_and_db, document):
    _, session = app_and_db
    add_user(session, "ana", Role.CLERK, first_name="Ana", family_name="Torres")
    add_user(session, "luis", Role.CLERK, first_name="Luis", family_name="Mora")
    assert assign(session, document, "ana", "user:jefe", source="127.0.0.1") is True
    assert assign(session, document, "luis", "user:jefe") is True
    assert assign(session, document, "luis", "user:jefe") is False  # no change, no entry
    session.flush()
    assert document.assigned_to == "luis"
    entries = audit(session, "document.assigned")
    assert [(e.data["from"], e.data["to"]) for e in entries] == [(None, "ana"), ("ana", "luis")]
    assert entries[0].subject == document.cufe and entries[0].source == "127.0.0.1"
    assert entries[0].data["number"] == document.number
    assert assign(session, document, "", "user:jefe") is True
    assert document.assigned_to is None
    assert audit(session, "document.unassigned")[0].data == {
        "document_id": document.id, "number": document.number, "from": "luis", "to": None,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("username", "role", "active", "says"),
    [
        ("nadie", None, True, "No existe el usuario «nadie»"),
        ("olga", Role.AUDITOR, True, "no es auxiliar"),
        ("pedro", Role.CLERK, False, "está desactivado"),
    ],
)
def test_assign_refuses_who_cannot_take_documents(app_and_db, document, username, role, active, says):
    _, session = app_and_db
    if role is not None:
        add_user(session, username, role, active=active)
    with pytest.raises(AssignmentRefused) as refused:
        assign(session, document, username, "user:jefe")
    assert says in refused.value.reason
    assert document.assigned_to is None
    assert audit(session, "document.assigned") == []


def test_only_active_clerks_are_offered(app_and_db):
    _, session = app_and_db
    add_user(session, "ana", Role.CLERK, first_name="Ana")
    add_user(session, "bea", Role.CLERK, first_name="Bea", active=False)
    add_user(session, "tito", Role.TREASURY, first_name="Tito")
    add_user(session, "adm", Role.ADMIN)
    assert [u.username for u in assignable_users(session)] == ["ana"]
