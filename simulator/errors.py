"""Errors for people: what went wrong, where (file, line, field) and what was expected.

Every problem with user input (a scenario file, a ``.nfg`` file, a command-line
value) is raised as :class:`InputError`; the command line prints it without a
traceback and exits with status 2. A validator that can find several problems
at once raises :class:`InputErrors`, which carries all of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem with an input file.

    ``file`` is the path as given, ``line`` 1-based (``None`` when unknown),
    ``field`` a dotted path such as ``games[0].outcomes[2].deal.mineral_share``
    (empty for the whole file), ``message`` what was wrong and what was expected.
    """

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.field:
            where += f": {self.field}"
        return f"{where}: {self.message}"


class InputError(ValueError):
    """Bad user input. Carries one or more :class:`Problem` records."""

    def __init__(self, problems: Problem | Sequence[Problem]) -> None:
        if isinstance(problems, Problem):
            problems = [problems]
        if not problems:
            raise ValueError("InputError needs at least one problem")
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def at(cls, file: str, line: int | None, field: str, message: str) -> InputError:
        """Build an error with a single problem."""
        return cls(Problem(file, line, field, message))


# Kept as an alias so that call sites can say which they mean.
InputErrors = InputError


def collect(problems: Iterable[Problem]) -> None:
    """Raise :class:`InputError` if ``problems`` is not empty."""
    found = list(problems)
    if found:
        raise InputError(found)
