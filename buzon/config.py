"""Typed configuration: TOML into frozen dataclasses, every error naming its key.

Where the file comes from: ``--config``, else ``$BUZON_CONFIG``, else ``./buzon.toml``, else the built-in defaults
(one machine: SQLite under ./var, demo data, a local mailbox folder, the DIAN simulator).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import os
import re
import tomllib
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from buzon import companies
from dian.nit import check_digit

ENV_PREFIX = "env:"
MAX_INTEGER = 2**53  # beyond this no setting makes sense, and SQLite, JSON and float() start to disagree
NIT_RE = re.compile(r"^(\d{5,15})-(\d)$")


class ConfigError(Exception):
    """A configuration value is wrong; each problem starts with the dotted key (``imap.port: …``).

    ``problems`` lists every problem found, unknown keys first, then in the order of the settings; ``str()`` is the
    first, one line (`buzon check-config` prints them all).
    """

    def __init__(self, *problems: str) -> None:
        super().__init__(*problems)
        self.problems: tuple[str, ...] = problems

    def __str__(self) -> str:
        return self.problems[0] if self.problems else ""


class _Problems:
    """The problems found while reading one configuration, kept in a stable order: unknown keys, then the rest."""

    def __init__(self) -> None:
        self.unknown: list[str] = []
        self.other: list[str] = []
        self.missing: dict[str, str] = {}  # key -> environment variable of an env: secret that is not set

    def add(self, message: str) -> None:
        self.other.append(message)

    def raise_any(self) -> None:
        if self.unknown or self.other:
            raise ConfigError(*self.unknown, *self.other)


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = ""
    # PostgreSQL's owner role (README "Two roles"): `buzon init` migrates with this URL, then grants the role of `url`
    # what the application needs (on the audit log only SELECT, INSERT and the seal's update). Empty: `url` migrates.
    owner_url: str = ""


@dataclass(frozen=True)
class CompanySettings:
    nit: str = "900123456-8"
    name: str = "Empresa Demo S.A.S."
    reception_email: str = "recepcion@empresa-demo.test"
    # Our party as the issuer of our invoices (AccountingSupplierParty, and the PDF's mandatory fields: B.6): trade
    # name, RUT responsibilities (TaxLevelCode), IVA regime, legal nature, the address DIAN registered (DANE city code)
    # and the contact printed and sent. Empty: left out of the document.
    trade_name: str = ""
    tax_levels: tuple[str, ...] = ("R-99-PN",)
    tax_scheme: str = "01"  # 01 responsable de IVA, 04 INC, ZA IVA e INC, ZZ no aplica
    organization_type: str = "1"  # 1 persona jurídica, 2 persona natural
    address: str = ""
    city_code: str = ""  # DANE municipality, 5 digits
    city: str = ""
    department: str = ""
    department_code: str = ""  # the first 2 digits of city_code when empty
    country: str = "CO"
    email: str = ""
    phone: str = ""

    @property
    def nit_number(self) -> str:
        """The NIT without its check digit, as DIAN documents carry it in CompanyID."""
        return self.nit.split("-")[0]

    @property
    def dv(self) -> str:
        """The check digit (dígito de verificación)."""
        return self.nit.split("-")[1]


@dataclass(frozen=True)
class CertificateSettings:
    pkcs12_path: str = ""
    password: str = field(default="", repr=False)


@dataclass(frozen=True)
class DianSettings:
    environment: Literal["simulator", "habilitacion", "produccion"] = "simulator"
    endpoint: str = ""
    simulator_port: int = 8090
    simulator_dir: str = ""  # the local simulator's state (default <data_dir>/dian-sim; the install's first company's)
    software_id: str = "00000000-0000-0000-0000-000000000000"
    software_pin: str = field(default="", repr=False)
    test_set_id: str = ""
    trust_store: str = ""
    pinned_dian_certificates: tuple[str, ...] = ()
    online_check: bool = False
    require_validation: bool = False
    confirm_every_minutes: int = 60
    connect_timeout: float = 10.0
    read_timeout: float = 60.0


@dataclass(frozen=True)
class InboxSettings:
    source: Literal["imap", "maildir", "folder"] = "folder"
    path: str = ""
    max_message_bytes: int = 10 * 1024 * 1024


@dataclass(frozen=True)
class ImapSettings:
    host: str = "127.0.0.1"
    port: int = 993
    tls: Literal["implicit", "starttls", "none"] = "implicit"
    user: str = ""
    password: str = field(default="", repr=False)
    oauth2_token: str = field(default="", repr=False)
    folder: str = "INBOX"
    processed_folder: str = "Buzon/Procesados"
    quarantine_folder: str = "Buzon/Cuarentena"


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "127.0.0.1"
    port: int = 587
    tls: Literal["implicit", "starttls", "none"] = "starttls"
    user: str = ""
    password: str = field(default="", repr=False)
    from_address: str = "recepcion@empresa-demo.test"


@dataclass(frozen=True)
class SchedulerSettings:
    poll_interval: int = 60
    outbox_interval: int = 30
    sync_interval: int = 3600
    deadline_interval: int = 900
    auto_acknowledge: Literal["off", "valid", "valid_listed"] = "off"
    auto_acknowledge_suppliers: tuple[str, ...] = ()
    auto_receipt_suppliers: tuple[str, ...] = ()
    reminder_business_hours: int = 8
    saturday_is_business_day: bool = False
    # `buzon serve` runs these jobs in its own process too (one machine, the demo); set false when a separate
    # `buzon scheduler` runs them (production with gunicorn never runs them in the web process).
    embedded: bool = True


@dataclass(frozen=True)
class EventSettings:
    # The person named in 030/032 signed by scheduled jobs (IssuerParty/Person): who receives for the company.
    person_id_type: str = "13"
    person_id: str = ""
    person_first_name: str = ""
    person_family_name: str = ""
    person_job_title: str = ""
    person_department: str = ""
    # Retries of events and mail: the first wait, doubled per attempt up to the cap.
    retry_seconds: int = 30
    retry_max_seconds: int = 3600
    # How far back the sync of the counterpart's events looks (days since the invoice's issue).
    sync_max_age_days: int = 180

    @property
    def has_person(self) -> bool:
        return bool(self.person_id and self.person_first_name and self.person_family_name)


@dataclass(frozen=True)
class WebSettings:
    secret_key: str = field(default="", repr=False)
    bind: str = "127.0.0.1:8000"
    # How many reverse proxies stand in front (0: none). Their X-Forwarded-For/-Proto/-Host are then believed, so the
    # login throttle and the audit log see the client's address and cookies get the Secure flag behind TLS.
    proxy_hops: int = 0
    # Hours of inactivity after which a web session ends.
    session_hours: int = 12

    @property
    def host(self) -> str:
        return self.bind.rsplit(":", 1)[0]

    @property
    def port(self) -> int:
        return int(self.bind.rsplit(":", 1)[1])


@dataclass(frozen=True)
class WebhookSettings:
    # Where document state changes are POSTed (empty: no webhooks), signed with the secret (HMAC-SHA256).
    url: str = ""
    secret: str = field(default="", repr=False)
    timeout: float = 10.0
    max_attempts: int = 10


@dataclass(frozen=True)
class RadianSettings:
    # The endorsement watch (radian/watch/): each unpaid received credit invoice is asked about (GetStatusEvent) at
    # most once per watch_interval seconds, until watch_past_due_days after its due date; DIAN is asked by
    # watch_concurrency threads together at most watch_rate_per_second times a second, watch_batch invoices per run.
    watch_interval: int = 3600
    watch_past_due_days: int = 60
    watch_rate_per_second: float = 10.0
    watch_concurrency: int = 4
    watch_batch: int = 2000
    # Who is told when a supplier invoice changes holder or is limited, besides the treasury users and the assigned
    # clerk: e.g. the accounts-payable team's mailbox.
    alert_emails: tuple[str, ...] = ()


@dataclass(frozen=True)
class IssuingSettings:
    # The habilitación test set (`buzon habilitacion run`): the quota DIAN's portal shows for dian.test_set_id, and
    # how often GetStatusZip is asked (seconds, doubled up to 30) and for how long at most.
    test_set_invoices: int = 2
    test_set_credit_notes: int = 1
    test_set_debit_notes: int = 1
    test_set_poll_seconds: float = 2.0
    test_set_max_wait_seconds: float = 300.0
    # Contingency (radian-issuing-facts B.3): DIAN's outage is taken as detected after this many sends in a row with
    # no answer at all; billing and the admins are mailed this many hours before a 03/04's 48 h deadline.
    contingency_after_failures: int = 4
    contingency_alert_hours: int = 12
    # The seller's 034 (issuing/tacit.py) three business days after the buyer's 032 with no 031/033: "off", "propose"
    # (listed for billing to confirm) or "send" (emitted by the tacit_acceptance job).
    tacit_acceptance: Literal["off", "propose", "send"] = "propose"
    # The printed invoice (issuing/pdf.py): the company's logo (a PNG or JPEG file, top left of every page), a line
    # under the company's name (its economic activity, a slogan) and a note at the foot of every page (bank account,
    # website). The buyer's mail subject may end with a business line (dian-facts 4.1, its optional sixth field).
    pdf_logo: str = ""
    pdf_business_line: str = ""
    pdf_footer: str = ""
    mail_business_line: str = ""


@dataclass(frozen=True)
class ApprovalSettings:
    # Four-eyes (events/approvals.py): the listed events wait for a second user's approval before they are signed
    # when the invoice's amount in pesos is at least amount_threshold, or the counterpart's NIT (the supplier; on a
    # title the factor or debtor) is in suppliers. With no threshold (0) and no NIT every listed event waits.
    enabled: bool = False
    amount_threshold: int = 0
    suppliers: tuple[str, ...] = ()
    events: tuple[str, ...] = ("031", "033", "036", "037")


@dataclass(frozen=True)
class Settings:
    data_dir: str = "./var"
    demo: bool = False
    database: DatabaseSettings = DatabaseSettings()
    company: CompanySettings = CompanySettings()
    certificate: CertificateSettings = CertificateSettings()
    dian: DianSettings = DianSettings()
    inbox: InboxSettings = InboxSettings()
    imap: ImapSettings = ImapSettings()
    smtp: SmtpSettings = SmtpSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    events: EventSettings = EventSettings()
    web: WebSettings = WebSettings()
    webhooks: WebhookSettings = WebhookSettings()
    radian: RadianSettings = RadianSettings()
    issuing: IssuingSettings = IssuingSettings()
    approvals: ApprovalSettings = ApprovalSettings()
    loaded_from: str = field(default="(defaults)", compare=False)
    # The install's other companies ([[companies]] tables; buzon/companies.py): this one is the first.
    companies: tuple[Settings, ...] = field(default=(), compare=False, repr=False)

    @property
    def key(self) -> str:
        """The company's key in this install: its NIT without the check digit (URLs, folders, the switcher)."""
        return self.company.nit.partition("-")[0]

    @property
    def group(self) -> tuple[Settings, ...]:
        """Every company of the install, this one first."""
        return (self, *self.companies)

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)

    @property
    def database_url(self) -> str:
        """The SQLAlchemy URL; SQLite under the data directory when none is configured."""
        if self.database.url:
            return self.database.url
        return f"sqlite:///{(self.data_path / 'buzon.sqlite3').as_posix()}"

    @property
    def blob_dir(self) -> Path:
        return self.data_path / "blobs"

    @property
    def mailbox_path(self) -> Path:
        return Path(self.inbox.path) if self.inbox.path else self.data_path / "mailbox"

    @property
    def trust_store_path(self) -> Path:
        return Path(self.dian.trust_store) if self.dian.trust_store else self.data_path / "trust"

    def replace(self, **changes: Any) -> Settings:
        """A copy with some top-level fields changed (tests and the demo use it)."""
        return dataclasses.replace(self, **changes)


_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}


def _describe(value: Any) -> str:
    return repr(value) if not isinstance(value, dict) else "a table"


def _convert(value: Any, tp: Any, key: str, env: Mapping[str, str], problems: _Problems) -> Any:
    """Check one value against its declared type and return it in that type (ConfigError naming the key)."""
    origin = get_origin(tp)
    if origin is Literal:
        choices = get_args(tp)
        if value not in choices:
            listed = ", ".join(repr(c) for c in choices)
            raise ConfigError(f"{key}: expected one of {listed}, got {_describe(value)}")
        return value
    if origin is tuple:
        (item_type, _) = get_args(tp)
        if not isinstance(value, list):
            raise ConfigError(f"{key}: expected a list, got {_describe(value)}")
        return tuple(_convert(v, item_type, f"{key}[{i}]", env, problems) for i, v in enumerate(value))
    if origin in (Union, types.UnionType):
        raise TypeError(f"unsupported settings type for {key}")  # pragma: no cover - guards future edits
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a table [{key}], got {_describe(value)}")
        return _build(tp, value, key, env, problems)
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {_describe(value)}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected an integer, got {_describe(value)}")
        if abs(value) > MAX_INTEGER:
            raise ConfigError(f"{key}: {value} is out of range")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{key}: expected a number, got {_describe(value)}")
        if not math.isfinite(value) or abs(value) > MAX_INTEGER:
            raise ConfigError(f"{key}: expected a finite number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, got {_describe(value)}")
        if value.startswith(ENV_PREFIX):
            name = value[len(ENV_PREFIX) :]
            if not name:
                raise ConfigError(f"{key}: 'env:' must be followed by the name of an environment variable")
            if name not in env:
                problems.missing[key] = name  # a problem only if the configuration uses this secret (_secrets)
                return ""
            return env[name]
        return value
    raise TypeError(f"unsupported settings type {tp!r} for {key}")  # pragma: no cover


def _build(cls: type, data: Mapping[str, Any], prefix: str, env: Mapping[str, str], problems: _Problems) -> Any:
    """The dataclass from one table; a bad value is recorded and its default kept, so every problem is found."""
    hints = get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.init and f.name not in ("loaded_from", "companies")]
    for key in data:
        if key not in names:
            where = f"{prefix}.{key}" if prefix else key
            suggestion = _closest(key, set(names))
            hint = f" (did you mean '{suggestion}'?)" if suggestion else ""
            problems.unknown.append(f"{where}: unknown key{hint}")
    values = {}
    for name in names:  # declaration order: the problems come out in the same order every time
        if name in data:
            try:
                values[name] = _convert(data[name], hints[name], f"{prefix}.{name}" if prefix else name, env, problems)
            except ConfigError as exc:
                problems.add(str(exc))
    return cls(**values)


def _closest(key: str, names: set[str]) -> str | None:
    import difflib

    found = difflib.get_close_matches(key, sorted(names), n=1, cutoff=0.75)
    return found[0] if found else None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


COMPANY_TAX_SCHEMES = {"01": "IVA", "04": "INC", "ZA": "IVA e INC", "ZZ": "No aplica"}
_TAX_LEVEL = re.compile(r"^(O-\d{1,2}|R-\d{2}-P[NJ]|ZZ)$")


def _validate_company(c: CompanySettings, problems: _Problems) -> None:
    for level in c.tax_levels:
        if not _TAX_LEVEL.match(level):
            problems.add(f"company.tax_levels: {level!r} is not a RUT responsibility code such as O-13 or R-99-PN")
    if c.tax_scheme not in COMPANY_TAX_SCHEMES:
        problems.add(f"company.tax_scheme: expected one of {', '.join(COMPANY_TAX_SCHEMES)}, got {c.tax_scheme!r}")
    if c.organization_type not in ("1", "2"):
        problems.add(f"company.organization_type: expected 1 (legal entity) or 2 (natural person), got "
                     f"{c.organization_type!r}")  # fmt: skip
    if c.city_code and not re.fullmatch(r"[0-9]{5}", c.city_code):
        problems.add(f"company.city_code: expected the 5-digit DANE municipality code, got {c.city_code!r}")
    if c.department_code and not re.fullmatch(r"[0-9]{2}", c.department_code):
        problems.add(f"company.department_code: expected 2 digits, got {c.department_code!r}")
    elif c.department_code and re.fullmatch(r"[0-9]{5}", c.city_code) and not c.city_code.startswith(c.department_code):
        problems.add(f"company.department_code: {c.department_code} is not the department of city {c.city_code}")
    if not re.fullmatch(r"[A-Z]{2}", c.country):
        problems.add(f"company.country: expected an ISO 3166 code of 2 capital letters, got {c.country!r}")
    if c.country == "CO" and c.address and not c.city_code:
        problems.add("company.city_code: an address in Colombia needs its DANE municipality code")
    if c.email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", c.email):
        problems.add(f"company.email: {c.email!r} is not a mail address")


def _validate(s: Settings, problems: _Problems) -> None:
    """Checks across values that types alone cannot express."""
    if not NIT_RE.match(s.company.nit):
        problems.add(
            f"company.nit: expected digits, a dash and the check digit (900123456-8), got {s.company.nit!r}"
        )
    elif check_digit(s.company.nit_number) != s.company.dv:
        number, dv = s.company.nit_number, s.company.dv
        problems.add(f"company.nit: check digit {dv} does not match NIT {number} (it should be {check_digit(number)})")
    _validate_company(s.company, problems)
    for section in ("imap", "smtp"):
        server = getattr(s, section)
        if not 0 < server.port < 65536:
            problems.add(f"{section}.port: expected a port between 1 and 65535, got {server.port}")
        if server.tls == "none" and not _is_loopback(server.host):
            problems.add(
                f"{section}.tls: 'none' (plain text) is only allowed on a loopback host, not {server.host!r}"
            )
    if not 0 < s.dian.simulator_port < 65536:
        problems.add(f"dian.simulator_port: expected a port between 1 and 65535, got {s.dian.simulator_port}")
    if s.dian.environment != "simulator" and s.dian.endpoint and not s.dian.endpoint.startswith("https://"):
        problems.add(f"dian.endpoint: DIAN is only reached over https, got {s.dian.endpoint!r}")
    for fp in s.dian.pinned_dian_certificates:
        if not re.fullmatch(r"[0-9a-fA-F:]{64,95}", fp):
            problems.add(f"dian.pinned_dian_certificates: {fp!r} is not a SHA-256 fingerprint in hex")
    host, _, port = s.web.bind.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        problems.add(f"web.bind: expected host:port such as 127.0.0.1:8000, got {s.web.bind!r}")
    if not 0 <= s.web.proxy_hops <= 5:
        problems.add(f"web.proxy_hops: expected 0 (no proxy) to 5, got {s.web.proxy_hops}")
    for name in ("poll_interval", "outbox_interval", "sync_interval", "deadline_interval"):
        if getattr(s.scheduler, name) <= 0:
            problems.add(f"scheduler.{name}: expected a positive number of seconds")
    if s.scheduler.auto_acknowledge != "off" and not s.events.has_person:
        problems.add(
            "events.person_id: automatic acknowledgement (scheduler.auto_acknowledge) signs 030 in the name of a "
            "person; set events.person_id, person_first_name and person_family_name"
        )
    if s.events.person_id_type and not s.events.person_id_type.isdigit():
        problems.add(f"events.person_id_type: expected a DIAN identification type (13, 22…), got "
                     f"{s.events.person_id_type!r}")  # fmt: skip
    if s.events.retry_seconds <= 0 or s.events.retry_max_seconds < s.events.retry_seconds:
        problems.add("events.retry_seconds: expected a positive number no larger than events.retry_max_seconds")
    if s.inbox.source == "imap" and not (s.imap.password or s.imap.oauth2_token):
        if not {"imap.password", "imap.oauth2_token"} & problems.missing.keys():  # else already said: not set
            problems.add("imap.password: an IMAP inbox needs imap.password or imap.oauth2_token to log in")
        if not s.imap.user:
            problems.add("imap.user: an IMAP inbox needs the mailbox's user name")
    if s.inbox.max_message_bytes <= 0:
        problems.add("inbox.max_message_bytes: expected a positive number of bytes")
    _validate_webhooks(s.webhooks, problems)
    for address in s.radian.alert_emails:
        if "@" not in address or any(c.isspace() for c in address):
            problems.add(f"radian.alert_emails: {address!r} is not a mail address")
    _validate_ranges(s, problems)
    _validate_printing(s.issuing, problems)
    _validate_approvals(s.approvals, problems)


# How long the printed texts may be: one line under the name, two at the foot of the page, one subject field.
PRINTED_LIMITS = (("pdf_business_line", 120), ("pdf_footer", 300), ("mail_business_line", 60))


def _validate_printing(i: IssuingSettings, problems: _Problems) -> None:
    """The PDF's and the buyer mail's texts: one line each, within what the page or the subject holds. Whether the
    logo file can be read is `buzon check-config`'s (commands/config.py), as for the certificate."""
    for name, limit in PRINTED_LIMITS:
        value = getattr(i, name)
        if any(c in value for c in "\r\n\t"):
            problems.add(f"issuing.{name}: expected one line of text (no line breaks or tabs)")
        elif len(value) > limit:
            problems.add(f"issuing.{name}: expected at most {limit} characters, got {len(value)}")
    if ";" in i.mail_business_line:
        problems.add("issuing.mail_business_line: ';' separates the subject's fields (dian-facts 4.1); leave it out")
    if i.pdf_logo and Path(i.pdf_logo).suffix.lower() not in (".png", ".jpg", ".jpeg"):
        problems.add(f"issuing.pdf_logo: expected a .png, .jpg or .jpeg file, got {Path(i.pdf_logo).name!r}")


# The events four-eyes may hold: the buyer's claim and express acceptance, RADIAN's registration and endorsements,
# and our payments as debtor.
APPROVABLE_EVENTS = ("031", "032", "033", "036", "037", "038", "039", "045", "051")


def _validate_approvals(a: ApprovalSettings, problems: _Problems) -> None:
    if a.amount_threshold < 0:
        problems.add(f"approvals.amount_threshold: expected pesos, 0 or more, got {a.amount_threshold}")
    for code in a.events:
        if code not in APPROVABLE_EVENTS:
            listed = ", ".join(APPROVABLE_EVENTS)
            problems.add(f"approvals.events: {code!r} is not an event four-eyes can hold ({listed})")
    for nit in a.suppliers:
        if not nit.split("-")[0].strip().isdigit():
            problems.add(f"approvals.suppliers: {nit!r} is not a NIT (digits, optionally -DV)")
    if a.enabled and not a.events:
        problems.add("approvals.events: four-eyes is enabled but lists no event")


def _validate_webhooks(w: WebhookSettings, problems: _Problems) -> None:
    if not w.url:
        return
    scheme, _, rest = w.url.partition("://")
    host = rest.split("/")[0].rsplit("@", 1)[-1].rsplit(":", 1)[0].strip("[]")
    if scheme not in ("http", "https") or not host:
        problems.add(f"webhooks.url: expected an http(s):// URL, got {w.url!r}")
    elif scheme == "http" and not _is_loopback(host):
        problems.add(f"webhooks.url: plain http is only allowed on a loopback host, not {host!r}; use https")
    if len(w.secret) < 16:
        problems.add("webhooks.secret: expected a shared secret of at least 16 characters (write it as env:NAME)")
    if w.timeout <= 0:
        problems.add("webhooks.timeout: expected a positive number of seconds")
    if w.max_attempts < 1:
        problems.add("webhooks.max_attempts: expected at least 1")


WEEK = 7 * 24 * 3600
# Upper bounds: beyond them a value is a typo (or 1e400), not a choice. (key, lowest, highest)
RANGES: tuple[tuple[str, float, float], ...] = (
    ("dian.confirm_every_minutes", 0, 7 * 24 * 60),
    ("dian.connect_timeout", 0.1, 600),
    ("dian.read_timeout", 0.1, 600),
    ("inbox.max_message_bytes", 1, 2**30),
    ("scheduler.poll_interval", 1, WEEK),
    ("scheduler.outbox_interval", 1, WEEK),
    ("scheduler.sync_interval", 1, WEEK),
    ("scheduler.deadline_interval", 1, WEEK),
    ("scheduler.reminder_business_hours", 0, 240),
    ("events.retry_seconds", 1, WEEK),
    ("events.retry_max_seconds", 1, WEEK),
    ("events.sync_max_age_days", 1, 3650),
    ("web.session_hours", 1, 720),
    ("webhooks.timeout", 0.1, 600),
    ("webhooks.max_attempts", 1, 100),
    ("radian.watch_interval", 60, 30 * 24 * 3600),
    ("radian.watch_past_due_days", 0, 3650),
    ("radian.watch_rate_per_second", 0.01, 10_000),
    ("radian.watch_concurrency", 1, 64),
    ("radian.watch_batch", 1, 1_000_000),
    ("issuing.test_set_invoices", 1, 50),
    ("issuing.test_set_credit_notes", 0, 50),
    ("issuing.test_set_debit_notes", 0, 50),
    ("issuing.test_set_poll_seconds", 0.05, 600),
    ("issuing.test_set_max_wait_seconds", 1, 86_400),
    ("issuing.contingency_after_failures", 1, 100),
    ("issuing.contingency_alert_hours", 1, 47),
)


def _validate_ranges(s: Settings, problems: _Problems) -> None:
    """Numbers outside any sensible range (a week of seconds, ten minutes of timeout…) are refused, naming the key."""
    for key, low, high in RANGES:
        if any(p.startswith(f"{key}:") for p in problems.other):
            continue  # already said (a type error, or not positive)
        section, name = key.split(".")
        value = getattr(getattr(s, section), name)
        if not low <= value <= high:
            problems.add(f"{key}: expected a number from {low:g} to {high:g}, got {value:g}")


# The env: secrets each setting needs only in some configurations (any other env: secret is always needed).
SECRET_USED: dict[str, Any] = {
    "imap.password": lambda s: s.inbox.source == "imap" and not s.imap.oauth2_token,
    "imap.oauth2_token": lambda s: s.inbox.source == "imap" and not s.imap.password,
    "smtp.password": lambda s: bool(s.smtp.user),
    "certificate.password": lambda s: bool(s.certificate.pkcs12_path),
    "dian.software_pin": lambda s: s.dian.environment != "simulator",
    "webhooks.secret": lambda s: bool(s.webhooks.url),
}


def _secrets(s: Settings, problems: _Problems) -> None:
    """An env: secret whose variable is not set is a problem only when this configuration uses it (no IMAP password
    with a folder inbox, no certificate password without a certificate)."""
    for key, name in problems.missing.items():
        used = SECRET_USED.get(key)
        if used is None or used(s):
            problems.add(f"{key}: environment variable {name} is not set")


def _absolute(s: Settings, base: Path) -> Settings:
    """Resolve relative paths against the configuration file's folder (or the working directory)."""

    def fix(p: str) -> str:
        return str((base / p).resolve()) if p and not Path(p).is_absolute() else p

    return dataclasses.replace(
        s,
        data_dir=fix(s.data_dir),
        certificate=dataclasses.replace(s.certificate, pkcs12_path=fix(s.certificate.pkcs12_path)),
        dian=dataclasses.replace(s.dian, trust_store=fix(s.dian.trust_store), simulator_dir=fix(s.dian.simulator_dir)),
        inbox=dataclasses.replace(s.inbox, path=fix(s.inbox.path)),
        issuing=dataclasses.replace(s.issuing, pdf_logo=fix(s.issuing.pdf_logo)),
    )


def parse_settings(
    data: Mapping[str, Any], *, base: Path, env: Mapping[str, str] | None = None, source: str = "(inline)"
) -> Settings:
    """Settings from an already-parsed TOML mapping; a ConfigError lists every problem found. Each [[companies]]
    table is another company of the install (buzon/companies.py), kept in ``companies``."""
    if "companies" in data:
        return _with_companies(data, base=base, env=env, source=source)
    problems = _Problems()
    settings = _build(Settings, data, "", os.environ if env is None else env, problems)
    settings = _absolute(dataclasses.replace(settings, loaded_from=source), base)
    _secrets(settings, problems)
    _validate(settings, problems)
    problems.raise_any()
    return settings


def _with_companies(data: Mapping[str, Any], *, base: Path, env: Mapping[str, str] | None, source: str) -> Settings:
    """The first company's settings (the top level) holding the others' in ``companies`` (buzon/companies.py's
    rules); a ConfigError names the company (``companies[2]``) and the key of every problem."""
    top = {k: v for k, v in data.items() if k != "companies"}
    entries = data["companies"]
    if not isinstance(entries, list):
        raise ConfigError("companies: expected [[companies]] tables, one per company")
    first = parse_settings(top, base=base, env=env, source=source)
    others: list[Settings] = []
    problems: list[str] = []
    for number, entry in enumerate(entries, start=2):
        problem = companies.entry_problem(entry)
        if problem is not None:
            problems.append(f"companies[{number}]{problem}")
            continue
        try:
            others.append(parse_settings(companies.company_table(top, entry, first), base=base, env=env,
                                         source=source))  # fmt: skip
        except ConfigError as exc:
            problems.extend(f"companies[{number}].{problem}" for problem in exc.problems)
    problems.extend(companies.clashes((first, *others)))
    if problems:
        raise ConfigError(*problems)
    return dataclasses.replace(first, companies=tuple(others))


def default_settings(*, base: Path | None = None) -> Settings:
    """What runs with no configuration file at all: one machine, demo data, the simulator."""
    return _absolute(Settings(demo=True, loaded_from="(defaults)"), base or Path.cwd())


def load_file(path: Path, *, env: Mapping[str, str] | None = None) -> Settings:
    """Settings from one TOML file; a ConfigError names the key, or the line of a TOML syntax error."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration file ({exc.strerror})") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: the configuration file is not UTF-8 text") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return parse_settings(data, base=path.resolve().parent, env=env, source=str(path))


def find_config(explicit: str | os.PathLike[str] | None, env: Mapping[str, str] | None = None) -> Path | None:
    """The file to read: --config, else $BUZON_CONFIG, else ./buzon.toml, else None (defaults)."""
    env = os.environ if env is None else env
    if explicit:
        return Path(explicit)
    if env.get("BUZON_CONFIG"):
        return Path(env["BUZON_CONFIG"])
    local = Path("buzon.toml")
    return local if local.is_file() else None


def load_settings(explicit: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Settings from wherever they are configured, or the defaults."""
    path = find_config(explicit, env)
    if path is None:
        return default_settings()
    return load_file(path, env=env)
