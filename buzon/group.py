"""The install's companies as the shell runs them: one Runtime per company (buzon/companies.py), the first first.

Each Runtime is the company's own: its database, blob files, mailbox, certificate, DIAN software and numbering. What
spans companies is only this list: the web app picks the request's company from it (web/tenant.py), the scheduler
runs every company's jobs, and intake routes a mail addressed to another of our companies to that company
(inbox/routing.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from buzon.config import Settings
from buzon.runtime import Runtime

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


def each_company(settings: Settings, change: Callable[[Settings], Settings]) -> Settings:
    """The settings with ``change`` applied to every company's (e.g. the local simulator's port, the demo's sink)."""
    return dataclasses.replace(change(settings), companies=tuple(change(s) for s in settings.companies))


class Group:
    """Every company's Runtime, keyed by the company's NIT without its check digit."""

    def __init__(self, runtimes: list[Runtime]) -> None:
        if not runtimes:
            raise ValueError("a group has at least one company")
        self.runtimes = {rt.settings.key: rt for rt in runtimes}
        for runtime in runtimes:
            runtime.peers = self.runtimes

    @classmethod
    def from_settings(cls, settings: Settings, *, engine: Engine | None = None) -> Group:
        """The runtimes of every company of these settings (``engine``: the first company's, already made)."""
        first = Runtime.from_settings(settings, engine=engine)
        return cls([first, *(Runtime.from_settings(s) for s in settings.companies)])

    @property
    def first(self) -> Runtime:
        return next(iter(self.runtimes.values()))

    def __iter__(self) -> Iterator[Runtime]:
        return iter(self.runtimes.values())

    def __len__(self) -> int:
        return len(self.runtimes)

    def check(self) -> None:
        """Every company's database at the current schema and its own, and its certificate readable (ConfigError)."""
        for runtime in self:
            runtime.check_schema()
            runtime.check_certificate()

    def close(self) -> None:
        for runtime in self:
            runtime.close()
