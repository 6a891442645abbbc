"""Errors at the HTTP edge: every fourhour error becomes one JSON shape (API) or one page
(HTML), with a status by its kind: 400 for invalid input, 404 for what the warehouse does not
hold, 500 for a rules or configuration file the server was given, 503 while the warehouse is
busy. No stack trace ever reaches a client; unexpected errors are logged and answered with a
500 that says only that."""

from __future__ import annotations

from typing import Any

from fourhour.errors import (
    ConfigError,
    FourhourError,
    InvalidInputError,
    QueryError,
    WarehouseError,
)


class BadParameter(InvalidInputError):
    """A query or path parameter that is not valid (a date, code, number or choice)."""

    def __init__(self, name: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(f"{name}: {message}", hint=hint)
        self.parameter = name


class NotFound(QueryError):
    """The organisation, escalation or period asked for is not in the warehouse."""

    status = 404


class Forbidden(FourhourError):
    """The request needs a role its token does not have."""

    status = 403


class WarehouseBusy(WarehouseError):
    """Another process (an ingest, a token command) holds the warehouse for writing."""

    status = 503


STATUS_BY_KIND: tuple[tuple[type[FourhourError], int], ...] = (
    (InvalidInputError, 400),  # an option or value that is not valid (an SPC option too)
    (QueryError, 404),  # not found: no returns for the period, no such code or record
    (ConfigError, 500),  # the rules or scenario file the server runs with is not valid
    (WarehouseError, 503),  # missing, busy or of a newer schema: try again later
)


def status_of(exc: FourhourError) -> int:
    """The HTTP status for a fourhour error: its own (403), else by its kind
    (STATUS_BY_KIND), else 400 (a file the request named that cannot be read)."""
    own = getattr(exc, "status", None)
    if own:
        return int(own)
    for kind, status in STATUS_BY_KIND:
        if isinstance(exc, kind):
            return status
    return 400


def error_body(status: int, message: str, hint: str | None = None, **extra: Any) -> dict:
    """The one error shape of the API: {"error": {"status", "message", "hint"}}."""
    body = {"status": status, "message": message, "hint": hint}
    body.update(extra)
    return {"error": body}
