"""The Flask application factory: `create_app(settings)`; request-scoped database sessions; access control."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from flask import Flask, g, jsonify
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.routing import IntegerConverter

from store.db import current_revision, head_revision, make_engine
from web import tenant
from web.access import init_access, public, token_digest
from web.certificate import company_certificate_status
from web.nav import init_nav


def _secret_key(settings: Any) -> str:
    """The configured secret, else one generated once and kept (mode 0600) under the data directory."""
    if settings.web.secret_key:
        return settings.web.secret_key
    path = Path(settings.data_dir) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def admin_blueprints() -> list[Any]:
    """The "Administración" screens (web/admin*.py)."""
    from web import admin, admin_certificate, admin_dian, admin_tokens, admin_users, admin_webhooks

    return [m.bp for m in (admin, admin_users, admin_tokens, admin_webhooks, admin_certificate, admin_dian)]


class DatabaseId(IntegerConverter):
    """``<int:…>`` bounded by SQLite's and PostgreSQL's largest integer (2**63 - 1)."""

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(url_map, *args, **kwargs)


def create_app(
    settings: Any,
    *,
    engine: Engine | None = None,
    events: Callable[[sessionmaker[Session]], Any] | None = None,
    intake: Callable[[sessionmaker[Session]], Callable[[str], Any]] | None = None,
    jobs: Callable[[], Any] | None = None,
    run_job: Callable[[str], Any] | None = None,
    dian_client: Callable[[], Any] | None = None,
    sent_mail: Path | None = None,
    titles: Callable[[sessionmaker[Session]], Any] | None = None,
    issuing: Callable[[sessionmaker[Session]], Any] | None = None,
    issued_mail: Callable[[], Any] | None = None,
    company_identity: Callable[[], Any] | None = None,
    companies: Sequence[tenant.CompanyWiring] = (),
) -> Flask:
    """Build the web application for these settings (a frozen buzon.config.Settings).

    ``events`` makes the events façade (events.service.EventService) from the app's session factory; the shell passes
    buzon.runtime.Runtime.event_service. Without it the pages read, and event actions say they are unavailable.
    ``intake`` likewise gives, from the session factory, ``make(actor) -> inbox.intake.Intake`` for re-processing
    quarantined mail (Runtime.web_intake); without it the quarantine page offers no re-processing.
    ``run_job(job_id) -> {"outcome", "summary", "error"}`` runs one scheduled job now with the scheduler's own code
    (the jobs page's "Ejecutar ahora"); ``dian_client() -> dian.soap.DianClient`` makes a client of the configured
    DIAN environment (the admin's "Probar conexión con la DIAN", which closes it). Without them those buttons say
    they are unavailable. ``sent_mail`` is the Maildir where the demo's local SMTP sink keeps the mail Buzón sent;
    with it the "Correo enviado" page exists (demo mode only). ``companies``: the install's other companies, each
    wired the same way (web/tenant.py); these keywords are the first company's.
    """
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=_secret_key(settings),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        BUZON_SETTINGS=settings,
    )
    hops = getattr(getattr(settings, "web", None), "proxy_hops", 0)
    if hops:
        # Behind nginx or similar: the client's address (throttling, audit) and https (Secure cookies) come from
        # the proxy's X-Forwarded-* headers, believed for exactly that many hops.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    # The first company's services live in app.extensions["buzon.<name>"] and its settings in app.config (the
    # install's other companies' in their own tables): web/tenant.py picks the request's company and hands views
    # its settings, database session, blobs and services. ``events``, ``titles``, ``issuing`` and ``intake`` are
    # made from the company's session factory (Runtime.event_service, title_service, issuing_service, web_intake);
    # ``issued_mail`` says how the buyer's copy is mailed and printed (Runtime.buyer_mail_settings);
    # ``company_identity`` is the signing identity sealing the auditor's pack; ``jobs`` lists the scheduled jobs.
    first = tenant.install(app, tenant.CompanyWiring(
        settings, engine=engine, events=events, intake=intake, titles=titles, issuing=issuing,
        issued_mail=issued_mail, company_identity=company_identity, dian_client=dian_client, run_job=run_job,
        jobs=jobs, sent_mail=sent_mail), companies, make_engine, token_digest)  # fmt: skip
    engine = first.engine
    db = tenant.db

    # Every <int:…> in a URL is an id of ours: one larger than the databases' integer names nothing (404) instead of
    # overflowing SQLite's driver into a 500. Set before any route is added.
    app.url_map.converters["int"] = DatabaseId
    init_access(app)
    init_nav(app)

    @app.teardown_appcontext
    def _close_db(_exc: BaseException | None) -> None:
        session = g.pop("db", None)
        if session is not None:
            session.close()

    @app.get("/health")
    @public
    def health() -> Any:
        """Liveness and readiness: the database answers and its schema is current (every company's, when the install
        has several: ``companies`` lists each NIT's revision); with a configured company certificate, its status and
        warning (30 days before it expires; it never makes the probe fail)."""
        others = [c for c in tenant.companies().values() if c is not first]
        try:
            db().execute(text("SELECT 1"))
            revision = current_revision(engine)
            revisions = {c.settings.company.nit: current_revision(c.engine) for c in others}
        except Exception as exc:  # the probe reports any database failure as a 503
            return jsonify(status="error", database=f"unreachable: {exc.__class__.__name__}"), 503
        head = head_revision()
        status = "ok" if revision == head and all(r == head for r in revisions.values()) else "migration_needed"
        body: dict[str, Any] = {"status": status, "database": "ok", "revision": revision, "expected_revision": head}
        if others:
            body["companies"] = {first.settings.company.nit: revision, **revisions}
        certificate = company_certificate_status(tenant.settings())
        if certificate is not None:
            body["certificate"] = certificate.to_dict()
        return jsonify(body), (200 if status == "ok" else 503)

    from web.api import bp as api_bp
    from web.audit import bp as audit_bp
    from web.auth import bp as auth_bp
    from web.dashboard import bp as dashboard_bp
    from web.dian_certificates import bp as dian_certificates_bp
    from web.documents import bp as documents_bp
    from web.inbox import bp as inbox_bp
    from web.jobs import bp as jobs_bp
    from web.quarantine import bp as quarantine_bp
    from web.suppliers import bp as suppliers_bp
    from web.upload import bp as upload_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(inbox_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(documents_bp)
    app.register_blueprint(quarantine_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(jobs_bp)
    app.register_blueprint(dian_certificates_bp)
    if sent_mail is not None:
        from web.sent_mail import bp as sent_mail_bp

        app.register_blueprint(sent_mail_bp)
    for admin_bp in admin_blueprints():
        app.register_blueprint(admin_bp)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(suppliers_bp)
    app.register_blueprint(upload_bp)
    from web import alerts, payments, title_actions, titles  # treasury: value titles, payment run, alerts

    for treasury_bp in (titles.bp, title_actions.bp, payments.bp, alerts.bp):
        app.register_blueprint(treasury_bp)
    from web import api_apidian, api_issuing  # issuing: the native API and the apidian-compatible paths

    for issuing_bp in (api_issuing.bp, api_apidian.bp):
        app.register_blueprint(issuing_bp)
    from web import api_support  # the documento soporte (05, 95): native and apidian paths

    app.register_blueprint(api_support.bp)
    from web import issued, issued_form  # billing: our issued invoices and notes

    app.register_blueprint(issued.bp)
    app.register_blueprint(issued_form.bp)
    from web import archive  # auditors: the signed pack of a period

    app.register_blueprint(archive.bp)
    from web import approvals  # four-eyes: Aprobaciones pendientes

    app.register_blueprint(approvals.bp)
    from web import company_switch  # several companies: the header's switcher

    app.register_blueprint(company_switch.bp)
    from web import audit_chain  # auditors: verify the audit log's hash chain now

    app.register_blueprint(audit_chain.bp)
    from web import support, support_form, support_week  # AP: the documento soporte (05, 95), the week's purchases

    for support_bp in (support.bp, support_form.bp, support_week.bp):
        app.register_blueprint(support_bp)
    from web import api_approvals  # four-eyes through the API: list, approve, refuse

    app.register_blueprint(api_approvals.bp)
    return app
