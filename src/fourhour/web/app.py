"""The FastAPI application: pages in the NHS.UK design system, the JSON API under /api/v1,
static files, security headers, token checks, audit, and one error shape."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.staticfiles import StaticFiles

from fourhour.errors import ConfigError, FourhourError
from fourhour.web.config import WebConfig
from fourhour.web.errors import error_body, status_of
from fourhour.web.requests import HeadAsGet, reject_unknown_parameters
from fourhour.web.security.auth import TokenAuth
from fourhour.web.security.headers import SecurityHeaders
from fourhour.web.site import STATIC, VENDOR, Site

log = logging.getLogger("fourhour.web")
CONFIG_MESSAGE = "a rules file the server was started with is not valid; the server log says why"
API_PREFIX = "/api/v1"
API_DESCRIPTION = """\
Four-hour A&E performance in the English NHS, as published returns aggregate it: England,
providers, systems and regions against the 95% standard, with SPC icons, the oversight
engine's summons list, escalations and the funding ledger, and the capacity model.

Aggregate figures are public. Exact figures from patient-level records need a token with the
analyst role (`Authorization: Bearer TOKEN`; tokens come from `fourhour tokens create`);
without one, figures below national level are protected (1-7 shown as "*", others rounded to
5). Patient-level rows are never served. Every error is
`{"error": {"status", "message", "hint"}}` with a 4xx status for what was asked.
"""


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error_response(request: Request, status: int, message: str, hint: str | None) -> Response:
    headers = {"retry-after": "5"} if status == 503 else None
    if _wants_json(request):
        return JSONResponse(error_body(status, message, hint), status_code=status, headers=headers)
    site: Site = request.app.state.site
    try:
        html = site.render("error.html.j2", status=status, message=message, hint=hint)
    except Exception:  # pragma: no cover - the error page itself failed: say it plainly
        html = f"<!DOCTYPE html><title>Error {status}</title><p>{status}</p>"
    return HTMLResponse(html, status_code=status, headers=headers)


def create_app(config: WebConfig) -> FastAPI:
    site = Site(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if config.prewarm:
            from fourhour.web.prewarm import start_prewarm

            start_prewarm(site)
        yield
        site.shutdown()

    app = FastAPI(
        title="fourhour",
        summary="A&E four-hour performance oversight: the dashboard's data as JSON",
        description=API_DESCRIPTION,
        version="1",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # the interactive docs load scripts from a CDN: not here
        redoc_url=None,
        lifespan=lifespan,
        dependencies=[Depends(reject_unknown_parameters)],
    )
    app.state.site = site

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            from fourhour.web.routes.api_schemas import tidy_openapi

            app.openapi_schema = tidy_openapi(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    summary=app.summary,
                    description=app.description,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.exception_handler(FourhourError)
    async def fourhour_error(request: Request, exc: FourhourError) -> Response:
        if isinstance(exc, ConfigError):  # the operator's file: its path stays in the log
            log.error("%s %s: %s", request.method, request.url.path, exc.message)
            return _error_response(request, status_of(exc), CONFIG_MESSAGE, None)
        return _error_response(request, status_of(exc), exc.message, exc.hint)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        problems = []
        for e in exc.errors()[:5]:
            where = ".".join(str(p) for p in e.get("loc", ()) if p not in ("query", "path", "body"))
            problems.append(f"{where or 'request'}: {e.get('msg', 'invalid')}")
        return _error_response(request, 400, "; ".join(problems), "see /api/v1/openapi.json")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = {404: "no such page", 405: "method not allowed"}.get(
            exc.status_code, str(exc.detail)
        )
        response = _error_response(request, exc.status_code, message, None)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    from fourhour.web.routes import (
        api,
        pages_api,
        pages_capacity,
        pages_england,
        pages_evidence,
        pages_forecast,
        pages_orgs,
        pages_oversight,
    )

    for module in (
        pages_england,
        pages_orgs,
        pages_oversight,
        pages_capacity,
        pages_evidence,
        pages_api,
    ):
        app.include_router(module.router)
    app.include_router(api.router, prefix=API_PREFIX)
    app.include_router(pages_forecast.router)
    app.include_router(pages_forecast.api_router, prefix=API_PREFIX)

    app.mount("/static", StaticFiles(directory=STATIC, check_dir=True), name="static")
    assets = VENDOR / "assets"
    if assets.is_dir():  # nhsuk-frontend's CSS refers to /assets/images/...
        app.mount("/assets", StaticFiles(directory=assets), name="assets")

    app.add_middleware(CatchAll)
    app.add_middleware(TokenAuth, tokens=site.tokens, audit=site.audit)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(HeadAsGet)
    return app


class CatchAll:
    """Any exception no handler took becomes a plain 500 (logged here, never shown), inside
    the security headers and the audit."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: dict) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            log.exception("unexpected error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            request = Request(scope)
            response = _error_response(
                request, 500, "something went wrong on the server; it has been logged", None
            )
            await response(scope, receive, send)
