"""Where intake's statements go: a connection of the sessions' engine (Core, not the ORM: a message is a handful of
rows, and the ORM's unit of work cost more than the SQL itself), or a session standing for one (``SessionTx``)."""

from __future__ import annotations

from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

Params = dict[str, Any] | list[dict[str, Any]] | None


class Tx(Protocol):
    """A connection, or a session standing for one: statements, commit, rollback."""

    def execute(self, statement: sa.Executable, parameters: Params = None, /) -> sa.CursorResult[Any]:
        """Run one statement in the current transaction (begun when needed)."""

    def commit(self) -> None:
        """Commit the current transaction."""

    def rollback(self) -> None:
        """Roll the current transaction back."""


class SessionTx:
    """A session as a Tx (its commits may be savepoints of an outer transaction)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def execute(self, statement: sa.Executable, parameters: Params = None, /) -> sa.CursorResult[Any]:
        return self.session.connection().execute(statement, parameters)

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()
