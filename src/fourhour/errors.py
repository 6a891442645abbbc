"""One error family for fourhour, translated to messages and exit codes at the edges."""

from __future__ import annotations

from dataclasses import dataclass


class FourhourError(Exception):
    """Base class of every error fourhour raises on purpose."""

    exit_code = 1
    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Location:
    """Where in an input file a problem was found. Rows are 1-based, as a spreadsheet shows."""

    file: str
    row: int | None = None
    column: str | None = None
    sheet: str | None = None

    def __str__(self) -> str:
        parts = [self.file]
        if self.sheet:
            parts.append(f"sheet {self.sheet!r}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        return ", ".join(parts)


class ReaderError(FourhourError):
    """A file could not be read: names the file, row, column, the value and what was expected."""

    exit_code = 2

    def __init__(
        self,
        location: Location,
        problem: str,
        *,
        value: object = None,
        expected: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.location = location
        self.problem = problem
        self.value = value
        self.expected = expected
        text = f"{location}: {problem}"
        if value is not None:
            text += f" (found {value!r})"
        if expected:
            text += f"; expected {expected}"
        super().__init__(text, hint=hint)


class UnknownLayoutError(ReaderError):
    """No reader recognises the file's headers."""


class IngestError(FourhourError):
    """The files read but cannot be stored consistently (conflicts across files, failed checks)."""

    exit_code = 3


class WarehouseError(FourhourError):
    """The warehouse is missing, locked, of a newer schema, or otherwise unusable."""

    exit_code = 4


class WarehouseBusyError(WarehouseError):
    """Another process held the warehouse's lock for longer than fourhour would wait."""


class QueryError(FourhourError):
    """Not found: what was asked for is not in the warehouse (no returns for the period, no
    such organisation, escalation or token, too little history): exit code 5; 404 on the web.
    A request that is itself wrong is an InvalidInputError, not this."""

    exit_code = 5


class InvalidInputError(FourhourError):
    """An option or value the caller gave is not valid (an unknown choice, a number out of
    range, a date that is not a Sunday, two options that exclude each other): a usage error,
    as Click reports a bad option (exit code 2); 400 on the web."""

    exit_code = 2


class ConfigError(FourhourError):
    """A rules or configuration file is missing, malformed or names a setting fourhour does
    not know (escalation or funding rules, a capacity scenario): exit code 8; on the web,
    where the server's operator chose the file, 500 (the message goes to the server's log)."""

    exit_code = 8


class FetchError(FourhourError):
    """Downloading published files failed."""

    exit_code = 6


class OutputError(FourhourError):
    """An output cannot be written: its folder is missing or read-only, or it is a folder."""

    exit_code = 7


EXIT_CODES: dict[int, str] = {
    0: "success",
    1: "an error not covered below",
    2: "bad input: a bad option, argument or value, or a file that cannot be read or is missing",
    3: "files read but could not be stored consistently (nothing of them was stored)",
    4: "the warehouse is missing, busy, not a fourhour warehouse, or of a newer schema",
    5: "not found: the warehouse holds no data for the period, or no such code or record",
    6: "downloading published files failed",
    7: "an output cannot be written (missing or read-only folder); checked before any work",
    8: "a rules or scenario file is not valid (missing, malformed, an unknown setting)",
    130: "interrupted (Ctrl-C); nothing half-written is left behind",
}
"""Every exit status the command line uses, documented in docs/cli.md (a test keeps them equal)."""
