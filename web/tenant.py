"""The request's company: the one place the web decides whose data a request reads and acts on.

An install may run several companies (NITs), each with a database, blob files and collaborators of its own
(buzon/companies.py). Every view asks ``tenant()`` for the company's settings, session, blobs and services; nothing
else in web/ holds a database or a service. ``select_company`` runs before everything else in a request, access
control included: an API token is its company's (the one whose database holds it), a browser session is the company
the user switched to among those whose password it proved at sign-in (``session["empresas"]``), and anyone else is
in the first company (where the sign-in page lives). A user of company A can therefore read or act on nothing of
company B: there is no query in the request that could reach B's database.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, g, request, session
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from dian.calendar import BusinessCalendar
from store.blobs import BlobStore
from store.db import session_factory

COMPANY_KEY = "empresa"  # the session's current company (its key)
MEMBER_KEY = "empresas"  # {company key: flask-login id} of the companies whose password the user proved


@dataclass(frozen=True)
class CompanyWiring:
    """What the shell hands the web for one company: its settings, its engine and its services' factories (each
    as create_app's keyword of the same name describes)."""

    settings: Any
    engine: Engine | None = None
    events: Callable[[sessionmaker[Session]], Any] | None = None
    intake: Callable[[sessionmaker[Session]], Callable[[str], Any]] | None = None
    titles: Callable[[sessionmaker[Session]], Any] | None = None
    issuing: Callable[[sessionmaker[Session]], Any] | None = None
    issued_mail: Callable[[], Any] | None = None
    company_identity: Callable[[], Any] | None = None
    dian_client: Callable[[], Any] | None = None
    run_job: Callable[[str], Any] | None = None
    jobs: Callable[[], Any] | None = None
    sent_mail: Any = None  # the demo's Maildir of the mail this company sent (a Path), else None


class Company:
    """One company as the web serves it: a view over its two tables, the settings (``config["BUZON_SETTINGS"]``)
    and the services (``ext["buzon.events"]``…). The first company's tables are the app's own ``app.config`` and
    ``app.extensions``, so a single-company install (and a test that puts a fake service there) is as before."""

    def __init__(self, config: dict[str, Any], ext: dict[str, Any]) -> None:
        self.config = config
        self.ext = ext

    @classmethod
    def wired(cls, wiring: CompanyWiring, make_engine: Callable[[str], Engine], *,
              config: dict[str, Any] | None = None, ext: dict[str, Any] | None = None) -> Company:  # fmt: skip
        """The company of this wiring, its tables filled (``config``/``ext``: the app's, for the first company)."""
        config = {} if config is None else config
        ext = {} if ext is None else ext
        engine = wiring.engine or make_engine(wiring.settings.database_url)
        sessions = session_factory(engine)
        config["BUZON_SETTINGS"] = wiring.settings
        ext.update({"buzon.engine": engine, "buzon.sessions": sessions})
        for name in ("events", "intake", "titles", "issuing"):
            factory = getattr(wiring, name)
            ext[f"buzon.{name}"] = factory(sessions) if factory is not None else None
        for name in ("issued_mail", "company_identity", "dian_client", "run_job", "jobs", "sent_mail"):
            ext[f"buzon.{name}"] = getattr(wiring, name)
        company = cls(config, ext)

        def db() -> Session:
            if "db" not in g:
                g.db = sessions()
            return g.db

        ext["buzon.db"] = db
        return company

    @property
    def settings(self) -> Any:
        return self.config["BUZON_SETTINGS"]

    def service(self, name: str) -> Any:
        """A service by its wiring name (events, intake, titles, issuing, issued_mail, company_identity, dian_client,
        run_job, jobs, sent_mail), None when the shell gave none."""
        return self.ext.get(f"buzon.{name}")

    @property
    def engine(self) -> Engine:
        engine: Engine = self.ext["buzon.engine"]
        return engine

    @property
    def sessions(self) -> sessionmaker[Session]:
        found: sessionmaker[Session] = self.ext["buzon.sessions"]
        return found

    @property
    def key(self) -> str:
        key: str = self.settings.key
        return key

    @property
    def name(self) -> str:
        return str(self.settings.company.name)

    @property
    def blobs(self) -> BlobStore:
        found: BlobStore = self.ext.setdefault("buzon.blobs", BlobStore(self.settings.blob_dir))
        return found


def companies() -> dict[str, Company]:
    """Every company of the install, by key, the first first."""
    found: dict[str, Company] = current_app.extensions["buzon.companies"]
    return found


def tenant() -> Company:
    """The request's company (outside a request: the first)."""
    chosen = g.get("company") if g else None
    return chosen if chosen is not None else next(iter(companies().values()))


def settings() -> Any:
    """The request's company's settings (buzon.config.Settings)."""
    return tenant().settings


def db() -> Session:
    """The request's database session, on the request's company's database; closed when the request ends."""
    session: Session = tenant().ext["buzon.db"]()
    return session


def blobs() -> BlobStore:
    """The request's company's blob store: one per company, so each serving thread keeps its connection between
    requests."""
    return tenant().blobs


def calendar() -> BusinessCalendar:
    """The business days of the request's company (its scheduler's Saturday setting)."""
    return BusinessCalendar(saturday_is_business_day=settings().scheduler.saturday_is_business_day)


def service(name: str) -> Any:
    """One of the request's company's services (``Company.service``), None when the shell gave none."""
    return tenant().service(name)


def memberships() -> dict[str, str]:
    """The companies the signed-in browser may switch to: {key: flask-login id of the user there}."""
    found = session.get(MEMBER_KEY)
    return dict(found) if isinstance(found, dict) else {}


def _token_company(digest: str) -> Company | None:
    """The company whose database holds this API token (by its hash), or None."""
    from store.models import ApiToken

    for company in companies().values():
        with company.sessions() as s:
            if s.scalar(sa.select(ApiToken.id).where(ApiToken.token_hash == digest)) is not None:
                return company
    return None


def select_company() -> None:
    """Before anything else in a request: which company it is (see the module's docstring)."""
    found = companies()
    if len(found) == 1:
        g.company = next(iter(found.values()))
        return
    token_digest = current_app.extensions["buzon.token_digest"]  # web.access's: the request's bearer token hashed
    digest = token_digest(request)
    if digest is not None:
        g.company = _token_company(digest) or next(iter(found.values()))
        return
    key = session.get(COMPANY_KEY)
    chosen = found.get(key) if isinstance(key, str) and key in memberships() else None
    g.company = chosen or next(iter(found.values()))


def install(app: Flask, first: CompanyWiring, others: Sequence[CompanyWiring], make_engine: Callable[[str], Engine],
            token_digest: Callable[[Any], str | None]) -> Company:  # fmt: skip
    """Register the companies on the app and the request's choice of company (before any other hook);
    ``token_digest(request)`` is the hash of the request's API bearer token, None without one (web.access)."""
    app.extensions["buzon.token_digest"] = token_digest
    built = [Company.wired(first, make_engine, config=app.config, ext=app.extensions),
             *(Company.wired(w, make_engine) for w in others)]  # fmt: skip
    app.extensions["buzon.companies"] = {c.key: c for c in built}
    app.before_request_funcs.setdefault(None, []).insert(0, select_company)

    @app.context_processor
    def _company_helpers() -> dict[str, Any]:
        return {"company_choices": _choices, "current_company": tenant}

    return built[0]


def _choices() -> list[Company]:
    """The companies the signed-in user may switch to (the header's selector; empty with one company)."""
    found = companies()
    if len(found) == 1:
        return []
    member = memberships()
    return [c for key, c in found.items() if key in member]
