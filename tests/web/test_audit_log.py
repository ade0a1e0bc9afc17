"""The auditor's log in Spanish on SQLite and PostgreSQL: every action code the code writes has words, actors are
named, a document is its number and supplier (linked), data are labelled fields; filters (dates refused out of range,
who, kind, document), pages both ways, and the CSV export (streamed, Spanish headers, same filters)."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dian.codes import EventCode
from store.audit import record
from store.models import Direction, DocumentEvent, Role, SubmissionState
from tests.web.conftest import add_user
from tests.web.test_inbox_page import add_document
from web.audit_labels import describe_action, is_known

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
CUFE = "c0ffee" * 16


def written_action_codes() -> set[str]:
    """Every audit action code the code base writes, read from its source (f-strings filled with each value)."""
    codes: set[str] = set()
    for path in [*REPO.glob("web/*.py"), *REPO.glob("events/*.py"), *REPO.glob("inbox/*.py"),
                 *REPO.glob("store/*.py"), *REPO.glob("radian/*.py"), *REPO.glob("issuing/*.py")]:  # fmt: skip
        text = path.read_text()
        for line in re.findall(r"\baction=(.+)", text):  # every dotted literal of an action= argument
            codes |= set(re.findall(r'"([a-z_]+(?:\.[a-z0-9_]+)+)"', line))
        codes |= set(re.findall(r'\baudit\(\s*"([a-z_]+(?:\.[a-z0-9_]+)+)"', text))
        codes |= set(re.findall(r'^\w*ACTION\w* = "([a-z_]+(?:\.[a-z0-9_]+)+)"', text, re.M))
        codes |= set(re.findall(r'"(document\.dian\.\w+)" if', text)) | set(
            re.findall(r'else "(document\.dian\.\w+)"', text)
        )
        codes |= {f"user.{w}" for w in re.findall(r'"user\.(enabled|disabled)"', text)}
        for suffix in re.findall(r'action=f"event\.\{[^}]+\}\.([a-z_]+)"', text):
            codes |= {f"event.{code.value}.{suffix}" for code in EventCode}
        if 'action=f"mail.{row.kind.value}' in text:
            from store.models import MailKind

            codes |= {f"mail.{kind.value}.{what}" for kind in MailKind for what in ("sent", "send_failed")}
    return codes


def test_every_action_code_the_code_writes_has_spanish_words():
    codes = written_action_codes()
    assert len(codes) >= 35, sorted(codes)  # the scan finds them (guards the scan itself)
    assert {"event.032.signed", "auth.login.failed", "mail.reminder.send_failed", "document.window.closed",
            "user.role_changed", "job.run_now", "dian.connection_tested"} <= codes  # fmt: skip
    unknown = sorted(c for c in codes if not is_known(c))
    assert unknown == [], f"audit codes without words in web/audit_labels.py: {unknown}"
    for code in codes:
        assert code not in describe_action(code), code  # words, not the code


def test_an_unknown_code_still_reads_as_a_sentence():
    assert (
        describe_action("supplier.switch.changed") == "realizó la acción «supplier.switch.changed» sobre un proveedor"
    )
    assert describe_action("event.035.frobbed") == "hizo «frobbed» con el evento 035 — Aval"
    assert describe_action("weird") == "realizó la acción «weird»"


@pytest.fixture
def seeded(app_and_db):
    """A document, its event, and the entries the real code writes about it, by a clerk, a job and intake."""
    _, session = app_and_db
    juan = add_user(session, "juan", Role.CLERK, first_name="Juan", family_name="Pérez")
    doc = add_document(session, 1063, cufe=CUFE, number="FE-1063", issuer_name="PAPELERÍA LA ÚNICA S.A.S.")
    cude = "d" * 96
    session.add(DocumentEvent(document_id=doc.id, code=EventCode.RECIBO_BIEN, direction=Direction.EMITTED,
                              number="REC-7", cude=cude, referenced_cufe=CUFE,
                              submission_state=SubmissionState.REGISTERED))  # fmt: skip
    base = datetime(2025, 3, 10, 15, tzinfo=UTC)  # 10:00 in Bogotá
    record(session, actor="system:intake", action="document.filed", subject=CUFE, source="inbox",
           data={"document_id": doc.id, "number": "FE-1063", "verdict": "valid", "mail_message_id": 3},
           at=base)  # fmt: skip
    record(session, actor="user:juan", action="event.032.signed", subject=CUFE, source="10.0.0.7",
           data={"event_id": 1, "number": "REC-7"}, at=base + timedelta(hours=1))  # fmt: skip
    record(session, actor="job:deliver_outbox", action="event.032.notice_queued", subject=CUFE,
           data={"event_id": 1, "to": "facturas@papeleria.test", "address_from": "dian", "error": None},
           at=base + timedelta(hours=2))  # fmt: skip
    record(session, actor="job:deliver_outbox", action="mail.event_notice.sent", subject=f"event:{cude}",
           data={"mail_id": 5, "to": "facturas@papeleria.test", "attempts": 1, "error": None},
           at=base + timedelta(days=1))  # fmt: skip
    record(session, actor="job:deliver_outbox", action="event.032.send_failed", subject=CUFE,
           data={"attempts": 2, "error": "DianTransportError: timed out",
                 "next_attempt_at": (base + timedelta(days=1, minutes=5)).isoformat()},
           at=base + timedelta(days=1))  # fmt: skip
    record(session, actor="anonymous", action="auth.login.failed", subject="user:juan", source="10.9.9.9",
           at=base + timedelta(days=2))  # fmt: skip
    session.flush()
    return doc, juan


def _page(client, **params) -> tuple[int, str]:
    response = client.get("/auditoria", query_string=params)
    return response.status_code, html.unescape(response.get_data(as_text=True))


def _codes(page: str) -> list[str]:
    return re.findall(r'class="action" title="([^"]+)"', page)


def test_entries_read_as_sentences_with_the_document_named_and_linked(client_as, seeded):
    doc, _ = seeded
    status, page = _page(client_as(Role.AUDITOR), documento="FE-1063")
    assert status == 200
    signed = (
        page.split('title="event.032.signed"')[0].rsplit("<tr", 1)[1]
        + page.split('title="event.032.signed"')[1].split("</tr>")[0]
    )
    assert "Juan Pérez (auxiliar)" in signed
    assert "firmó y envió a la DIAN el evento 032 — Recibo del bien o servicio" in signed
    assert f'href="/documentos/{doc.id}"' in signed and "Factura FE-1063" in signed
    assert "PAPELERÍA LA ÚNICA S.A.S." in signed
    assert "10/03/2025 11:00:00" in signed
    assert "<dt>Número</dt><dd>REC-7</dd>" in signed  # labelled fields, not JSON
    assert "{" not in signed.split('class="data"')[1]
    assert "Tarea automática (envío de eventos y correos)" in page
    assert "Aviso del evento 032 · Factura FE-1063" in page  # the mail notice's subject is the document too
    assert "Próximo intento</dt><dd>11/03/2025 10:05" in page  # an ISO moment in Bogotá time
    assert "Buzón (lectura del correo)" in page and "archivó el documento" in page
    assert CUFE not in page.replace(f'title="{CUFE}"', "")  # the CUFE only in the link's title, never shown cut


def test_filters_by_who_kind_document_and_dates(client_as, seeded):
    auditor = client_as(Role.AUDITOR)
    assert _codes(_page(auditor, quien="user:juan")[1]) == ["event.032.signed"]
    assert _codes(_page(auditor, quien="job:")[1]) == ["event.032.send_failed", "mail.event_notice.sent",
                                                       "event.032.notice_queued"]  # fmt: skip
    assert _codes(_page(auditor, quien="anonymous")[1]) == ["auth.login.failed"]
    assert _codes(_page(auditor, tipo="correo")[1]) == ["mail.event_notice.sent"]
    assert _codes(_page(auditor, tipo="eventos", quien="job:")[1]) == [
        "event.032.send_failed",
        "event.032.notice_queued",
    ]
    by_number = _codes(_page(auditor, documento="fe-106")[1])  # part of the number, any case
    by_cufe = _codes(_page(auditor, documento=CUFE[:12].upper())[1])  # a CUFE prefix
    assert by_number == by_cufe == ["event.032.send_failed", "mail.event_notice.sent", "event.032.notice_queued",
                                    "event.032.signed", "document.filed"]  # fmt: skip
    assert _codes(_page(auditor, desde="2025-03-11", hasta="2025-03-11")[1]) == ["event.032.send_failed",
                                                                                 "mail.event_notice.sent"]  # fmt: skip
    status, page = _page(auditor, documento="NO-EXISTE-99")
    assert status == 400 and "ninguno coincide con «NO-EXISTE-99»" in page


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"hasta": "9999-12-31"}, "Hasta: la fecha 9999-12-31 está fuera del rango"),
        ({"desde": "0001-01-01"}, "Desde: la fecha 0001-01-01 está fuera del rango"),
        ({"desde": "ayer"}, "Desde: «ayer» no es una fecha"),
        ({"desde": "2025-03-12", "hasta": "2025-03-10"}, "es posterior a Hasta"),
        ({"tipo": "nada"}, "Tipo de acción: elija uno"),
        ({"antes": "²"}, "cursor de paginación inválido"),
        ({"antes": "9" * 40}, "cursor de paginación inválido"),
    ],
)
def test_unusable_filters_are_refused_with_a_message_never_a_500(client_as, seeded, params, says):
    auditor = client_as(Role.AUDITOR)
    status, page = _page(auditor, **params)
    assert status == 400 and says in page and 'role="alert"' in page
    export = auditor.get("/auditoria/exportar.csv", query_string=params)
    if "antes" not in params:  # the export has no pages
        assert export.status_code == 400 and says in html.unescape(export.get_data(as_text=True))


def test_pages_of_fifty_both_ways_without_loss(app_and_db, client_as):
    _, session = app_and_db
    for n in range(120):
        record(session, actor="user:ana", action="auth.login", subject=f"page:{n}")
    session.flush()
    auditor = client_as(Role.AUDITOR)
    seen, pages, url = [], [], "/auditoria?quien=user:ana"
    while url:
        page = html.unescape(auditor.get(url).get_data(as_text=True))
        found = re.findall(r">(page:\d+)</a>", page)
        assert len(found) <= 50
        seen += found
        pages.append((url, found))
        older = re.search(r'href="([^"]+)" id="pagina-anteriores"', page)
        url = older.group(1).replace("&amp;", "&") if older else None
    assert len(pages) == 3 and len(seen) == 120 == len(set(seen)) and seen[0] == "page:119"
    assert all("quien=user" in u for u, _ in pages[1:])  # the filter travels with the pages
    last_page = html.unescape(auditor.get(pages[-1][0]).get_data(as_text=True))
    newer = re.search(r'href="([^"]+)" id="pagina-recientes"', last_page).group(1).replace("&amp;", "&")
    assert re.findall(r">(page:\d+)</a>", html.unescape(auditor.get(newer).get_data(as_text=True))) == pages[1][1]


def test_the_csv_export_is_streamed_in_spanish_with_the_filters(client_as, seeded):
    auditor = client_as(Role.AUDITOR)
    response = auditor.get("/auditoria/exportar.csv", query_string={"documento": "FE-1063"})
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv" and "auditoria-" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    assert rows[0][:4] == ["Fecha y hora (Bogotá)", "Quién", "Qué hizo", "Documento o sujeto"]
    assert len(rows) == 1 + 5
    signed = next(r for r in rows if r[7] == "event.032.signed")
    assert signed[1] == "Juan Pérez (auxiliar)" and signed[3] == "Factura FE-1063"
    assert signed[4] == "PAPELERÍA LA ÚNICA S.A.S." and signed[5] == "Número: REC-7 | Evento n.º: 1"
    assert signed[0] == "10/03/2025 11:00:00" and signed[9] == CUFE
    everything = auditor.get("/auditoria/exportar.csv").get_data(as_text=True)
    assert "auth.login.failed" in everything and "Alguien sin sesión" in everything


def test_a_formula_in_the_data_is_not_run_by_excel(app_and_db, client_as):
    _, session = app_and_db
    record(session, actor="user:x", action="mail.dismissed", subject='=HYPERLINK("http://x")', data={"note": "ok"})
    session.flush()
    text = client_as(Role.AUDITOR).get("/auditoria/exportar.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in text
