"""`buzon serve`: the web application (with the local DIAN simulator beside it in the simulator environment)."""

from __future__ import annotations

from typing import Any

import click

from buzon import local_dian
from buzon.commands.options import with_settings
from buzon.config import Settings
from buzon.runtime import Runtime


@click.command()
@with_settings
@click.option("--host", default=None, help="Address to listen on (default: web.bind).")
@click.option("--port", type=int, default=None, help="Port to listen on (default: web.bind).")
def serve(settings: Settings, host: str | None, port: int | None) -> None:
    """Serve the web application (for production, run buzon.wsgi:app under gunicorn behind a proxy)."""
    from werkzeug.serving import run_simple  # start-up time: the web stack only when serving

    from buzon.webapp import web_app

    runtime = Runtime.from_settings(settings)
    runtime.check_schema()
    app = web_app(runtime)
    host = host or settings.web.host
    port = port or settings.web.port
    simulator = _local_simulator(settings)
    if simulator is not None:
        click.echo(f"DIAN simulator at {simulator.url}")
    click.echo(f"Buzón at http://{host}:{port}/ (configuration: {settings.loaded_from})")
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        if simulator is not None:
            simulator.stop()


def _local_simulator(settings: Settings) -> Any:
    """In the simulator environment with no endpoint of its own, the DIAN simulator runs beside the web app (in a
    thread) so that events sent from the demo are registered; None otherwise or when its port is taken."""
    if not local_dian.is_local(settings):
        return None
    from dian.simulator import Simulator, SimulatorServer

    try:
        return SimulatorServer(Simulator(local_dian.data_dir(settings)), port=settings.dian.simulator_port).start()
    except OSError as exc:  # already running (e.g. `buzon dian-sim` in another terminal): use that one
        click.echo(f"DIAN simulator not started here ({exc.strerror}); using the one on port "
                   f"{settings.dian.simulator_port}", err=True)  # fmt: skip
        return None
