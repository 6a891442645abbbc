"""/api: the API described for people, from the OpenAPI document."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from fourhour.web.routes.common import site_of

router = APIRouter(include_in_schema=False)


@router.get("/api")
async def api_page(request: Request) -> Response:
    site = site_of(request)
    schema = request.app.openapi()
    endpoints = []
    for path, methods in schema.get("paths", {}).items():
        for method, op in methods.items():
            endpoints.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "params": [p["name"] for p in op.get("parameters", [])],
                }
            )
    html = site.render(
        "api.html.j2", title="JSON API", endpoints=endpoints, request_path="/api", query=""
    )
    return HTMLResponse(html)
