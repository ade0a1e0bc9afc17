"""A signing certificate's validity: the problem and the 30-day warning, in Bogotá dates (dian.trust)."""

from __future__ import annotations

import datetime as dt

import pytest

from dian.errors import CertificateError
from dian.trust import PasswordError, SigningIdentity, expiry_warning, load_pkcs12, validity_problem
from tests.pki import _name, issue, pki, write_pkcs12

START = dt.datetime(2025, 5, 1, 15, 0, tzinfo=dt.UTC)
# 03:00 UTC on 1 May is still 30 April in Bogotá (UTC-05:00): the date a clerk reads.
END = dt.datetime(2026, 5, 1, 3, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def cert():
    return issue(
        _name("EMPRESA COMPRADORA S.A.S.", serial="900654321"),
        key_label="validity",
        issuer=pki().intermediate,
        not_before=START,
        not_after=END,
    ).cert


def test_valid_inside_its_period_including_both_ends(cert) -> None:
    for at in (START, START + dt.timedelta(days=100), END):
        assert validity_problem(cert, at) is None


def test_expired_names_the_dates_in_bogota(cert) -> None:
    problem = validity_problem(cert, END + dt.timedelta(seconds=1))
    assert problem == (
        "el certificado de firma «EMPRESA COMPRADORA S.A.S.» venció el 2026-04-30 "
        "(vigente del 2025-05-01 al 2026-04-30)"
    )


def test_not_yet_valid_names_the_dates(cert) -> None:
    problem = validity_problem(cert, START - dt.timedelta(minutes=1))
    assert problem is not None
    assert "aún no está vigente" in problem and "rige desde el 2025-05-01" in problem
    assert "(vigente del 2025-05-01 al 2026-04-30)" in problem


def test_a_naive_moment_is_refused(cert) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        validity_problem(cert, dt.datetime(2025, 6, 1))


@pytest.mark.parametrize(
    ("before_end", "expected"),
    [
        (dt.timedelta(days=31), None),
        (dt.timedelta(days=30, seconds=1), None),
        (dt.timedelta(days=30), "quedan 30 días"),
        (dt.timedelta(days=12, hours=5), "quedan 12 días"),
        (dt.timedelta(days=1, hours=2), "queda 1 día"),
        (dt.timedelta(hours=3), "vence en menos de un día"),
    ],
)
def test_expiry_warning_within_30_days(cert, before_end, expected) -> None:
    warning = expiry_warning(cert, END - before_end)
    if expected is None:
        assert warning is None
    else:
        assert warning is not None
        assert expected in warning
        assert "vence el 2026-04-30" in warning and "renuévelo" in warning


def test_expiry_warning_window_is_a_parameter(cert) -> None:
    at = END - dt.timedelta(days=45)
    assert expiry_warning(cert, at) is None
    assert "quedan 45 días" in (expiry_warning(cert, at, days=60) or "")


def test_expiry_warning_of_an_expired_certificate_is_the_problem(cert) -> None:
    at = END + dt.timedelta(days=2)
    assert expiry_warning(cert, at) == validity_problem(cert, at)


def test_signing_identity_check_valid_at(cert) -> None:
    identity = SigningIdentity(key=pki().company.key, certificate=cert)
    identity.check_valid_at(START + dt.timedelta(days=1))
    with pytest.raises(CertificateError, match=r"venció el 2026-04-30 \(vigente del 2025-05-01 al 2026-04-30\)"):
        identity.check_valid_at(END + dt.timedelta(days=1))
    with pytest.raises(CertificateError, match="aún no está vigente"):
        identity.check_valid_at(START - dt.timedelta(days=1))


def test_wrong_password_and_not_a_pkcs12_are_told_apart(tmp_path) -> None:
    path = write_pkcs12(pki().company, tmp_path / "empresa.p12")
    with pytest.raises(PasswordError, match=r"empresa\.p12: la contraseña no es la correcta"):
        load_pkcs12(path, "otra")
    with pytest.raises(PasswordError):
        load_pkcs12(path, None)
    garbage = tmp_path / "firma.p12"
    garbage.write_bytes(b"-----BEGIN CERTIFICATE-----\nno\n")
    with pytest.raises(CertificateError, match=r"firma\.p12: no es un archivo PKCS#12") as info:
        load_pkcs12(garbage, "prueba")
    assert not isinstance(info.value, PasswordError)
