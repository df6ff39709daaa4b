"""Exceptions and warnings raised by partnerlift.

The tree::

    PartnerliftError
    ├── InputError (ValueError)         bad user input: a file, a row, a setting
    │   ├── SchemaError                 a missing or unknown column or key
    │   └── ConfigError                 a settings, model, study or mapping file
    ├── NotFoundError (LookupError)     a workspace, table, rule or partner
    ├── InsufficientDataError           too few partners for any estimate
    └── DatabaseInUseError              another process has the database file open

    PartnerliftWarning (UserWarning)
    └── StatisticalWarning
        └── SmallSampleWarning
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Problem:
    """One problem found in an input: where it is, which value, and what is wrong."""

    file: str | None
    line: int | None
    field: str | None
    value: object
    reason: str

    def describe(self) -> str:
        """Render the problem as one line such as ``file.csv, line 4, field 'x'``."""
        where = []
        if self.file:
            where.append(str(self.file))
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field:
            where.append(f"field {self.field!r}")
        prefix = ", ".join(where)
        value = "" if self.value is None else f" (value {self.value!r})"
        return f"{prefix}: {self.reason}{value}" if prefix else f"{self.reason}{value}"

    def as_dict(self) -> dict[str, object]:
        """Return the problem as a JSON-ready dictionary."""
        return asdict(self)


class PartnerliftError(Exception):
    """Base class of every error that partnerlift raises on purpose."""


class InputError(PartnerliftError, ValueError):
    """Invalid input, with the structured problems behind it."""

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])

    def __str__(self) -> str:
        message = super().__str__()
        if not self.problems:
            return message
        shown = "\n".join(f"  {problem.describe()}" for problem in self.problems[:10])
        more = len(self.problems) - 10
        tail = f"\n  ... and {more} more" if more > 0 else ""
        return f"{message}\n{shown}{tail}"


class SchemaError(InputError):
    """A required column or key is missing, or an unknown one is present."""


class ConfigError(InputError):
    """A settings, score model, study or mapping file is invalid."""


class NotFoundError(PartnerliftError, LookupError):
    """A workspace, table, rule or partner does not exist."""


class InsufficientDataError(PartnerliftError):
    """Too little data for any estimate at all."""


class DatabaseInUseError(PartnerliftError):
    """Another process, such as ``partnerlift serve``, has the database file open.

    ``pid`` is that process's id when DuckDB reports it, else None.
    """

    def __init__(self, message: str, path: str, pid: int | None) -> None:
        super().__init__(message)
        self.path = path
        self.pid = pid


class PartnerliftWarning(UserWarning):
    """Base class of partnerlift's warnings."""


class StatisticalWarning(PartnerliftWarning):
    """A caveat about a statistical result."""


class SmallSampleWarning(StatisticalWarning):
    """A group is too small for the estimate to be trusted."""
