"""`buzon check-config`: load the configuration and the company certificate, and say what was found."""

from __future__ import annotations

import datetime as dt
import sys

import click

from buzon import local_dian
from buzon.commands.errors import fail
from buzon.commands.options import config_option
from buzon.config import ConfigError, Settings, find_config, load_settings
from buzon.runtime import redact


@click.command("check-config")
@config_option
def check_config(config_path: str | None) -> None:
    """Load the configuration and report every problem, one line each naming its key (exit 2), or a summary.

    Unknown keys come first, then the rest in the order of the settings. A configured company certificate is opened
    too: a missing or unreadable PKCS#12, a wrong password or a certificate outside its validity fail; one that
    expires within 30 days is a warning on stderr. The printed invoice's logo (issuing.pdf_logo) is opened as the PDF
    will open it: a missing, unreadable or non-image file fails naming the key.
    """
    path = find_config(config_path)
    try:
        settings = load_settings(config_path)
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        sys.exit(2)
    certificate, warning = _check_certificate(settings)
    logo = _check_logo(settings)
    click.echo(f"configuration OK: {path if path else 'built-in defaults (no file)'}")
    click.echo(f"  company:  {settings.company.name} (NIT {settings.company.nit})")
    click.echo(f"  database: {redact(settings.database_url)}")
    click.echo(f"  mailbox:  {settings.inbox.source}")
    dian = settings.dian.environment
    if local_dian.is_local(settings):
        dian += f" (local simulator on port {settings.dian.simulator_port}, started by `buzon serve`)"
    click.echo(f"  DIAN:     {dian}")
    if certificate:
        click.echo(f"  certificate: {certificate}")
    click.echo(f"  web:      http://{settings.web.bind} (`buzon serve --port` overrides the port)")
    click.echo(f"  jobs:     {'inside `buzon serve` too' if settings.scheduler.embedded else '`buzon scheduler`'}")
    if logo:
        click.echo(f"  PDF logo: {logo}")
    if settings.demo:
        click.echo("  demo mode: on")
    if warning:
        click.echo(f"warning: {warning}", err=True)


def _check_certificate(settings: Settings) -> tuple[str | None, str | None]:
    """Open the configured company certificate (exit 2 naming the key on any problem): its summary and its 30-day
    warning. Nothing without certificate.pkcs12_path (the simulator then issues a sandbox certificate of its own)."""
    if not settings.certificate.pkcs12_path:
        return None, None
    # start-up time: the certificate machinery only when a certificate is configured
    from dian.calendar import bogota_date
    from dian.errors import CertificateError
    from dian.trust import PasswordError, common_name, expiry_warning, load_pkcs12, validity_problem

    try:
        identity = load_pkcs12(settings.certificate.pkcs12_path, settings.certificate.password)
    except PasswordError as exc:
        fail(f"certificate.password: {exc}")
    except CertificateError as exc:
        fail(f"certificate.pkcs12_path: {exc}")
    cert, now = identity.certificate, dt.datetime.now(dt.UTC)
    problem = validity_problem(cert, now)
    if problem:
        fail(f"certificate.pkcs12_path: {problem}")
    warning = expiry_warning(cert, now)
    until = bogota_date(cert.not_valid_after_utc)
    summary = f"{common_name(cert.subject)} (NIT {identity.nit or '?'}), valid until {until}"
    return summary, f"certificate.pkcs12_path: {warning}" if warning else None


def _check_logo(settings: Settings) -> str | None:
    """Open issuing.pdf_logo as the PDF does (exit 2 naming the key when it cannot be): its summary, or None."""
    path = settings.issuing.pdf_logo
    if not path:
        return None
    from pathlib import Path

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        fail(f"issuing.pdf_logo: cannot read {path} ({exc.strerror or exc})")
    if not (data.startswith(b"\x89PNG\r\n\x1a\n") or data.startswith(b"\xff\xd8\xff")):
        fail(f"issuing.pdf_logo: {path} is not a PNG or JPEG image")
    from issuing.pdf_layout import image_reader  # start-up time: reportlab only when a logo is configured

    try:
        width, height = image_reader(data).getSize()
    except Exception as exc:  # reportlab/PIL raise many kinds on a damaged image
        fail(f"issuing.pdf_logo: {path} cannot be decoded as an image ({exc})")
    if width < 1 or height < 1:
        fail(f"issuing.pdf_logo: {path} has no pixels")
    return f"{path} ({width}x{height} px, {len(data) / 1024:.0f} KB)"
