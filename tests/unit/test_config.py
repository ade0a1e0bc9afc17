"""Configuration: types, unknown keys, env: secrets, validation across values, where the file comes from."""

from __future__ import annotations

from pathlib import Path

import pytest

from buzon.config import ConfigError, default_settings, find_config, load_file, load_settings, parse_settings

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_ENV = {
    "BUZON_CERT_PASSWORD": "cert-pass",
    "BUZON_DIAN_PIN": "12345",
    "BUZON_IMAP_PASSWORD": "imap-pass",
    "BUZON_SMTP_PASSWORD": "smtp-pass",
    "BUZON_SECRET_KEY": "web-secret",
}


def parse(data: dict, env: dict | None = None):
    return parse_settings(data, base=Path("/srv/buzon"), env=env or {})


def error_of(data: dict, env: dict | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        parse(data, env)
    return str(info.value)


def test_example_file_sets_every_setting_and_resolves_secrets():
    settings = load_file(REPO / "config.example.toml", env=EXAMPLE_ENV)
    assert settings.imap.password == "imap-pass"
    assert settings.certificate.password == "cert-pass"
    assert settings.dian.software_pin == "12345"
    assert settings.web.secret_key == "web-secret"
    assert settings.imap.port == 993 and settings.imap.tls == "implicit"
    assert settings.company.nit_number == "900123456" and settings.company.dv == "8"
    # Relative paths are resolved against the file's folder.
    assert settings.data_dir == str(REPO / "var")


def test_example_file_documents_every_key():
    text = (REPO / "config.example.toml").read_text()
    settings = load_file(REPO / "config.example.toml", env=EXAMPLE_ENV)
    import dataclasses

    for section in dataclasses.fields(settings):
        value = getattr(settings, section.name)
        if dataclasses.is_dataclass(value):
            assert f"[{section.name}]" in text
            for f in dataclasses.fields(value):
                assert f"\n{f.name} = " in text, f"{section.name}.{f.name} is not in config.example.toml"


def test_secrets_are_not_shown_in_repr():
    settings = load_file(REPO / "config.example.toml", env=EXAMPLE_ENV)
    assert "imap-pass" not in repr(settings)
    assert "web-secret" not in repr(settings)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"imap": {"port": "abc"}}, "imap.port: expected an integer, got 'abc'"),
        ({"imap": {"port": True}}, "imap.port: expected an integer, got True"),
        ({"imap": {"prot": 993}}, "imap.prot: unknown key (did you mean 'port'?)"),
        ({"imapp": {}}, "imapp: unknown key (did you mean 'imap'?)"),
        ({"demo": "yes"}, "demo: expected true or false, got 'yes'"),
        ({"imap": {"tls": "ssl"}}, "imap.tls: expected one of 'implicit', 'starttls', 'none', got 'ssl'"),
        ({"imap": 5}, "imap: expected a table [imap], got 5"),
        ({"scheduler": {"auto_acknowledge_suppliers": "900"}}, "scheduler.auto_acknowledge_suppliers: expected a list"),
        ({"scheduler": {"auto_acknowledge_suppliers": [900]}}, "scheduler.auto_acknowledge_suppliers[0]: expected a"),
        ({"dian": {"read_timeout": "60"}}, "dian.read_timeout: expected a number, got '60'"),
        ({"company": {"nit": "900123456"}}, "company.nit: expected digits, a dash and the check digit"),
        (
            {"company": {"nit": "900123456-1"}},
            "company.nit: check digit 1 does not match NIT 900123456 (it should be 8)",
        ),
        ({"imap": {"tls": "none", "host": "mail.example.com"}}, "imap.tls: 'none' (plain text) is only allowed"),
        ({"smtp": {"port": 70000}}, "smtp.port: expected a port between 1 and 65535, got 70000"),
        ({"web": {"bind": "8000"}}, "web.bind: expected host:port"),
        ({"scheduler": {"poll_interval": 0}}, "scheduler.poll_interval: expected a positive number of seconds"),
        ({"dian": {"pinned_dian_certificates": ["abc"]}}, "dian.pinned_dian_certificates: 'abc' is not a SHA-256"),
        ({"dian": {"environment": "produccion", "endpoint": "http://x"}}, "dian.endpoint: DIAN is only reached over"),
    ],
)
def test_errors_name_the_key(data, message):
    assert error_of(data).startswith(message)


def test_env_secret_missing_names_key_and_variable():
    imap = {"inbox": {"source": "imap"}}
    assert error_of({**imap, "imap": {"password": "env:NOPE"}}) == "imap.password: environment variable NOPE is not set"
    assert error_of({"imap": {"password": "env:"}}).startswith("imap.password: 'env:' must be followed")


def test_only_the_secrets_the_configuration_uses_are_asked_for():
    unused = {
        "imap": {"password": "env:NO_IMAP"},  # a folder inbox
        "certificate": {"password": "env:NO_CERT"},  # no certificate file
        "dian": {"software_pin": "env:NO_PIN"},  # the simulator
        "smtp": {"password": "env:NO_SMTP"},  # no SMTP user
        "webhooks": {"secret": "env:NO_HOOK"},  # no webhook URL
    }
    settings = parse(unused)
    assert settings.imap.password == settings.certificate.password == settings.dian.software_pin == ""
    used = {
        "inbox": {"source": "imap"},
        "imap": {"user": "recepcion", "password": "env:NO_IMAP"},
        "certificate": {"pkcs12_path": "f.p12", "password": "env:NO_CERT"},
        "dian": {"environment": "produccion", "software_pin": "env:NO_PIN"},
        "smtp": {"user": "u", "password": "env:NO_SMTP"},
    }
    with pytest.raises(ConfigError) as info:
        parse(used)
    assert info.value.problems == (
        "certificate.password: environment variable NO_CERT is not set",
        "dian.software_pin: environment variable NO_PIN is not set",
        "imap.password: environment variable NO_IMAP is not set",
        "smtp.password: environment variable NO_SMTP is not set",
    )


def test_an_imap_inbox_needs_a_way_to_log_in():
    assert error_of({"inbox": {"source": "imap"}, "imap": {"user": "r", "password": ""}}) == (
        "imap.password: an IMAP inbox needs imap.password or imap.oauth2_token to log in"
    )
    assert parse({"inbox": {"source": "imap"}, "imap": {"user": "r", "oauth2_token": "t"}}).imap.oauth2_token == "t"


def test_every_problem_is_listed_unknown_keys_first_in_a_stable_order():
    data = {
        "web": {"secret_key": "env:NO_KEY", "bindd": "x"},
        "dian": {"read_timeout": 1e400, "connect_timeout": float("nan")},
        "company": {"nit": "900123456-1"},
        "scheduler": {"poll_interval": 10**30, "outbox_interval": 10**9},
        "imapp": {},
    }
    with pytest.raises(ConfigError) as info:
        parse(data)
    expected = (
        "imapp: unknown key (did you mean 'imap'?)",
        "web.bindd: unknown key (did you mean 'bind'?)",
        "dian.connect_timeout: expected a finite number, got nan",
        "dian.read_timeout: expected a finite number, got inf",
        "scheduler.poll_interval: 1000000000000000000000000000000 is out of range",
        "web.secret_key: environment variable NO_KEY is not set",
        "company.nit: check digit 1 does not match NIT 900123456 (it should be 8)",
        "scheduler.outbox_interval: expected a number from 1 to 604800, got 1e+09",
    )
    assert info.value.problems == expected
    assert str(info.value) == expected[0]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"dian": {"read_timeout": 0}}, "dian.read_timeout: expected a number from 0.1 to 600, got 0"),
        ({"web": {"session_hours": 0}}, "web.session_hours: expected a number from 1 to 720, got 0"),
        ({"inbox": {"max_message_bytes": 2**40}}, "inbox.max_message_bytes: expected a number from 1 to"),
        ({"webhooks": {"max_attempts": 1000}}, "webhooks.max_attempts: expected a number from 1 to 100, got 1000"),
    ],
)
def test_numbers_out_of_range_are_refused(data, message):
    assert error_of(data).startswith(message)


def test_plain_imap_allowed_on_loopback():
    settings = parse({"imap": {"tls": "none", "host": "127.0.0.1", "port": 1143}})
    assert settings.imap.tls == "none"


def test_defaults_without_a_file_run_on_one_machine(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BUZON_CONFIG", raising=False)
    settings = load_settings(None, env={})
    assert settings.demo is True
    assert settings.dian.environment == "simulator"
    assert settings.inbox.source == "folder"
    assert settings.database_url == f"sqlite:///{tmp_path / 'var' / 'buzon.sqlite3'}"
    assert settings == default_settings(base=tmp_path)


def test_a_file_without_demo_key_is_not_demo():
    assert parse({}).demo is False


def test_where_the_file_comes_from(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert find_config(None, env={}) is None
    (tmp_path / "buzon.toml").write_text("")
    assert find_config(None, env={}) == Path("buzon.toml")
    assert find_config(None, env={"BUZON_CONFIG": "/etc/b.toml"}) == Path("/etc/b.toml")
    assert find_config("x.toml", env={"BUZON_CONFIG": "/etc/b.toml"}) == Path("x.toml")


def test_syntax_error_and_missing_file_are_config_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[imap\nport=1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_file(bad)
    with pytest.raises(ConfigError, match="cannot read the configuration file"):
        load_file(tmp_path / "absent.toml")
