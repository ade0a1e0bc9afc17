"""The composition root: every collaborator the shell hands to the domain packages, built from the settings.

``Runtime.from_settings(settings)`` is the one place that turns configuration into objects: the database engine and
sessions, the blob store, the business calendar, the trust store and DIAN's keys, the company's signing identity and
software, the DIAN client (the local simulator's in the simulator environment), the events context and service,
intake and the mailbox. The commands, the scheduled jobs, the WSGI app and the demo all ask a Runtime.

Each collaborator is built on first use (``cached_property``), and the module that makes it is imported there, not
at the top: a command pays only for what it uses (`buzon import` loads no SOAP client, no simulator and no Alembic;
`buzon --help` loads none of the domain packages). Problems the user must fix — a database that cannot be reached, a
certificate that cannot be opened, a trust folder that cannot be read — are raised as ConfigError naming the key.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from buzon import local_dian
from buzon.config import ConfigError, Settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from dian.calendar import BusinessCalendar
    from dian.codes import Environment
    from dian.proof import DianKeys, OnlineAnswer
    from dian.soap import DianClient
    from dian.trust import SigningIdentity, TrustStore
    from dian.ubl import Person
    from dian.ubl.build import Software
    from events.context import EventContext
    from events.notify import SmtpTarget
    from events.service import EventService
    from inbox.intake import Intake
    from issuing.context import IssuingContext
    from issuing.delivery import MailSettings
    from issuing.pdf import PdfOptions
    from issuing.service import IssuingService
    from radian.service import TitleService
    from store.blobs import BlobStore

SIMULATOR_PIN = "00000"  # the company's software PIN at the local simulator when none is configured
CRASH_ENV = "BUZON_CRASH_AT"  # the crash tests' hook: kill the process at an intake step (see crash_hook)


def redact(url: str) -> str:
    """A database URL without its password, for messages."""
    from sqlalchemy.engine import make_url  # start-up time: sqlalchemy only once a database is named

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is reported by whoever tries to use it; show only its scheme
        return url.split("://", 1)[0] + "://…"


def trust_store(settings: Settings) -> TrustStore:
    """The configured trust store (an unconfigured, absent default folder is an empty store); ConfigError names
    dian.trust_store when its folder cannot be read."""
    from dian.errors import CertificateError
    from dian.trust import TrustStore

    pins = settings.dian.pinned_dian_certificates
    if not settings.dian.trust_store and not settings.trust_store_path.is_dir():
        return TrustStore(pins=frozenset(pins))
    try:
        return TrustStore.from_folder(settings.trust_store_path, pins=pins)
    except CertificateError as exc:
        raise ConfigError(f"dian.trust_store: {exc}") from exc


def dian_keys(settings: Settings, trust: TrustStore, sessions: Any = None) -> DianKeys:
    """What DIAN's signature may be anchored in: the trust store, the shipped and configured pins, and (when a
    database is at hand) the certificates learned from DIAN itself."""
    from dian.proof import DianKeys

    learned: frozenset[str] = frozenset()
    if sessions is not None:
        from store.dian_certificates import learned_pins

        with sessions() as session:
            learned = learned_pins(session)
    return DianKeys.of(trust, settings.dian.pinned_dian_certificates, learned)


def crash_hook(spec: str | None) -> Callable[[str], None] | None:
    """A hook that kills the process (exit 137, no cleanup) at an intake step: ``BUZON_CRASH_AT=step`` or
    ``step@N`` for the N-th time that step is reached. For the crash tests; None when unset."""
    if not spec:
        return None
    step, _, nth = spec.partition("@")
    wanted = int(nth) if nth else 1
    seen = {"count": 0}

    def hook(name: str) -> None:
        if name == step:
            seen["count"] += 1
            if seen["count"] == wanted:
                sys.stdout.flush()
                os._exit(137)

    return hook


class LoadedCertificate:
    """The company's PKCS#12 opened once per content of its file: ``load`` reads the file's bytes (microseconds) and
    opens it again only when they, its path or its password changed (a renewed certificate put in place)."""

    def __init__(self) -> None:
        self._held: tuple[tuple[str, bytes, str | bytes | None], SigningIdentity] | None = None
        self.loads = 0  # how many times a file was opened (tests, benchmarks)

    def load(self, path: str | os.PathLike[str], password: str | bytes | None,
             opener: Callable[[Any, Any], SigningIdentity]) -> SigningIdentity:  # fmt: skip
        import hashlib
        from pathlib import Path

        try:
            data = Path(path).read_bytes()
        except OSError:
            return opener(path, password)  # its error names the file
        key = (os.fspath(path), hashlib.sha256(data).digest(), password)
        held = self._held
        if held is not None and held[0] == key:
            return held[1]
        identity = opener(path, password)
        self.loads += 1
        self._held = (key, identity)
        return identity


class Runtime:
    """One process's collaborators, built from its settings on first use."""

    def __init__(self, settings: Settings, *, engine: Engine | None = None,
                 sessions: sessionmaker[Session] | None = None) -> None:  # fmt: skip
        self.settings = settings
        # Every company of the install by key, this one included (buzon/group.py sets it; alone: just this one).
        self.peers: dict[str, Runtime] = {settings.key: self}
        if engine is not None:
            self.__dict__["engine"] = engine
        if sessions is not None:
            self.__dict__["sessions"] = sessions

    @classmethod
    def from_settings(cls, settings: Settings, *, engine: Engine | None = None) -> Runtime:
        """The runtime of these settings (with ``engine``, on that engine: tests, the demo's second pass)."""
        return cls(settings, engine=engine)

    # -- the database -------------------------------------------------------------------------------------------

    @cached_property
    def engine(self) -> Engine:
        """The configured database's engine; a URL SQLAlchemy cannot use, or an SQLite folder that cannot be
        created, is a ConfigError naming database.url."""
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        from store.db import make_engine

        url = self.settings.database_url
        try:
            return make_engine(url)
        except (ArgumentError, NoSuchModuleError, ImportError, ValueError) as exc:
            raise ConfigError(f"database.url: {redact(url)} is not a database URL Buzón can use ({exc})") from exc
        except OSError as exc:
            raise ConfigError(f"database {redact(url)}: cannot create its folder ({exc.strerror})") from exc

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        from store.db import session_factory

        return session_factory(self.engine)

    def revision(self) -> str | None:
        """The schema revision the database is at (None when empty); ConfigError when it cannot be reached."""
        from sqlalchemy.exc import DBAPIError

        from store.db import current_revision

        try:
            return current_revision(self.engine)
        except DBAPIError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else exc.__class__.__name__
            raise ConfigError(f"database {redact(self.settings.database_url)}: cannot connect ({reason})") from exc

    def check_schema(self) -> None:
        """ConfigError unless the database is reachable and at the schema this code expects."""
        from store.db import head_revision

        if self.revision() != head_revision():
            raise ConfigError("the database schema is not current: run `buzon init` first")
        from store.company import WrongCompany, check

        with self.sessions() as session:
            try:
                check(session, self.settings.company.nit)
            except WrongCompany as exc:
                raise ConfigError(f"database.url: {redact(self.settings.database_url)}: {exc}") from exc

    # -- files and the calendar ---------------------------------------------------------------------------------

    @cached_property
    def blobs(self) -> BlobStore:
        from store.blobs import BlobStore

        return BlobStore(self.settings.blob_dir)

    @cached_property
    def calendar(self) -> BusinessCalendar:
        from dian.calendar import BusinessCalendar

        return BusinessCalendar(saturday_is_business_day=self.settings.scheduler.saturday_is_business_day)

    # -- DIAN: trust, identity, client --------------------------------------------------------------------------

    @cached_property
    def trust(self) -> TrustStore:
        return trust_store(self.settings)

    def dian_keys(self, sessions: Any = None) -> DianKeys:
        """DIAN's keys now (the learned ones read from the database each time)."""
        return dian_keys(self.settings, self.trust, sessions)

    def company_identity(self) -> SigningIdentity:
        """The company's signing key and certificate: certificate.pkcs12_path when configured; in the simulator
        environment without one, the sandbox certificate of the local simulator.

        Opened once per content of the file (opening a PKCS#12 costs tens of milliseconds of CPU, every events
        context and DIAN client asks for it): a certificate replaced on disk — a renewal — is used from the next call.
        """
        from dian.errors import CertificateError
        from dian.trust import load_pkcs12

        cert = self.settings.certificate
        if cert.pkcs12_path:
            try:
                return self._certificates.load(cert.pkcs12_path, cert.password, load_pkcs12)
            except CertificateError as exc:
                raise ConfigError(f"certificate.pkcs12_path: {exc}") from exc
        if self.settings.dian.environment != "simulator":
            raise ConfigError(
                f"certificate.pkcs12_path: DIAN's {self.settings.dian.environment} environment needs the company's "
                "certificate"
            )
        sandbox = local_dian.sandbox_path(self.settings)
        if not sandbox.exists():
            return local_dian.sandbox_identity(self.settings)  # issued now; opened from the cache next time
        return self._certificates.load(sandbox, local_dian.SANDBOX_PASSWORD, load_pkcs12)

    @cached_property
    def _certificates(self) -> LoadedCertificate:
        return LoadedCertificate()

    def check_certificate(self) -> None:
        """ConfigError naming the key when the configured company certificate cannot be opened (processes that will
        sign later — the web, the scheduler — refuse to start rather than fail at their first event)."""
        if self.settings.certificate.pkcs12_path:
            self.company_identity()

    def software(self) -> Software:
        """Our software as registered with DIAN; at the local simulator it is registered on first use (once per
        process: seeding the simulator's database costs more than the rest of an events context)."""
        from dian.ubl.build import Software

        settings = self.settings
        pin = settings.dian.software_pin or (SIMULATOR_PIN if settings.dian.environment == "simulator" else "")
        software = Software(provider_nit=settings.company.nit_number, provider_dv=settings.company.dv,
                            software_id=settings.dian.software_id, pin=pin)  # fmt: skip
        if local_dian.is_local(settings) and self.__dict__.get("_registered_software") != software:
            local_dian.register_software(settings, software)
            self.__dict__["_registered_software"] = software
        return software

    def dian_client(self) -> DianClient:
        """A new web-service client for the configured environment, signing with the company's identity."""
        from dian.soap import DianClient, endpoint_for  # start-up time: zeep only when DIAN is called

        settings = self.settings
        endpoint = endpoint_for(settings.dian.environment, local_dian.url(settings))
        if settings.dian.environment != "simulator" and settings.dian.endpoint:
            endpoint = settings.dian.endpoint
        return DianClient(endpoint, self.company_identity(), connect_timeout=settings.dian.connect_timeout,
                          read_timeout=settings.dian.read_timeout)  # fmt: skip

    @property
    def client(self) -> DianClient:
        """This process's DIAN client (the scheduled jobs share it); a new one once the company's certificate file
        changed (the old one, maybe still in use by a job, is closed with the runtime)."""
        held = self.__dict__.get("_client")
        if held is None or held.identity is not self.company_identity():
            if held is not None:
                self.__dict__.setdefault("_retired_clients", []).append(held)
            held = self.__dict__["_client"] = self.dian_client()
        return held

    def online_check(self) -> Callable[[str], OnlineAnswer] | None:
        """DIAN's online confirmation (GetStatus by CUFE) when dian.online_check is on, else None."""
        if not self.settings.dian.online_check:
            return None
        from buzon.dian_lookups import online_check  # start-up time: the SOAP stack only with the online check

        return online_check(self.client, self.settings)

    # -- events -------------------------------------------------------------------------------------------------

    def default_person(self) -> Person | None:
        """The person named in the 030/032 that scheduled jobs sign ([events])."""
        from dian.ubl import Person

        e = self.settings.events
        if not e.has_person:
            return None
        return Person(id=e.person_id, first_name=e.person_first_name, family_name=e.person_family_name,
                      id_type=e.person_id_type or "13", job_title=e.person_job_title or None,
                      department=e.person_department or None)  # fmt: skip

    def dian_environment(self) -> Environment:
        """The DIAN environment our events and invoices go to: production, or habilitación (also the simulator's)."""
        from dian.codes import Environment

        return Environment.PRODUCTION if self.settings.dian.environment == "produccion" else Environment.TESTING

    def event_context(self, sessions: Any = None) -> EventContext:
        """Everything events/ needs (the certificate is loaded here); with ``sessions``, DIAN's answers are weighed
        with the certificates learned from DIAN too."""
        from dian.ubl import Party
        from events.context import Backoff, EventContext

        settings = self.settings
        return EventContext(
            company=Party(nit=settings.company.nit_number, dv=settings.company.dv,
                          registration_name=settings.company.name),
            software=self.software(),
            environment=self.dian_environment(),
            identity=self.company_identity(),
            blobs=self.blobs,
            calendar=self.calendar,
            default_person=self.default_person(),
            trust=self.trust,
            keys=self.dian_keys(sessions),
            backoff=Backoff(base_seconds=settings.events.retry_seconds, max_seconds=settings.events.retry_max_seconds),
            on_title_event=self.title_hook(),
            approvals=self.approval_policy(),
        )  # fmt: skip

    def approval_policy(self) -> Any:
        """Four-eyes from [approvals] (events.approvals.ApprovalPolicy), None when it is off."""
        from events.approvals import ApprovalPolicy

        a = self.settings.approvals
        return ApprovalPolicy.of(enabled=a.enabled, events=a.events, threshold=a.amount_threshold,
                                 suppliers=a.suppliers)  # fmt: skip

    @property
    def ctx(self) -> EventContext:
        """This process's events context (the scheduled jobs share it); made again once the company's certificate
        file changed, so a long-running scheduler signs with a renewed certificate from its next job on."""
        held = self.__dict__.get("_ctx")
        if held is None or held.identity is not self.company_identity():
            held = self.__dict__["_ctx"] = self.event_context(self.sessions)
        return held

    @cached_property
    def smtp(self) -> SmtpTarget:
        from events.notify import SmtpTarget

        s = self.settings.smtp
        return SmtpTarget(host=s.host, port=s.port, tls=s.tls, user=s.user, password=s.password,
                          from_address=s.from_address)  # fmt: skip

    def on_registered(self, ctx: EventContext, client: Any | None) -> Callable[..., None]:
        """What happens when one of our events is registered: the supplier's notice is queued (its address from the
        invoice, else DIAN's list through ``client``, else the suppliers table)."""
        from buzon.dian_lookups import exchange_emails
        from events.notify import queue_event_notice

        lookup = exchange_emails(client) if client is not None else None
        from_address = self.settings.smtp.from_address

        def on_registered(s: Session, event: Any, document: Any, now: datetime) -> None:
            queue_event_notice(s, ctx, event, document, now, from_address=from_address, exchange_emails=lookup)

        return on_registered

    def event_service(self, sessions: sessionmaker[Session] | None = None) -> EventService:
        """The events façade of the web application, on ``sessions`` (the app's) or this runtime's."""
        from events.service import EventService

        sessions = sessions or self.sessions
        return EventService(
            sessions=sessions,
            make_context=lambda: self.event_context(sessions),
            make_client=self.dian_client,
            make_on_registered=self.on_registered,
        )

    # -- value titles (RADIAN) ---------------------------------------------------------------------------------

    def title_hook(self) -> Callable[..., None]:
        """EventContext.on_title_event: when an event on an invoice is registered, its value title is derived again
        (radian.store.on_registered, imported on the first registration, not at start-up)."""
        company, blobs = self.settings.company, lambda: self.blobs

        def hook(session: Session, event: Any, now: datetime) -> None:
            from radian.store import on_registered

            on_registered(blobs(), our_nit=company.nit_number, our_name=company.name)(session, event, now)

        return hook

    def title_service(self, sessions: sessionmaker[Session] | None = None) -> TitleService:
        """The value titles façade (receivables) on ``sessions`` (the web app's) or this runtime's."""
        from radian.service import TitleService

        sessions = sessions or self.sessions
        from radian.sync import Notice

        notice = Notice(self.settings.smtp.from_address, tuple(self.settings.radian.alert_emails))
        return TitleService(sessions=sessions, make_context=lambda: self.event_context(sessions), trust=self.trust,
                            make_client=self.dian_client, notice=notice)  # fmt: skip

    @cached_property
    def titles(self) -> TitleService:
        """This process's value titles façade (the CLI and the jobs share it)."""
        return self.title_service()

    @cached_property
    def support(self) -> Any:
        """This process's documento soporte façade (05 and its 95, issuing.support_service) on the issuing one."""
        from issuing.support_service import SupportService

        return SupportService(self.issuing)

    # -- issuing (our invoices and notes) ----------------------------------------------------------------------

    def issuing_context(self, sessions: Any = None) -> IssuingContext:
        """Everything issuing/ needs: our company as issuer with its software and certificate, the environment, the
        blobs, DIAN's keys (with ``sessions``, the learned ones too) and the retry pacing of [events]."""
        from issuing.context import Backoff, IssuingContext
        from issuing.document import Issuer

        settings = self.settings
        return IssuingContext(
            issuer=Issuer(party=issuer_party(settings.company), software=self.software(),
                          identity=self.company_identity()),
            environment=self.dian_environment(),
            blobs=self.blobs,
            keys=self.dian_keys(sessions),
            backoff=Backoff(base_seconds=settings.events.retry_seconds, max_seconds=settings.events.retry_max_seconds),
        )  # fmt: skip

    def issuing_service(self, sessions: sessionmaker[Session] | None = None) -> IssuingService:
        """The issuing façade on ``sessions`` (the web app's) or this runtime's."""
        from issuing.service import IssuingService

        sessions = sessions or self.sessions
        return IssuingService(sessions=sessions, make_context=lambda: self.issuing_context(sessions),
                              make_client=self.dian_client)  # fmt: skip

    @cached_property
    def issuing(self) -> IssuingService:
        """This process's issuing façade (the CLI and the jobs share it)."""
        return self.issuing_service()

    def pdf_options(self) -> PdfOptions:
        """The printed invoice's logo, business line and footer from [issuing] (issuing.pdf.PdfOptions)."""
        from pathlib import Path

        from issuing.pdf import PdfOptions

        cfg = self.settings.issuing
        return PdfOptions(logo=Path(cfg.pdf_logo) if cfg.pdf_logo else None, footer=cfg.pdf_footer or None,
                          business_line=cfg.pdf_business_line or None)  # fmt: skip

    def buyer_mail_settings(self) -> MailSettings:
        """How the buyer's copy is mailed: the [smtp] sender, the subject's business line and the PDF's options."""
        from issuing.delivery import MailSettings

        return MailSettings(from_address=self.settings.smtp.from_address,
                            business_line=self.settings.issuing.mail_business_line or None, pdf=self.pdf_options())

    # -- intake and the mailbox ---------------------------------------------------------------------------------

    def intake_policy(self, sessions: Any = None) -> Any:
        """How intake verifies and files: our NIT, the trust store and pins, the online check, the size limit."""
        from inbox.intake import IntakePolicy
        from store.state import refresh_documents

        settings, sessions = self.settings, sessions or self.sessions
        return IntakePolicy(
            our_nit=settings.company.nit_number,
            trust=self.trust,
            dian_pins=settings.dian.pinned_dian_certificates,
            max_message_bytes=settings.inbox.max_message_bytes,
            online_check=self.online_check(),
            require_dian_validation=settings.dian.require_validation,
            environment=None if settings.dian.environment == "simulator" else self.dian_environment(),
            on_documents=lambda ids: refresh_documents(sessions, ids, self.calendar),
            on_receivables=lambda ids: self.mailed_receivable_events(ids, sessions),
        )

    def mailed_receivable_events(self, invoice_ids: list[int], sessions: Any = None) -> list[Any]:
        """Our invoices whose buyer's events intake took from mail: their titles derived again, a claim alerted."""
        from radian.sync import Notice, mailed_events

        sessions, company = sessions or self.sessions, self.settings.company
        notice = Notice(self.settings.smtp.from_address, tuple(self.settings.radian.alert_emails))
        return mailed_events(sessions, lambda: self.event_context(sessions), invoice_ids, our_nit=company.nit_number,
                             our_name=company.name, notice=notice, now=datetime.now(UTC))  # fmt: skip

    def intake(self, *, actor: str = "system:intake") -> Intake:
        """Intake on this runtime's database (the crash tests' hook from $BUZON_CRASH_AT)."""
        from inbox.intake import Intake

        return Intake(self.sessions, self.blobs, self.intake_policy(), clock=lambda: datetime.now(UTC), actor=actor,
                      hook=crash_hook(os.environ.get(CRASH_ENV)))  # fmt: skip

    def web_intake(self, sessions: sessionmaker[Session]) -> Callable[[str], Intake]:
        """For the web's quarantine page: ``make(actor)`` gives an Intake on the app's sessions (the trust store and
        the DIAN client are loaded on first use, not when the app starts)."""
        from inbox.intake import Intake

        policies: list[Any] = []

        def make(actor: str) -> Intake:
            if not policies:
                policies.append(self.intake_policy(sessions))
            return Intake(sessions, self.blobs, policies[0], clock=lambda: datetime.now(UTC), actor=actor)

        return make

    def open_mailbox(self) -> Any:
        """The configured mailbox: IMAP (connected), a Maildir, or the local mailbox folder."""
        from inbox.sources import FolderSource, MaildirSource

        settings = self.settings
        if settings.inbox.source == "imap":
            return self._imap()
        if settings.inbox.source == "maildir":
            return MaildirSource(settings.mailbox_path)
        settings.mailbox_path.mkdir(parents=True, exist_ok=True)
        return FolderSource(settings.mailbox_path)

    def _imap(self) -> Any:
        from inbox.imap import ImapConfigError, ImapOptions, ImapSource

        i, inbox = self.settings.imap, self.settings.inbox
        options = ImapOptions(
            host=i.host, port=i.port, tls=i.tls, user=i.user, password=i.password, oauth2_token=i.oauth2_token,
            folder=i.folder, processed_folder=i.processed_folder, quarantine_folder=i.quarantine_folder,
            max_message_bytes=inbox.max_message_bytes,
        )  # fmt: skip
        try:
            return ImapSource(options).connect()
        except ImapConfigError as exc:
            raise ConfigError(str(exc)) from exc

    def poll_once(self, intake: Intake | None = None) -> Any:
        """One poll of the configured mailbox (the scheduler's job and the demo call this); its Summary. A mail
        addressed to another company of the install is taken by that company's intake (``router``)."""
        from inbox.poll import poll_once

        intake = intake or self.intake()
        router = self.router(intake)
        source = self.open_mailbox()
        try:
            return poll_once(source, intake) if router is None else poll_once(source, intake, router=router)
        finally:
            source.close()

    def router(self, intake: Intake) -> Any:
        """This company's ``intake`` with the install's other companies' (each peer's, same actor), for routing
        mail by the NIT it is addressed to (inbox/routing.py); None with one company: nothing to peek at."""
        if len(self.peers) < 2:
            return None
        from inbox.routing import Router

        others = {key: peer.intake(actor=intake.actor) for key, peer in self.peers.items() if peer is not self}
        return Router(intake, others)

    # -- the end ------------------------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the DIAN clients and the engine, if they were made."""
        clients = [self.__dict__.pop("_client", None), *self.__dict__.pop("_retired_clients", [])]
        for client in clients:
            if client is not None:
                client.close()
        engine = self.__dict__.get("engine")
        if engine is not None:
            engine.dispose()


def event_service(settings: Settings, sessions: sessionmaker[Session]) -> EventService:
    """The events façade for a web app built on ``sessions`` (tests that make their own app)."""
    return Runtime(settings, sessions=sessions).event_service(sessions)


def issuer_party(company: Any) -> Any:
    """Our company as the issuer of our invoices (AccountingSupplierParty), from [company]: NIT, name, trade name,
    RUT responsibilities, IVA regime, legal nature, address (with its DANE codes) and contact."""
    from buzon.config import COMPANY_TAX_SCHEMES
    from dian.ubl import Address, Party

    address = None
    if company.address or company.city_code:
        address = Address(city=company.city or None, city_code=company.city_code or None,
                          department=company.department or None,
                          department_code=company.department_code or company.city_code[:2] or None,
                          country=company.country or "CO", line=company.address or None)  # fmt: skip
    return Party(nit=company.nit_number, dv=company.dv, registration_name=company.name,
                 trade_name=company.trade_name or None, tax_level_codes=tuple(company.tax_levels),
                 tax_scheme_id=company.tax_scheme, tax_scheme_name=COMPANY_TAX_SCHEMES.get(company.tax_scheme),
                 address=address, email=company.email or None, phone=company.phone or None,
                 organization_type=company.organization_type)  # fmt: skip
