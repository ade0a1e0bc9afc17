"""One smoke test per real service: each proves the service the later tests rely on actually works here."""

from __future__ import annotations

import smtplib
import subprocess
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
import sqlalchemy as sa
from imapclient import IMAPClient

pytestmark = pytest.mark.integration


def test_postgresql_fresh_database_answers(postgresql_engine):
    with postgresql_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT current_database()")).scalar().startswith("buzon_test_")


def test_imap_append_then_fetch(dovecot):
    message = EmailMessage()
    message["From"] = "proveedor@example.com"
    message["To"] = dovecot.user
    message["Subject"] = "900000001;Proveedor S.A.S.;FE123;01;Proveedor"
    message.set_content("Factura adjunta")
    with IMAPClient(dovecot.host, port=dovecot.port, ssl=False) as client:
        client.login(dovecot.user, dovecot.password)
        client.append("INBOX", message.as_bytes())
        client.select_folder("INBOX")
        uids = client.search(["SUBJECT", "FE123"])
        assert len(uids) == 1
        fetched = client.fetch(uids, ["RFC822", "FLAGS"])[uids[0]]
        assert b"Factura adjunta" in fetched[b"RFC822"]
        assert b"IDLE" in client.capabilities()


def test_smtp_send_then_capture(smtp_server):
    message = EmailMessage()
    message["From"] = "recepcion@empresa-demo.test"
    message["To"] = "facturacion@proveedor.test"
    message["Subject"] = "Evento;FE123;900123456;Empresa Demo S.A.S.;AR1;030"
    message.set_content("Acuse de recibo")
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=10) as smtp:
        smtp.send_message(message)
    (sender, recipients, captured) = smtp_server.handler.wait_for(1)[0]
    assert sender == "recepcion@empresa-demo.test"
    assert recipients == ["facturacion@proveedor.test"]
    assert captured["Subject"].startswith("Evento;FE123")


def test_xmlsec1_verifies_a_signature_and_refuses_a_tampered_one(xmlsec1, tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID
    from lxml import etree
    from signxml import XMLSigner

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "smoke")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    signed = XMLSigner().sign(etree.fromstring(b"<doc><amount>100.00</amount></doc>"), key=key, cert=[cert])
    good = tmp_path / "good.xml"
    good.write_bytes(etree.tostring(signed))
    pem = tmp_path / "cert.pem"
    pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    ok = subprocess.run([xmlsec1, "--verify", "--pubkey-cert-pem", str(pem), str(good)], capture_output=True)
    assert ok.returncode == 0, ok.stderr.decode()
    bad = tmp_path / "bad.xml"
    bad.write_bytes(good.read_bytes().replace(b"100.00", b"999.00"))
    refused = subprocess.run([xmlsec1, "--verify", "--pubkey-cert-pem", str(pem), str(bad)], capture_output=True)
    assert refused.returncode != 0
