"""`buzon check-config` opens the configured company certificate: the real command in a real process.

A missing or unreadable PKCS#12, a wrong password and a certificate outside its validity fail with one line naming the
key (exit 2); a certificate that expires within 30 days passes with a warning on stderr.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from dian.nit import check_digit
from tests.integration.test_cli import run
from tests.pki import COMPANY_NIT, _name, issue, pki, write_pkcs12

pytestmark = pytest.mark.integration

BOGOTA = dt.timezone(dt.timedelta(hours=-5))


def _day(moment: dt.datetime) -> str:
    return moment.astimezone(BOGOTA).date().isoformat()


def _p12(tmp_path: Path, label: str, *, not_before: dt.datetime, not_after: dt.datetime) -> Path:
    identity = issue(
        _name("EMPRESA COMPRADORA S.A.S.", serial=f"{COMPANY_NIT}-{check_digit(COMPANY_NIT)}"),
        key_label=f"check-config-{label}",
        issuer=pki().intermediate,
        not_before=not_before,
        not_after=not_after,
    )
    return write_pkcs12(identity, tmp_path / f"{label}.p12")


def _check(tmp_path: Path, p12: Path | str, *, secret: str = "prueba"):  # noqa: S107 - the test PKI's password
    """check-config on a file naming ``p12``, its password read from BUZON_CERT_PASSWORD (= ``secret``)."""
    toml = f'[certificate]\npkcs12_path = "{p12}"\npassword = "env:BUZON_CERT_PASSWORD"\n'
    (tmp_path / "buzon.toml").write_text(toml)
    return run(["check-config", "--config", "buzon.toml"], tmp_path, {"BUZON_CERT_PASSWORD": secret})


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def test_a_valid_certificate_is_summarised(tmp_path) -> None:
    end = _now() + dt.timedelta(days=400)
    result = _check(tmp_path, _p12(tmp_path, "ok", not_before=_now() - dt.timedelta(days=1), not_after=end))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert f"certificate: EMPRESA COMPRADORA S.A.S. (NIT {COMPANY_NIT}), valid until {_day(end)}" in result.stdout


def test_a_certificate_expiring_within_30_days_warns_and_passes(tmp_path) -> None:
    end = _now() + dt.timedelta(days=10, hours=2)
    result = _check(tmp_path, _p12(tmp_path, "pronto", not_before=_now() - dt.timedelta(days=300), not_after=end))
    assert result.returncode == 0, result.stderr
    assert "configuration OK" in result.stdout
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("warning: certificate.pkcs12_path: el certificado de firma «EMPRESA COMPRADORA S.A.S.»")
    assert f"vence el {_day(end)} (quedan 10 días" in line


def test_an_expired_certificate_fails_naming_the_dates(tmp_path) -> None:
    start, end = dt.datetime(2023, 1, 10, 15, tzinfo=dt.UTC), _now() - dt.timedelta(days=2)
    result = _check(tmp_path, _p12(tmp_path, "vencido", not_before=start, not_after=end))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"error: certificate.pkcs12_path: el certificado de firma «EMPRESA COMPRADORA S.A.S.» venció el {_day(end)} "
        f"(vigente del {_day(start)} al {_day(end)})"
    ]


def test_a_certificate_not_yet_valid_fails(tmp_path) -> None:
    start = _now() + dt.timedelta(days=5)
    result = _check(tmp_path, _p12(tmp_path, "futuro", not_before=start, not_after=start + dt.timedelta(days=365)))
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: certificate.pkcs12_path: ")
    assert f"aún no está vigente: rige desde el {_day(start)}" in line


def test_a_wrong_password_names_the_password_key(tmp_path) -> None:
    p12 = _p12(tmp_path, "clave", not_before=_now() - dt.timedelta(days=1), not_after=_now() + dt.timedelta(days=400))
    result = _check(tmp_path, p12, secret="otra")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: certificate.password: no se puede abrir el archivo PKCS#12 {p12}: la contraseña no es la correcta"
    ]


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda d: d / "nada.p12", "no se puede leer el archivo PKCS#12 {path}: no existe"),
        (lambda d: d, "no se puede leer el archivo PKCS#12 {path}: es una carpeta, no un archivo"),
        (
            lambda d: _write(d / "firma.p12", b"no soy"),
            "no se puede abrir el archivo PKCS#12 {path}: no es un archivo PKCS#12",
        ),
    ],
    ids=["missing", "directory", "not-pkcs12"],
)
def test_a_missing_or_unreadable_pkcs12_fails_in_one_line(tmp_path, make, problem) -> None:
    folder = tmp_path / "certs"
    folder.mkdir()
    path = make(folder)
    result = _check(tmp_path, path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"error: certificate.pkcs12_path: {problem.format(path=path)}"]


def test_no_certificate_configured_is_not_checked(tmp_path) -> None:
    # The simulator environment issues a sandbox certificate of its own when none is configured.
    result = run(["check-config"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "certificate:" not in result.stdout
    assert result.stderr == ""


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
