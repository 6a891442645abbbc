"""Errors at the HTTP edge: every fourhour error becomes one JSON shape (API) or one page
(HTML), with a 4xx status for what the client asked and 503 while the warehouse is busy. No
stack trace ever reaches a client; unexpected errors are logged and answered with a 500 that
says only that."""

from __future__ import annotations

from typing import Any

from fourhour.errors import FourhourError, InvalidInputError, QueryError, WarehouseError


class BadParameter(QueryError):
    """A query or path parameter that is not valid (a date, code, number or choice)."""

    status = 400

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


def status_of(exc: FourhourError) -> int:
    """The HTTP status for a fourhour error: its own, else 400 for an invalid option or value
    (such as an SPC option), 404 for a query the warehouse cannot answer (no returns for that
    period, no such code), 400 for other input, 503 for the warehouse."""
    own = getattr(exc, "status", None)
    if own:
        return int(own)
    if isinstance(exc, InvalidInputError):
        return 400
    if isinstance(exc, WarehouseError):
        return 503
    if isinstance(exc, QueryError):
        return 404
    return 400


def error_body(status: int, message: str, hint: str | None = None, **extra: Any) -> dict:
    """The one error shape of the API: {"error": {"status", "message", "hint"}}."""
    body = {"status": status, "message": message, "hint": hint}
    body.update(extra)
    return {"error": body}
