"""The company certificate is opened once per content of its file: events contexts share one load, and a certificate
put in place of the old one (a renewal) signs from the next context on."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import os

import pytest
from cryptography.hazmat.primitives import serialization
from lxml import etree

from buzon.config import CertificateSettings, ConfigError, default_settings
from buzon.demo_titles import _invoice
from buzon.runtime import Runtime
from dian.nit import check_digit
from store.db import migrate
from tests.pki import COMPANY_NIT, PASSWORD, _name, issue, pki, write_pkcs12

DS = "http://www.w3.org/2000/09/xmldsig#"


def _runtime(tmp_path, p12) -> Runtime:
    settings = default_settings(base=tmp_path)
    settings = dataclasses.replace(
        settings,
        certificate=CertificateSettings(pkcs12_path=str(p12), password=PASSWORD.decode()),
        dian=dataclasses.replace(settings.dian, environment="habilitacion"),  # no simulator: only the certificate
    )
    return Runtime.from_settings(settings)


def _signer(ctx) -> bytes:
    """The DER certificate in the ds:Signature of an invoice signed with this context's identity."""
    signed = _invoice(ctx.company, ctx.software, ctx.identity, dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
    text = etree.fromstring(signed).findtext(f".//{{{DS}}}X509Certificate")
    assert text
    return base64.b64decode("".join(text.split()))


def test_contexts_share_one_load_and_a_replaced_certificate_signs_from_the_next_context(tmp_path):
    old, p12 = pki().company, tmp_path / "empresa.p12"
    write_pkcs12(old, p12)
    runtime = _runtime(tmp_path, p12)
    first, second = runtime.event_context(), runtime.event_context()
    assert first.identity is second.identity
    assert runtime._certificates.loads == 1
    assert _signer(second) == old.cert.public_bytes(serialization.Encoding.DER)

    # The renewal: a new certificate for the same NIT, written to a temporary file and moved over the old one.
    new = issue(_name("EMPRESA COMPRADORA S.A.S. (renovado)", serial=f"{COMPANY_NIT}-{check_digit(COMPANY_NIT)}"),
                key_label="company-renewed", issuer=pki().intermediate)  # fmt: skip
    os.replace(write_pkcs12(new, tmp_path / "nuevo.p12"), p12)
    third = runtime.event_context()
    assert runtime._certificates.loads == 2
    assert _signer(third) == new.cert.public_bytes(serialization.Encoding.DER)
    assert runtime.dian_client().identity is third.identity  # the DIAN client signs with the same one

    # Overwritten in place with the old one again (same inode, maybe the same size and time): still noticed.
    p12.write_bytes(write_pkcs12(old, tmp_path / "viejo.p12").read_bytes())
    assert _signer(runtime.event_context()) == old.cert.public_bytes(serialization.Encoding.DER)
    assert runtime._certificates.loads == 3


def test_an_unreadable_certificate_is_still_a_config_error_after_a_good_load(tmp_path):
    p12 = write_pkcs12(pki().company, tmp_path / "empresa.p12")
    runtime = _runtime(tmp_path, p12)
    runtime.company_identity()
    p12.write_bytes(b"no es un PKCS#12")
    with pytest.raises(ConfigError, match=r"certificate\.pkcs12_path: .*no es un archivo PKCS#12"):
        runtime.company_identity()
    p12.unlink()
    with pytest.raises(ConfigError, match=r"certificate\.pkcs12_path: no se puede leer"):
        runtime.company_identity()


def test_the_shared_context_and_client_of_the_jobs_follow_a_renewed_certificate(tmp_path):
    old, p12 = pki().company, tmp_path / "empresa.p12"
    write_pkcs12(old, p12)
    runtime = _runtime(tmp_path, p12)
    migrate(runtime.engine)  # the shared context reads the DIAN certificates learned so far
    try:
        ctx, client = runtime.ctx, runtime.client
        assert runtime.ctx is ctx and runtime.client is client  # shared while the file stays the same
        assert client.identity is ctx.identity
        new = issue(_name("EMPRESA COMPRADORA S.A.S. (renovado)", serial=f"{COMPANY_NIT}-{check_digit(COMPANY_NIT)}"),
                    key_label="company-renewed", issuer=pki().intermediate)  # fmt: skip
        os.replace(write_pkcs12(new, tmp_path / "nuevo.p12"), p12)
        renewed = runtime.ctx
        assert renewed is not ctx and _signer(renewed) == new.cert.public_bytes(serialization.Encoding.DER)
        assert runtime.client is not client and runtime.client.identity is renewed.identity
        assert runtime._certificates.loads == 2
    finally:
        runtime.close()
