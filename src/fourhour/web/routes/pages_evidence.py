"""Evidence: four-hour performance against bed occupancy in the real data (the page of
`fourhour evidence occupancy`)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from fourhour.web.data.evidence import occupancy_evidence
from fourhour.web.routes.common import DownloadParam, site_of

router = APIRouter(include_in_schema=False)


@router.get("/capacity/evidence")
async def evidence_page(request: Request, download: DownloadParam = None) -> Response:
    site = site_of(request)

    def build() -> Response:
        data = site.compute(("occupancy-evidence",), occupancy_evidence)
        return site.page(
            request,
            "evidence.html.j2",
            tables=data.get("tables", {}),
            held=site.held(),
            data=data,
            title="Bed occupancy and four-hour performance",
        )

    return await site.cached_response(request, build)
