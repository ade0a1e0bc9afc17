"""`buzon serve`: the web application, and beside it what the configuration asks for — the local DIAN simulator (the
simulator environment), the scheduler's jobs (scheduler.embedded) and, in demo mode, a local SMTP sink whose mail the
web shows under "Correo enviado". With no configuration at all this is the whole product (`make run`)."""

from __future__ import annotations

import dataclasses
import signal
import socket
from contextlib import ExitStack
from typing import Any

import click

from buzon import local_dian
from buzon.commands.options import with_settings
from buzon.config import ConfigError, Settings
from buzon.group import Group, each_company
from buzon.runtime import Runtime


@click.command()
@with_settings
@click.option("--host", default=None, help="Address to listen on (default: web.bind).")
@click.option("--port", type=int, default=None, help="Port to listen on (default: web.bind).")
def serve(settings: Settings, host: str | None, port: int | None) -> None:
    """Serve the web application (for production, run buzon.wsgi:app under gunicorn behind a proxy)."""
    # start-up time: the web stack, the simulator and the scheduler only when serving
    from werkzeug.serving import make_server

    from buzon.webapp import web_app

    host = host or settings.web.host
    port = port or settings.web.port
    checked = Group.from_settings(settings)
    checked.check()  # before anything starts: an unreachable, old or another company's database is one line, exit 2
    with ExitStack() as running:
        running.callback(checked.close)
        settings = _with_local_simulator(settings, running)
        sent_mail = None
        if settings.demo:
            settings, sent_mail = _with_mail_sink(settings, running)
        group = Group([Runtime.from_settings(s, engine=c.engine) for s, c in zip(settings.group, checked, strict=True)])
        app = web_app(group, sent_mail=sent_mail)
        # Our own socket, bound before werkzeug sees it: werkzeug's bind calls sys.exit() when the port is taken.
        try:
            listening = socket.create_server((host, port))
        except OSError as exc:
            raise ConfigError(f"web.bind: cannot listen on {host}:{port} ({exc.strerror})") from exc
        running.callback(listening.close)
        server = make_server(host, port, app, threaded=True, fd=listening.fileno())
        click.echo(f"Buzón at http://{host}:{port}/ (configuration: {settings.loaded_from})")
        if settings.scheduler.embedded:  # after the web listens: its first runs then never delay the first page
            _with_scheduler(group, running)
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            click.echo("stopped")
        finally:
            server.server_close()


def _interrupt(_signum: int, _frame: Any) -> None:
    """SIGTERM ends serving as Ctrl-C does, so the simulator, the mail sink and the scheduler stop cleanly."""
    raise KeyboardInterrupt


def _with_local_simulator(settings: Settings, running: ExitStack) -> Settings:
    """In the simulator environment with no endpoint of its own, the DIAN simulator runs beside the web app (in a
    thread) on dian.simulator_port, or on a free port when that one is taken; the settings then name the port used."""
    if not local_dian.is_local(settings):
        return settings
    wanted = settings.dian.simulator_port
    try:
        server = local_dian.serve(settings, wanted)
    except OSError as exc:
        server = local_dian.serve(settings)
        click.echo(f"DIAN simulator: port {wanted} is taken ({exc.strerror}); using port {server.port} instead",
                   err=True)  # fmt: skip
    running.callback(server.simulator.close)
    running.callback(server.stop)
    click.echo(f"DIAN simulator at {server.url}")
    return each_company(settings, lambda s: dataclasses.replace(s, dian=dataclasses.replace(s.dian,
                                                                                            simulator_port=server.port)))


def _with_mail_sink(settings: Settings, running: ExitStack) -> tuple[Settings, dict[str, Any]]:
    """Demo mode: the mail Buzón sends goes to a local SMTP sink kept under each company's data directory, never out
    (one sink per company, so each company's «Correo enviado» shows its own mail only)."""
    from buzon.mail_sink import FOLDER, MailSink  # start-up time: aiosmtpd only in demo mode

    sinks = {}
    for company in settings.group:
        sink = MailSink(company.data_path / FOLDER).start()
        running.callback(sink.stop)
        sinks[company.key] = sink
        click.echo(f"demo mail: SMTP sink at 127.0.0.1:{sink.port}, shown under «Correo enviado»"
                   + (f" ({company.company.name})" if settings.companies else ""))  # fmt: skip

    def to_sink(s: Settings) -> Settings:
        port = sinks[s.key].port
        return dataclasses.replace(s, smtp=dataclasses.replace(s.smtp, host="127.0.0.1", port=port, tls="none",
                                                               user="", password=""))  # fmt: skip

    return each_company(settings, to_sink), {key: sink.folder for key, sink in sinks.items()}


def _with_scheduler(group: Group, running: ExitStack) -> None:
    """The scheduler's jobs in this process, every company's (each once now, then at its interval), stopped when
    serving ends."""
    from buzon.scheduler import start_all_in_background  # start-up time: APScheduler only with the embedded scheduler

    for rt, scheduler in zip(group, start_all_in_background(list(group)), strict=True):
        running.callback(lambda s=scheduler: s.shutdown(wait=False))
        jobs = scheduler.get_jobs()
        whose = f" for {rt.settings.company.name}" if len(group) > 1 else ""
        click.echo(f"scheduler: {len(jobs)} job(s) running in this process{whose} ({', '.join(j.id for j in jobs)})")
