"""`buzon backup PATH` and `buzon restore PATH`: the database and the blobs in one archive (store/backup.py,
store/restore.py)."""

from __future__ import annotations

from pathlib import Path

import click

from buzon.commands.errors import fail
from buzon.commands.options import cli_actor, current_runtime, with_settings
from buzon.config import Settings
from buzon.runtime import Runtime, redact


@click.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_settings
def backup(settings: Settings, path: Path) -> None:
    """Write every table and blob to PATH (a new file), consistently, while Buzón keeps running."""
    from store.backup import BackupError
    from store.backup import backup as take  # start-up time: only this command needs it

    with current_runtime(settings) as runtime:
        try:
            summary = take(runtime.engine, settings.blob_dir, path, actor=cli_actor())
        except BackupError as exc:
            fail(str(exc), code=1)
        except OSError as exc:
            fail(f"cannot write {path}: {exc.strerror or exc}", code=1)
    click.echo(summary.line("backup written to"))


@click.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_settings
def restore(settings: Settings, path: Path) -> None:
    """Put the backup at PATH into an empty database and data folder (anything else is refused, exit 2)."""
    from store.backup import BackupError, TargetError
    from store.restore import restore as put_back  # start-up time: only this command needs it

    runtime = Runtime.from_settings(settings)
    try:
        runtime.revision()  # a database that cannot be reached is a ConfigError: one line naming it
        summary = put_back(runtime.engine, settings.blob_dir, path, actor=cli_actor())
    except TargetError as exc:  # the target is the problem: fix it (or name another), exit 2
        fail(f"{exc} (database {redact(settings.database_url)}, data folder {settings.data_path})", code=2)
    except BackupError as exc:
        fail(f"{exc} (database {redact(settings.database_url)}, data folder {settings.data_path})", code=1)
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror or exc}", code=1)
    finally:
        runtime.close()
    click.echo(summary.line("restored"))
    for note in summary.notes:
        click.echo(note)
