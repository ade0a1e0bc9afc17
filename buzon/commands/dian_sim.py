"""``buzon dian-sim``: run the local DIAN simulator (issue 4).

The simulator (zeep, werkzeug) is imported inside the command (start-up time: the other commands never load it).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command("dian-sim")
@click.option("--port", type=int, default=8090, show_default=True, help="Port to listen on (loopback).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("var/dian-sim"),
    show_default=True,
    help="Data directory: SQLite state, the simulator CA and DIAN certificate, trust/ folder.",
)
@click.option(
    "--seed",
    "seed_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="TOML or JSON seed: software and PINs, numbering ranges, exchange e-mails, acquirers.",
)
@click.option(
    "--latency-ms",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Delay every SOAP answer by this many milliseconds (DIAN's network and processing time, for benchmarks).",
)
def dian_sim(port: int, host: str, data_dir: Path, seed_path: Path | None, latency_ms: float) -> None:
    """Run the DIAN simulator: WcfDianCustomerServices over SOAP 1.2 with DIAN's validation and event rules."""
    from dian.simulator import Simulator, SimulatorServer

    simulator = Simulator(data_dir)
    if seed_path is not None:
        try:
            simulator.seed_file(seed_path)
        except (ValueError, KeyError, TypeError) as exc:
            click.echo(f"error: seed {seed_path}: {exc}", err=True)
            sys.exit(2)
    server = SimulatorServer(simulator, host=host, port=port, latency=latency_ms / 1000)
    click.echo(f"DIAN simulator at {server.url} (WSDL: {server.url}?wsdl)")
    click.echo(f"  data:  {data_dir}")
    click.echo(f"  trust: add {simulator.ca_certificate_path} to dian.trust_store to accept its answers")
    click.echo(f"  admin: {server.base_url}/_sim/faults, /_sim/seed, /_sim/health")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        simulator.close()
