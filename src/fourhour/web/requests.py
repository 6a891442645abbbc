"""Request rules every route shares: HEAD is answered as GET without a body, and a query
parameter the route does not declare is refused (400, naming it) instead of being silently
ignored.

A route's parameters are read from its own signature (FastAPI's dependant), so a route that
declares a new parameter (an SPC preset, a forecast horizon) is accepted with no change here.
"""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request

from fourhour.web.errors import BadParameter


def declared_parameters(route: APIRoute) -> frozenset[str]:
    """The query parameter names (aliases) a route declares, its dependencies' included."""
    names: set[str] = set()
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        names.update(p.alias for p in dependant.query_params)
        pending.extend(dependant.dependencies)
    return frozenset(names)


def reject_unknown_parameters(request: Request) -> None:
    """An application-wide dependency: a query parameter the matched route does not declare
    is a 400 that names it (a typo such as `?wek=` would otherwise show the default period)."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    allowed = _ALLOWED.get(id(route))
    if allowed is None:
        allowed = _ALLOWED[id(route)] = declared_parameters(route)
    unknown = sorted({k for k in request.query_params if k not in allowed})
    if unknown:
        names = ", ".join(repr(u[:40]) for u in unknown[:5])
        raise BadParameter(
            unknown[0][:40],
            f"unknown query parameter{'s' if len(unknown) > 1 else ''} {names}",
            hint="this address takes "
            + (", ".join(sorted(allowed)) if allowed else "no query parameters"),
        )


_ALLOWED: dict[int, frozenset[str]] = {}


class HeadAsGet:
    """ASGI middleware: HEAD is answered as GET would be, headers only."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: dict) -> None:
            if message["type"] == "http.response.body":
                message = dict(message, body=b"")
            await send(message)

        await self.app(dict(scope, method="GET"), receive, headers_only)
