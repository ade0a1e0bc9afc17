"""The `buzon` command: one group assembled from the commands of buzon/commands/, by area."""

from __future__ import annotations

import click

from buzon.commands.approvals import approvals_group
from buzon.commands.archive import archive
from buzon.commands.audit import audit_group
from buzon.commands.backup import backup, restore
from buzon.commands.companies import companies
from buzon.commands.config import check_config
from buzon.commands.contingency import contingency
from buzon.commands.dian_sim import dian_sim
from buzon.commands.errors import Group
from buzon.commands.events import event
from buzon.commands.habilitacion import habilitacion
from buzon.commands.inbox import import_, poll
from buzon.commands.init import init
from buzon.commands.issue import issue, ranges
from buzon.commands.jobs import jobs_group, scheduler
from buzon.commands.serve import serve
from buzon.commands.support import soporte
from buzon.commands.title import title
from buzon.commands.users import token, user
from buzon.commands.verify import verify

__all__ = ["main"]


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="buzon")
def main() -> None:
    """Buzón: receive supplier e-invoices, verify them, and answer them with DIAN events."""


for command in (check_config, init, serve, scheduler, poll, import_, verify, dian_sim, user, token, event, jobs_group,
                title, issue, ranges, habilitacion, contingency, audit_group):  # fmt: skip
    main.add_command(command)
for command in (backup, restore):
    main.add_command(command)
main.add_command(archive)
main.add_command(soporte)
main.add_command(approvals_group)
main.add_command(companies)

if __name__ == "__main__":  # pragma: no cover
    main()
