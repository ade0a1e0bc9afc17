"""Typed configuration: TOML into frozen dataclasses, every error naming its key.

Where the file comes from: ``--config``, else ``$BUZON_CONFIG``, else ``./buzon.toml``, else the built-in defaults
(one machine: SQLite under ./var, demo data, a local mailbox folder, the DIAN simulator).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import tomllib
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from dian.nit import check_digit

ENV_PREFIX = "env:"
NIT_RE = re.compile(r"^(\d{5,15})-(\d)$")


class ConfigError(Exception):
    """A configuration value is wrong; the message starts with the dotted key (``imap.port: …``)."""


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = ""


@dataclass(frozen=True)
class CompanySettings:
    nit: str = "900123456-8"
    name: str = "Empresa Demo S.A.S."
    reception_email: str = "recepcion@empresa-demo.test"

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
    loaded_from: str = field(default="(defaults)", compare=False)

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


def _convert(value: Any, tp: Any, key: str, env: Mapping[str, str]) -> Any:
    """Check one value against its declared type and return it in that type."""
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
        return tuple(_convert(v, item_type, f"{key}[{i}]", env) for i, v in enumerate(value))
    if origin in (Union, types.UnionType):
        raise TypeError(f"unsupported settings type for {key}")  # pragma: no cover - guards future edits
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a table [{key}], got {_describe(value)}")
        return _build(tp, value, key, env)
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {_describe(value)}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected an integer, got {_describe(value)}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{key}: expected a number, got {_describe(value)}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, got {_describe(value)}")
        if value.startswith(ENV_PREFIX):
            name = value[len(ENV_PREFIX) :]
            if not name:
                raise ConfigError(f"{key}: 'env:' must be followed by the name of an environment variable")
            if name not in env:
                raise ConfigError(f"{key}: environment variable {name} is not set")
            return env[name]
        return value
    raise TypeError(f"unsupported settings type {tp!r} for {key}")  # pragma: no cover


def _build(cls: type, data: Mapping[str, Any], prefix: str, env: Mapping[str, str]) -> Any:
    hints = get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls) if f.init and f.name != "loaded_from"}
    for key in data:
        if key not in names:
            where = f"{prefix}.{key}" if prefix else key
            suggestion = _closest(key, names)
            hint = f" (did you mean '{suggestion}'?)" if suggestion else ""
            raise ConfigError(f"{where}: unknown key{hint}")
    values = {}
    for name in names:
        if name in data:
            values[name] = _convert(data[name], hints[name], f"{prefix}.{name}" if prefix else name, env)
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


def _validate(s: Settings) -> None:
    """Checks across values that types alone cannot express."""
    if not NIT_RE.match(s.company.nit):
        raise ConfigError(
            f"company.nit: expected digits, a dash and the check digit (900123456-8), got {s.company.nit!r}"
        )
    number, dv = s.company.nit.split("-")
    if check_digit(number) != dv:
        expected = check_digit(number)
        raise ConfigError(f"company.nit: check digit {dv} does not match NIT {number} (it should be {expected})")
    for section in ("imap", "smtp"):
        server = getattr(s, section)
        if not 0 < server.port < 65536:
            raise ConfigError(f"{section}.port: expected a port between 1 and 65535, got {server.port}")
        if server.tls == "none" and not _is_loopback(server.host):
            raise ConfigError(
                f"{section}.tls: 'none' (plain text) is only allowed on a loopback host, not {server.host!r}"
            )
    if not 0 < s.dian.simulator_port < 65536:
        raise ConfigError(f"dian.simulator_port: expected a port between 1 and 65535, got {s.dian.simulator_port}")
    if s.dian.environment != "simulator" and s.dian.endpoint and not s.dian.endpoint.startswith("https://"):
        raise ConfigError(f"dian.endpoint: DIAN is only reached over https, got {s.dian.endpoint!r}")
    for fp in s.dian.pinned_dian_certificates:
        if not re.fullmatch(r"[0-9a-fA-F:]{64,95}", fp):
            raise ConfigError(f"dian.pinned_dian_certificates: {fp!r} is not a SHA-256 fingerprint in hex")
    host, _, port = s.web.bind.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"web.bind: expected host:port such as 127.0.0.1:8000, got {s.web.bind!r}")
    if not 0 <= s.web.proxy_hops <= 5:
        raise ConfigError(f"web.proxy_hops: expected 0 (no proxy) to 5, got {s.web.proxy_hops}")
    for name in ("poll_interval", "outbox_interval", "sync_interval", "deadline_interval"):
        if getattr(s.scheduler, name) <= 0:
            raise ConfigError(f"scheduler.{name}: expected a positive number of seconds")
    if s.scheduler.auto_acknowledge != "off" and not s.events.has_person:
        raise ConfigError(
            "events.person_id: automatic acknowledgement (scheduler.auto_acknowledge) signs 030 in the name of a "
            "person; set events.person_id, person_first_name and person_family_name"
        )
    if s.events.person_id_type and not s.events.person_id_type.isdigit():
        raise ConfigError(f"events.person_id_type: expected a DIAN identification type (13, 22…), got "
                          f"{s.events.person_id_type!r}")  # fmt: skip
    if s.events.retry_seconds <= 0 or s.events.retry_max_seconds < s.events.retry_seconds:
        raise ConfigError("events.retry_seconds: expected a positive number no larger than events.retry_max_seconds")
    if s.inbox.max_message_bytes <= 0:
        raise ConfigError("inbox.max_message_bytes: expected a positive number of bytes")
    _validate_webhooks(s.webhooks)


def _validate_webhooks(w: WebhookSettings) -> None:
    if not w.url:
        return
    scheme, _, rest = w.url.partition("://")
    host = rest.split("/")[0].rsplit("@", 1)[-1].rsplit(":", 1)[0].strip("[]")
    if scheme not in ("http", "https") or not host:
        raise ConfigError(f"webhooks.url: expected an http(s):// URL, got {w.url!r}")
    if scheme == "http" and not _is_loopback(host):
        raise ConfigError(f"webhooks.url: plain http is only allowed on a loopback host, not {host!r}; use https")
    if len(w.secret) < 16:
        raise ConfigError("webhooks.secret: expected a shared secret of at least 16 characters (write it as env:NAME)")
    if w.timeout <= 0:
        raise ConfigError("webhooks.timeout: expected a positive number of seconds")
    if w.max_attempts < 1:
        raise ConfigError("webhooks.max_attempts: expected at least 1")


def _absolute(s: Settings, base: Path) -> Settings:
    """Resolve relative paths against the configuration file's folder (or the working directory)."""

    def fix(p: str) -> str:
        return str((base / p).resolve()) if p and not Path(p).is_absolute() else p

    return dataclasses.replace(
        s,
        data_dir=fix(s.data_dir),
        certificate=dataclasses.replace(s.certificate, pkcs12_path=fix(s.certificate.pkcs12_path)),
        dian=dataclasses.replace(s.dian, trust_store=fix(s.dian.trust_store)),
        inbox=dataclasses.replace(s.inbox, path=fix(s.inbox.path)),
    )


def parse_settings(
    data: Mapping[str, Any], *, base: Path, env: Mapping[str, str] | None = None, source: str = "(inline)"
) -> Settings:
    """Settings from an already-parsed TOML mapping."""
    settings = _build(Settings, data, "", os.environ if env is None else env)
    settings = _absolute(dataclasses.replace(settings, loaded_from=source), base)
    _validate(settings)
    return settings


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
