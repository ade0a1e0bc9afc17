"""The admin screens through the Flask test client on SQLite and PostgreSQL: who may use them (admins only), what each
action does to the database, what it answers, and the audit entry it leaves (actor and subject).

The connection test and "Ejecutar ahora" against real services are in test_admin_services.py.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from store.audit import record
from store.models import ApiToken, AuditEntry, LoginThrottle, Role, User, WebhookDelivery, WebhookState
from tests.pki import _name, issue, pki, write_pkcs12
from tests.web.conftest import PASSWORD, add_user, csrf_token, log_in, sign_in

pytestmark = pytest.mark.integration

ADMIN_PAGES = ["/admin", "/admin/usuarios", "/admin/tokens", "/admin/webhooks", "/admin/certificado", "/admin/dian"]


def post(client, path: str, **form: str):
    return client.post(path, data={"csrf_token": csrf_token(client), **form})


def entries(session, action: str) -> list[AuditEntry]:
    return list(session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def outcome(page: str) -> str:
    """The text of the outcome shown at the top (flashed after a redirect)."""
    found = re.search(r'<p class="result result-(\w+)" role="(?:status|alert)">([^<]*)</p>', page)
    assert found, "no outcome shown"
    return f"{found.group(1)}: {html.unescape(found.group(2))}"


def user(session, name: str) -> User:
    found = session.scalar(sa.select(User).where(User.username == name))
    assert found is not None
    return found


# --- Who may ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.CLERK, Role.TREASURY, Role.AUDITOR])
def test_only_admins_reach_the_admin_screens(app_and_db, client_as, role):
    _, session = app_and_db
    victim = add_user(session, "victima", Role.CLERK)
    client = client_as(role)
    for path in ADMIN_PAGES:
        assert client.get(path).status_code == 403, path
    token = csrf_token(client)
    writes = {
        "/admin/usuarios": {"username": "intruso", "role": "admin", "modo": "generar"},
        f"/admin/usuarios/{victim.id}/desactivar": {},
        f"/admin/usuarios/{victim.id}/activar": {},
        f"/admin/usuarios/{victim.id}/rol": {"role": "admin"},
        f"/admin/usuarios/{victim.id}/contrasena": {"modo": "generar"},
        "/admin/tokens": {"user_id": str(victim.id), "name": "robado"},
        "/admin/tokens/1/revocar": {},
        "/admin/webhooks/1/reintentar": {},
        "/admin/dian/probar": {},
        "/tareas/deadlines/ejecutar": {},
    }
    for path, form in writes.items():
        assert client.post(path, data={"csrf_token": token, **form}).status_code == 403, path
    session.expire_all()
    assert session.scalar(sa.select(User).where(User.username == "intruso")) is None
    assert user(session, "victima").role is Role.CLERK and user(session, "victima").active
    assert session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0
    page = client.get("/").get_data(as_text=True)
    assert 'href="/admin"' not in page


def test_admins_see_every_admin_screen_and_the_menu_entry(app_and_db, client_as):
    admin = client_as(Role.ADMIN)
    for path in ADMIN_PAGES:
        response = admin.get(path)
        assert response.status_code == 200, path
        page = response.get_data(as_text=True)
        assert 'lang="es-CO"' in page
        assert page.count("<h1") == 1, path
    assert client_as(None).get("/admin/usuarios").status_code == 302  # anonymous: to the login page


# --- Users --------------------------------------------------------------------------------------------------------


def test_adding_a_user_with_a_generated_password_shows_it_once_and_it_works(app_and_db, client_as):
    app, session = app_and_db
    admin = client_as(Role.ADMIN)
    response = post(admin, "/admin/usuarios", username="Juan.Perez", role="clerk", first_name="Juan",
                    family_name="Pérez", email="juan@empresa.test", modo="generar", id_type="13",
                    id_number="79111222")  # fmt: skip
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    password = re.search(r'id="contrasena-generada">([^<]+)<', page).group(1)
    assert re.fullmatch(r"[A-Za-z2-9]{4}(-[A-Za-z2-9]{4}){3}", password)
    assert "no se volverá a mostrar" in page
    created = user(session, "juan.perez")
    assert (created.role, created.first_name, created.id_number, created.active) == (
        Role.CLERK,
        "Juan",
        "79111222",
        True,
    )
    assert password not in admin.get("/admin/usuarios").get_data(as_text=True)  # once
    [entry] = [e for e in entries(session, "user.created") if e.subject == "user:juan.perez"]
    assert entry.actor == "user:usuario-admin"
    assert entry.data["role"] == "clerk"
    assert password not in str(entry.data)
    newcomer = app.test_client()
    assert log_in(newcomer, "juan.perez", password).status_code == 302
    assert newcomer.get("/").status_code == 200


@pytest.mark.parametrize(
    ("form", "says"),
    [
        (
            {
                "username": "ana",
                "role": "clerk",
                "modo": "escribir",
                "password": "una-clave-larga",
                "password2": "otra-clave-larga",
            },
            "no coinciden",
        ),
        (
            {"username": "ana", "role": "clerk", "modo": "escribir", "password": "corta", "password2": "corta"},
            "al menos 10 caracteres",
        ),
        ({"username": "Ana Pérez", "role": "clerk", "modo": "generar"}, "letras minúsculas"),
        ({"username": "ana", "role": "jefe", "modo": "generar"}, "Rol: elija"),
        ({"username": "ana", "role": "clerk", "modo": "generar", "email": "no es correo"}, "no parece una dirección"),
        ({"username": "ana", "role": "clerk", "modo": "generar", "id_number": "79.111"}, "solo dígitos"),
        ({"username": "usuario-admin", "role": "clerk", "modo": "generar"}, "ya existe"),
    ],
)
def test_a_bad_new_user_form_is_refused_in_spanish_and_nothing_is_written(app_and_db, client_as, form, says):
    _, session = app_and_db
    admin = client_as(Role.ADMIN)
    before = session.scalar(sa.select(sa.func.count()).select_from(User))
    response = post(admin, "/admin/usuarios", **form)
    assert response.status_code == 400
    page = html.unescape(response.get_data(as_text=True))
    assert says in page
    assert 'role="alert"' in page
    assert 'value="' + form["username"] + '"' in page  # the form keeps what was typed
    assert session.scalar(sa.select(sa.func.count()).select_from(User)) == before


def test_a_typed_password_twice_creates_the_user(app_and_db, client_as):
    app, session = app_and_db
    admin = client_as(Role.ADMIN)
    response = post(admin, "/admin/usuarios", username="olga", role="auditor", modo="escribir",
                    password="clave-de-olga-1", password2="clave-de-olga-1")  # fmt: skip
    assert response.status_code == 302
    assert "creado con el rol Auditor" in outcome(admin.get(response.location).get_data(as_text=True))
    assert user(session, "olga").role is Role.AUDITOR
    assert log_in(app.test_client(), "olga", "clave-de-olga-1").status_code == 302


def test_disabling_a_user_ends_sign_in_sessions_and_tokens_and_enabling_restores_it(app_and_db, client_as):
    app, session = app_and_db
    ana = add_user(session, "ana", Role.CLERK, first_name="Ana", family_name="Torres")
    open_session = app.test_client()
    sign_in(app, open_session, ana)
    assert open_session.get("/").status_code == 200
    admin = client_as(Role.ADMIN)
    made = post(admin, "/admin/tokens", user_id=str(ana.id), name="ERP").get_data(as_text=True)
    raw = re.search(r'id="token-nuevo">([^<]+)<', made).group(1)
    assert app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    response = post(admin, f"/admin/usuarios/{ana.id}/desactivar")
    assert "Ana Torres (ana) desactivado" in outcome(admin.get(response.location).get_data(as_text=True))
    session.expire_all()
    assert not user(session, "ana").active
    assert open_session.get("/").status_code == 302  # the open session is over
    assert log_in(app.test_client(), "ana").status_code == 403
    assert app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 401
    [entry] = entries(session, "user.disabled")
    assert (entry.actor, entry.subject) == ("user:usuario-admin", "user:ana")
    post(admin, f"/admin/usuarios/{ana.id}/activar")
    session.expire_all()
    assert user(session, "ana").active
    assert log_in(app.test_client(), "ana").status_code == 302
    assert [e.subject for e in entries(session, "user.enabled")] == ["user:ana"]


def test_an_admin_cannot_disable_themselves_nor_demote_the_last_admin(app_and_db, client_as):
    _, session = app_and_db
    admin = client_as(Role.ADMIN)
    me = user(session, "usuario-admin")
    page = admin.get(admin.post(f"/admin/usuarios/{me.id}/desactivar",
                                data={"csrf_token": csrf_token(admin)}).location).get_data(as_text=True)  # fmt: skip
    assert "No puede desactivar su propia cuenta" in outcome(page)
    response = post(admin, f"/admin/usuarios/{me.id}/rol", role="clerk")
    assert "único administrador activo" in outcome(admin.get(response.location).get_data(as_text=True))
    session.expire_all()
    assert me.active and me.role is Role.ADMIN
    assert entries(session, "user.disabled") == [] and entries(session, "user.role_changed") == []
    # With a second admin, the first may step down.
    other = add_user(session, "beto", Role.CLERK)
    post(admin, f"/admin/usuarios/{other.id}/rol", role="admin")
    post(admin, f"/admin/usuarios/{me.id}/rol", role="treasury")
    session.expire_all()
    assert (user(session, "beto").role, user(session, "usuario-admin").role) == (Role.ADMIN, Role.TREASURY)
    changes = [(e.subject, e.data["old_role"], e.data["new_role"]) for e in entries(session, "user.role_changed")]
    assert changes == [("user:beto", "clerk", "admin"), ("user:usuario-admin", "admin", "treasury")]
    assert admin.get("/admin/usuarios").status_code == 403  # the role counts from the next request


def test_changing_a_role_changes_what_the_user_may_see(app_and_db, client_as):
    app, session = app_and_db
    ana = add_user(session, "ana", Role.CLERK)
    ana_client = app.test_client()
    sign_in(app, ana_client, ana)
    assert ana_client.get("/auditoria").status_code == 403
    admin = client_as(Role.ADMIN)
    response = post(admin, f"/admin/usuarios/{ana.id}/rol", role="auditor")
    assert "ahora tiene el rol Auditor" in outcome(admin.get(response.location).get_data(as_text=True))
    assert ana_client.get("/auditoria").status_code == 200
    again = post(admin, f"/admin/usuarios/{ana.id}/rol", role="auditor")
    assert "nada cambió" in outcome(admin.get(again.location).get_data(as_text=True))
    assert len(entries(session, "user.role_changed")) == 1


def test_resetting_a_password_generated_or_typed_twice(app_and_db, client_as):
    app, session = app_and_db
    ana = add_user(session, "ana", Role.CLERK)
    ana.failed_logins, ana.locked_until = 4, dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
    session.flush()
    open_session = app.test_client()
    sign_in(app, open_session, ana)
    admin = client_as(Role.ADMIN)
    assert "Restablecer la contraseña de ana" in admin.get(f"/admin/usuarios/{ana.id}/contrasena").get_data(
        as_text=True
    )
    mismatch = post(admin, f"/admin/usuarios/{ana.id}/contrasena", modo="escribir", password="nueva-clave-1",
                    password2="nueva-clave-2")  # fmt: skip
    assert mismatch.status_code == 400 and "no coinciden" in mismatch.get_data(as_text=True)
    assert entries(session, "user.password_changed") == []
    response = post(admin, f"/admin/usuarios/{ana.id}/contrasena", modo="generar")
    assert response.headers["Cache-Control"] == "no-store"
    new = re.search(r'id="contrasena-generada">([^<]+)<', response.get_data(as_text=True)).group(1)
    session.expire_all()
    assert user(session, "ana").locked_until is None  # the lock is lifted
    assert open_session.get("/").status_code == 302  # sessions with the old password ended
    assert log_in(app.test_client(), "ana", PASSWORD).status_code == 200  # the old one no longer works
    assert log_in(app.test_client(), "ana", new).status_code == 302
    typed = post(admin, f"/admin/usuarios/{ana.id}/contrasena", modo="escribir", password="clave-escrita-9",
                 password2="clave-escrita-9")  # fmt: skip
    assert "sesiones abiertas se cerraron" in outcome(admin.get(typed.location).get_data(as_text=True))
    assert log_in(app.test_client(), "ana", "clave-escrita-9").status_code == 302
    assert [(e.actor, e.subject) for e in entries(session, "user.password_changed")] == [
        ("user:usuario-admin", "user:ana"), ("user:usuario-admin", "user:ana")]  # fmt: skip


def test_an_unknown_user_id_is_404(client_as):
    admin = client_as(Role.ADMIN)
    assert post(admin, "/admin/usuarios/999999/desactivar").status_code == 404
    assert admin.get("/admin/usuarios/999999/contrasena").status_code == 404


# --- Tokens -------------------------------------------------------------------------------------------------------


def test_a_token_is_shown_once_listed_by_prefix_and_revoked(app_and_db, client_as):
    app, session = app_and_db
    erp = add_user(session, "erp", Role.TREASURY)
    admin = client_as(Role.ADMIN)
    response = post(admin, "/admin/tokens", user_id=str(erp.id), name="ERP contable")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    raw = re.search(r'id="token-nuevo">([^<]+)<', response.get_data(as_text=True)).group(1)
    api = app.test_client()
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert me.status_code == 200
    listing = admin.get("/admin/tokens").get_data(as_text=True)
    assert raw not in listing
    token = session.scalar(sa.select(ApiToken).where(ApiToken.user_id == erp.id))
    row = listing.split(f'id="token-{token.id}"')[1].split("</tr>")[0]
    assert f"{raw[:12]}…" in row and "ERP contable" in row and "Vigente" in row
    assert "Nunca" not in row  # it was used just now
    [created] = entries(session, "api_token.created")
    assert (created.actor, created.subject, created.data["user"]) == (
        "user:usuario-admin",
        f"api_token:{token.id}",
        "erp",
    )
    revoke = post(admin, f"/admin/tokens/{token.id}/revocar")
    assert "revocado" in outcome(admin.get(revoke.location).get_data(as_text=True))
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 401
    again = post(admin, f"/admin/tokens/{token.id}/revocar")
    assert "ya estaba revocado" in outcome(admin.get(again.location).get_data(as_text=True))
    assert [e.actor for e in entries(session, "api_token.revoked")] == ["user:usuario-admin"]


@pytest.mark.parametrize(("form", "says"), [({"user_id": "", "name": "x"}, "elija de la lista"),
                                            ({"user_id": "²", "name": "x"}, "elija de la lista"),
                                            ({"name": ""}, "diga para qué es")])  # fmt: skip
def test_a_bad_token_form_is_refused(app_and_db, client_as, form, says):
    _, session = app_and_db
    erp = add_user(session, "erp", Role.TREASURY)
    admin = client_as(Role.ADMIN)
    response = post(admin, "/admin/tokens", **{"user_id": str(erp.id), **form})
    assert response.status_code == 400 and says in html.unescape(response.get_data(as_text=True))
    assert session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0


def test_a_disabled_user_gets_no_token(app_and_db, client_as):
    _, session = app_and_db
    gone = add_user(session, "ido", Role.CLERK, active=False)
    response = post(client_as(Role.ADMIN), "/admin/tokens", user_id=str(gone.id), name="x")
    assert response.status_code == 400 and "está desactivado" in response.get_data(as_text=True)


# --- Webhooks -----------------------------------------------------------------------------------------------------


def _with_webhook_url(app, url: str = "http://127.0.0.1:9/hook") -> None:
    settings = app.config["BUZON_SETTINGS"]
    webhooks = dataclasses.replace(settings.webhooks, url=url, secret="s" * 20)
    app.config["BUZON_SETTINGS"] = dataclasses.replace(settings, webhooks=webhooks)


def test_the_webhook_outbox_lists_what_is_owed_and_a_retry_makes_it_due(app_and_db, client_as):
    app, session = app_and_db
    _with_webhook_url(app)
    long_ago = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    failed = WebhookDelivery(event="document.state_changed", state=WebhookState.FAILED, attempts=10, last_status=503,
                             last_error="HTTP 503", next_attempt_at=long_ago,
                             payload={"document": {"number": "FE-77", "issuer_name": "PAPELERÍA S.A.S.",
                                                   "state": "accepted",
                                                   "previous_state": "goods_received"}})  # fmt: skip
    delivered = WebhookDelivery(event="document.state_changed", state=WebhookState.DELIVERED, attempts=1,
                                last_status=200, payload={}, delivered_at=long_ago)  # fmt: skip
    session.add_all([failed, delivered])
    session.flush()
    admin = client_as(Role.ADMIN)
    page = admin.get("/admin/webhooks").get_data(as_text=True)
    assert "http://127.0.0.1:9/hook" in page and "s" * 20 not in page  # the secret is never shown
    row = page.split(f'id="envio-{failed.id}"')[1].split("</tr>")[0]
    assert "FE-77" in row and "PAPELERÍA S.A.S." in row and "HTTP 503" in row and "Fallido" in row
    assert "Bien o servicio recibido → Aceptada" in row
    assert f'id="envio-{delivered.id}"' not in page  # delivered ones are not owed
    response = post(admin, f"/admin/webhooks/{failed.id}/reintentar")
    assert "lo enviará en su próxima ejecución" in outcome(admin.get(response.location).get_data(as_text=True))
    session.expire_all()
    assert failed.state is WebhookState.PENDING
    assert dt.datetime.now(dt.UTC) - failed.next_attempt_at < dt.timedelta(minutes=1)
    [entry] = entries(session, "webhook.retry_requested")
    assert (entry.actor, entry.subject, entry.data["previous_state"]) == ("user:usuario-admin",
                                                                          f"webhook:{failed.id}", "failed")  # fmt: skip
    nothing = post(admin, f"/admin/webhooks/{delivered.id}/reintentar")
    assert "ya fue entregado" in outcome(admin.get(nothing.location).get_data(as_text=True))
    assert post(admin, "/admin/webhooks/999999/reintentar").status_code == 404


def test_a_retry_without_a_webhook_url_says_it_will_be_skipped(app_and_db, client_as):
    _, session = app_and_db
    skipped = WebhookDelivery(event="document.state_changed", state=WebhookState.SKIPPED, payload={},
                              last_error="Sin URL de webhook configurada")  # fmt: skip
    session.add(skipped)
    session.flush()
    admin = client_as(Role.ADMIN)
    assert "Ninguna" in admin.get("/admin/webhooks").get_data(as_text=True)
    response = post(admin, f"/admin/webhooks/{skipped.id}/reintentar")
    assert "no hay URL de webhook configurada" in outcome(admin.get(response.location).get_data(as_text=True))


# --- Certificate and DIAN -----------------------------------------------------------------------------------------


def _certificate(app, path: Path, days: int) -> None:
    now = dt.datetime.now(dt.UTC)
    identity = issue(_name("EMPRESA COMPRADORA S.A.S.", serial="900654321-0"), key_label=f"admin-{days}",
                     issuer=pki().intermediate, not_before=now - dt.timedelta(days=300),
                     not_after=now + dt.timedelta(days=days, hours=3))  # fmt: skip
    write_pkcs12(identity, path)
    settings = app.config["BUZON_SETTINGS"]
    certificate = dataclasses.replace(settings.certificate, pkcs12_path=str(path), password="prueba")
    company = dataclasses.replace(settings.company, nit="900654321-0")
    app.config["BUZON_SETTINGS"] = dataclasses.replace(settings, certificate=certificate, company=company)


@pytest.mark.parametrize(("days", "kind"), [(200, "ok"), (12, "warn")])
def test_the_certificate_page_counts_down_and_warns_30_days_ahead(app_and_db, client_as, tmp_path, days, kind):
    app, _ = app_and_db
    _certificate(app, tmp_path / f"empresa-{days}.p12", days)
    page = html.unescape(client_as(Role.ADMIN).get("/admin/certificado").get_data(as_text=True))
    assert f'class="result result-{kind}" id="certificado-estado"' in page
    assert f"{days} días para el vencimiento" in page
    assert "EMPRESA COMPRADORA S.A.S." in page
    assert "coincide con el de la empresa (900654321-0)" in page
    assert "Válido hasta" in page


def test_the_certificate_page_without_a_certificate_says_so(client_as):
    page = client_as(Role.ADMIN).get("/admin/certificado").get_data(as_text=True)
    assert "No hay certificado configurado" in page
    assert "simulador" in page


def test_the_dian_page_shows_the_environment_never_the_pin_and_says_when_it_cannot_test(app_and_db, client_as):
    app, session = app_and_db
    settings = app.config["BUZON_SETTINGS"]
    app.config["BUZON_SETTINGS"] = dataclasses.replace(
        settings, dian=dataclasses.replace(settings.dian, software_pin="PIN-SECRETO-4711", software_id="abc-123")
    )
    admin = client_as(Role.ADMIN)
    page = admin.get("/admin/dian").get_data(as_text=True)
    assert "PIN-SECRETO-4711" not in page
    assert "Configurado (nunca se muestra)" in page and "abc-123" in page
    assert "Simulador local de la DIAN" in page
    assert "la prueba no está disponible aquí" in page
    response = post(admin, "/admin/dian/probar")
    assert "no le dio a la web un cliente de la DIAN" in outcome(admin.get(response.location).get_data(as_text=True))
    assert entries(session, "dian.connection_tested") == []


# --- Jobs without a runner ----------------------------------------------------------------------------------------


def test_run_now_without_a_runner_or_for_an_unknown_job(app_and_db, client_as):
    from types import SimpleNamespace

    app, session = app_and_db
    app.extensions["buzon.jobs"] = lambda: [SimpleNamespace(id="deadlines", description="Plazos", seconds=900)]
    admin = client_as(Role.ADMIN)
    assert "Ejecutar ahora" not in admin.get("/tareas").get_data(as_text=True)
    response = post(admin, "/tareas/deadlines/ejecutar")
    assert "no le dio a la web cómo ejecutar tareas" in outcome(admin.get(response.location).get_data(as_text=True))
    assert post(admin, "/tareas/no_such_job/ejecutar").status_code == 404
    assert entries(session, "job.run_now") == []


def test_an_admin_action_on_a_seeded_log_reads_in_words(app_and_db, client_as):
    """The entries the admin screens write read as sentences on the audit page."""
    _, session = app_and_db
    ana = add_user(session, "ana", Role.CLERK, first_name="Ana", family_name="Torres")
    admin = client_as(Role.ADMIN)
    post(admin, f"/admin/usuarios/{ana.id}/rol", role="treasury")
    record(session, actor="job:deliver_webhooks", action="webhook.retry_requested", subject="webhook:1")
    session.flush()
    page = html.unescape(admin.get("/auditoria").get_data(as_text=True))
    assert "Prueba admin (administrador)" in page and "cambió el rol del usuario" in page
    assert "Usuario ana (Ana Torres)" in page
    assert "Rol anterior</dt><dd>auxiliar" in page and "Rol nuevo</dt><dd>tesorería" in page


def test_the_user_list_shows_a_login_lock_kept_by_the_throttle(app_and_db, client_as):
    _app, session = app_and_db
    ana = add_user(session, "ana", Role.CLERK)
    session.add(LoginThrottle(username="ana", address="203.0.113.9", failures=0,
                              locked_until=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)))  # fmt: skip
    session.flush()
    row = re.search(rf'<tr[^>]*>(?:(?!</tr>).)*/admin/usuarios/{ana.id}/(?:(?!</tr>).)*</tr>',
                    client_as(Role.ADMIN).get("/admin/usuarios").get_data(as_text=True), re.S)  # fmt: skip
    assert row is not None and "Bloqueado por intentos fallidos" in row.group(0)
    session.execute(sa.update(LoginThrottle).values(locked_until=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)))
    session.flush()
    page = client_as(Role.ADMIN).get("/admin/usuarios").get_data(as_text=True)
    assert "Bloqueado por intentos fallidos" not in page


def test_a_token_is_never_issued_to_a_disabled_user_nor_under_a_bad_name(app_and_db):
    from web.auth import TOKEN_NAME_MAX, AccountError, issue_token

    _app, session = app_and_db
    ana = add_user(session, "ana", Role.CLERK)
    now = dt.datetime.now(dt.UTC)
    for bad in ("", "x" * (TOKEN_NAME_MAX + 1), "ERP\x01", "ERP\x7f"):
        with pytest.raises(AccountError, match="token name"):
            issue_token(session, ana, name=bad, actor="user:admin", now=now)
    ana.active = False
    with pytest.raises(AccountError, match="disabled"):
        issue_token(session, ana, name="ERP", actor="user:admin", now=now)
    assert session.scalars(sa.select(ApiToken)).all() == []
