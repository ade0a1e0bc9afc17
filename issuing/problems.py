"""What is wrong with a payload: one Spanish sentence per field, addressed by a JSON pointer (RFC 6901)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["PayloadError", "Problem", "Problems", "pointer"]


@dataclass(frozen=True)
class Problem:
    """One refusal: ``pointer`` names the field ("/lines/2/taxes/0/rate"), ``message`` says what is wrong."""

    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        """The shape the API answers with."""
        return {"field": self.pointer or "/", "message": self.message}


def pointer(*parts: str | int) -> str:
    """A JSON pointer from its steps, escaping "~" and "/" as RFC 6901 says."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


class Problems:
    """Collects every problem of a payload so the caller hears all of them at once, in the order found."""

    def __init__(self) -> None:
        self._items: list[Problem] = []

    def add(self, where: str, message: str) -> None:
        """Record one problem at ``where``."""
        self._items.append(Problem(where, message))

    def extend(self, problems: Iterable[Problem]) -> None:
        """Record problems found elsewhere."""
        self._items.extend(problems)

    def __bool__(self) -> bool:
        return bool(self._items)

    def __len__(self) -> int:
        return len(self._items)

    @property
    def items(self) -> tuple[Problem, ...]:
        """The problems found so far."""
        return tuple(self._items)


class PayloadError(Exception):
    """A payload that cannot be issued; ``problems`` lists every reason."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems) or "documento inválido")
