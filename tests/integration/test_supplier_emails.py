"""DIAN's reception addresses (GetExchangeEmails) read daily into the suppliers table by the job
refresh_supplier_emails (events/supplier_emails.py), shown on the supplier's page and used for the event notice —
on SQLite and PostgreSQL, with the DIAN simulator over HTTP, Dovecot and aiosmtpd (events_fixtures.py)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import sqlalchemy as sa

from buzon import jobs
from buzon.runtime import event_service
from dian.calendar import BOGOTA
from dian.codes import EventCode
from events.supplier_emails import listed_emails
from store.models import AuditEntry, Role, Supplier, SupplierTotal
from tests.integration.events_fixtures import SELLER_NIT, SUPPLIER_MAILBOX, EventsBed, days_ago
from tests.integration.events_fixtures import events_bed as events_bed  # the fixture, re-exported
from tests.web.conftest import PASSWORD, password_hash, sign_in
from web.app import create_app
from web.auth import create_user

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MOVED = "nueva-recepcion@proveedor.test"
UNLISTED_NIT = "901234567"


def supplier(bed: EventsBed, nit: str = SELLER_NIT) -> Supplier | None:
    with bed.sessions() as s:
        row = s.scalar(sa.select(Supplier).where(Supplier.nit == nit))
        if row is not None:
            s.expunge(row)
        return row


def age(bed: EventsBed, days: float) -> None:
    """Make every supplier's last reading ``days`` old."""
    with bed.sessions() as s:
        s.execute(sa.update(Supplier).values(dian_emails_read_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=days)))
        s.commit()


def refresh() -> dict[str, Any]:
    result = jobs.refresh_supplier_emails()
    assert result["outcome"] == "ok", result
    return result["summary"]


def test_the_daily_job_reads_dians_list_into_the_suppliers_table(events_bed: EventsBed) -> None:
    bed = events_bed
    bed.receive(at=days_ago(1))
    with bed.sessions() as s:  # an issuer of another month that DIAN does not list
        s.add(SupplierTotal(month=dt.date(2026, 1, 1), issuer_nit=UNLISTED_NIT, documents=1, cop_amount=100,
                            other_currency=0, issuer_name="SIN LISTA S.A.S.", supplier_text="x"))  # fmt: skip
        s.commit()
    assert supplier(bed) is None  # nobody configured the seller: the job makes its row

    before = dt.datetime.now(dt.UTC)
    summary = refresh()
    assert summary == {"added": 2, "due": 2, "asked_dian": True, "listed": 1, "unlisted": 1, "changed": 0,
                       "changed_nits": []}  # fmt: skip
    row = supplier(bed)
    assert row is not None and row.dian_emails == [SUPPLIER_MAILBOX] and row.name == "PROVEEDOR DE PRUEBA S.A.S."
    assert row.dian_emails_read_at is not None and row.dian_emails_read_at >= before
    assert not row.auto_acknowledge and not row.auto_receipt and row.reception_email is None
    unlisted = supplier(bed, UNLISTED_NIT)
    assert unlisted is not None and unlisted.dian_emails == [] and unlisted.dian_emails_read_at is not None

    # Read within the day: the next runs do not ask DIAN at all.
    assert refresh() == {"added": 0, "due": 0, "asked_dian": False, "listed": 0, "unlisted": 0, "changed": 0,
                         "changed_nits": []}  # fmt: skip

    # A day later DIAN lists another address: the job reads it and says which supplier changed.
    bed.world.simulator.seed({"exchange_emails": [{"nit": SELLER_NIT, "name": "PROVEEDOR", "email": MOVED}]})
    age(bed, 1.1)
    summary = refresh()
    assert (summary["due"], summary["changed_nits"], summary["listed"]) == (2, [SELLER_NIT], 1)
    assert supplier(bed).dian_emails == [MOVED]

    # DIAN unreachable: the run fails and the last known addresses stay, still due for the next run.
    age(bed, 2)
    bed.world.simulator.faults.add("GetExchangeEmails", "reset", count=None)
    failed = jobs.refresh_supplier_emails()
    bed.world.simulator.faults.clear()
    assert failed["outcome"] != "ok", failed
    kept = supplier(bed)
    assert kept.dian_emails == [MOVED]
    assert kept.dian_emails_read_at < dt.datetime.now(dt.UTC) - dt.timedelta(days=1)


def test_the_event_notice_goes_to_the_address_the_job_read(events_bed: EventsBed) -> None:
    bed = events_bed
    document = bed.receive(at=days_ago(1))
    bed.world.simulator.seed({"exchange_emails": [{"nit": SELLER_NIT, "name": "PROVEEDOR", "email": MOVED}]})
    refresh()
    # DIAN's list changes again after the reading: the notice uses the stored address (and says so), not a new call.
    bed.world.simulator.seed({"exchange_emails": [{"nit": SELLER_NIT, "name": "PROVEEDOR", "email": SUPPLIER_MAILBOX}]})
    bed.send(document, EventCode.ACUSE_RECIBO)
    summary = bed.deliver()
    assert summary["events"]["registered"] == 1, summary
    messages = bed.smtp.handler.wait_for(1)
    assert [recipients for _, recipients, _ in messages] == [[MOVED]]
    with bed.sessions() as s:
        queued = s.scalars(sa.select(AuditEntry.data).where(AuditEntry.action == "event.030.notice_queued")).one()
    read_on = supplier(bed).dian_emails_read_at.astimezone(BOGOTA).strftime("%d/%m/%Y")
    assert queued["to"] == MOVED and queued["address_from"] == f"DIAN (GetExchangeEmails, leída el {read_on})"

    # The supplier's page shows DIAN's address as read, and when.
    app = create_app(bed.settings, engine=bed.runtime.engine,
                     events=lambda sessions: event_service(bed.settings, sessions))  # fmt: skip
    with bed.sessions() as s:
        user = create_user(s, "ana", role=Role.CLERK, password=PASSWORD, password_hash=password_hash(PASSWORD),
                           actor="test")  # fmt: skip
        s.commit()
        client = app.test_client()
        sign_in(app, client, user)
    page = client.get(f"/proveedores/{SELLER_NIT}").get_data(as_text=True)
    shown = re.search(r'<dd id="correo-dian-diario">(.*?)</dd>', page, re.S)
    assert shown is not None
    text = re.sub(r"<[^>]+>", "", shown.group(1))  # the <wbr> that lets a phone break the address after its name
    assert MOVED in text and f"leída el {read_on} " in text


def test_dians_csv_is_read_for_the_wanted_nits_only() -> None:
    csv = (
        "Nit,RazonSocial,CorreoElectronico,FechaActualizacion\r\n"
        '900111222-3,"UNO, S.A.S.",fe@uno.test,2026-01-01\r\n'
        "900111222,UNO S.A.S.,otra@uno.test,2026-01-02\r\n"
        "900111222,UNO S.A.S.,fe@uno.test,2026-01-03\r\n"
        "800999888,OTRO,sin-arroba,2026-01-01\r\n"
        "700000000,NO PEDIDO,fe@nopedido.test,2026-01-01\r\n"
    ).encode("utf-8-sig")
    found = listed_emails(csv, ["900111222", "800999888"])
    assert found == {"900111222": ["fe@uno.test", "otra@uno.test"]}  # 800999888 lists no usable address
    assert listed_emails(None, ["900111222"]) == {}
