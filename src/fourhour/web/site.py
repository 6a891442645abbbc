"""The server's state: settings, the warehouse access, the result cache, the audit log and the
templates; and the helpers every route uses to compute (cached), render and download."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

from jinja2 import ChainableUndefined, ChoiceLoader, Environment, PackageLoader
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from fourhour.measures.standard import STANDARD_PCT
from fourhour.periods import Period
from fourhour.report.icons import icon_svg
from fourhour.warehouse import Warehouse
from fourhour.web.config import WebConfig
from fourhour.web.data.periods import Held, held, period_key
from fourhour.web.data.tables import Table
from fourhour.web.db import ResultCache, WarehouseAccess
from fourhour.web.errors import BadParameter
from fourhour.web.security.audit import AuditLog
from fourhour.web.security.auth import TokenCache, is_analyst

T = TypeVar("T")
STATIC = Path(__file__).parent / "static"
VENDOR = STATIC / "vendor"
KNOWN = frozenset(
    {
        "week", "month", "region", "system", "download", "quarter", "level", "period", "exact",
        "spc_preset",
        "beds", "los_days", "discharge_from", "discharge_to", "arrivals_per_day", "streaming_pct",
    }
)  # fmt: skip
NAVIGATION = (
    ("/", "England"),
    ("/providers", "Providers"),
    ("/systems", "Systems"),
    ("/regions", "Regions"),
    ("/oversight", "Oversight"),
    ("/capacity", "Capacity"),
    ("/forecast", "Forecast"),
    ("/api", "API"),
)


def _pct(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}%"


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def _change(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:+.1f}" if round(value, 1) != 0 else "0.0"


def _gbp(value: float | None) -> str:
    return "–" if value is None else f"£{value:,.0f}"


def _number(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def environment() -> Environment:
    env = Environment(
        loader=ChoiceLoader(
            [PackageLoader("fourhour.web", "templates"), PackageLoader("nhsuk_frontend_jinja")]
        ),
        undefined=ChainableUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(pct=_pct, count=_num, change=_change, gbp=_gbp, number=_number)
    env.globals["navigation"] = NAVIGATION
    env.globals["mdc_icon"] = _mdc_icon
    env.globals["standard_pct"] = STANDARD_PCT
    return env


def _mdc_icon(kind: str, key: str | None, label: str, size: int = 28) -> Markup:
    """A Making Data Count icon, drawn as the board report draws it (fourhour.report.icons),
    with its words as its text alternative."""
    return Markup(icon_svg(kind, key, label, size))


class Site:
    def __init__(self, config: WebConfig) -> None:
        self.config = config
        self.access = WarehouseAccess(config)
        self.cache = ResultCache(config.cache_entries, freeze=config.freeze_cached)
        self.audit = AuditLog(self.access)
        self.tokens = TokenCache(self.access)
        self.templates = environment()
        self.assets = (VENDOR / "nhsuk-frontend.min.css").exists()
        self.started = time.time()

    def shutdown(self) -> None:
        """At the server's shutdown: write the audit log and release the warehouse (both
        resume if the application is started again, as test clients do)."""
        self.audit.flush()
        self.access.release()

    def close(self) -> None:
        self.audit.close()
        self.access.close()

    # ----------------------------------------------------------------------- computing

    def compute(self, key: Hashable, work: Callable[[Warehouse], T]) -> T:
        """`work(wh)` cached on the data version (blocking: call from a worker thread)."""
        version = self.access.version()

        def run() -> T:
            with self.access.warehouse() as wh:
                return work(wh)

        return self.cache.get(version, key, run)

    def held(self) -> Held:
        return self.compute(("held",), held)

    def fresh(self, key: Hashable) -> Any:
        """A cached value without touching the warehouse, if the version is still fresh."""
        version = self.access.fresh_version()
        return None if version is None else self.cache.peek(version, key)

    async def cached_response(
        self, request: Request, build: Callable[[], Response], *, vary: Hashable = ()
    ) -> Response:
        """The whole response for this URL (and role), rebuilt only when the data changes."""
        # Keyed on the parameters fourhour reads (others are ignored, so that junk parameters
        # cannot fill the cache with copies of a page).
        params = tuple(sorted((k, v) for k, v in request.query_params.multi_items() if k in KNOWN))
        key = ("response", request.url.path, params, is_analyst(request), vary)
        hit = self.fresh(key)
        if hit is None:
            hit = await run_in_threadpool(self._cached_response, key, build)
        body, media, headers, status = hit
        return Response(body, status_code=status, media_type=media, headers=dict(headers))

    def _cached_response(self, key: Hashable, build: Callable[[], Response]) -> tuple:
        def make() -> tuple:
            response = build()
            headers = tuple(
                (k, v)
                for k, v in response.headers.items()
                if k.lower() in ("content-disposition", "location")
            )
            return bytes(response.body), response.media_type, headers, response.status_code

        return self.cache.get(self.access.version(), key, make)

    # ----------------------------------------------------------------------- rendering

    def compute_free(self, key: Hashable, work: Callable[[], T]) -> T:
        """`work()` (no warehouse needed) cached like `compute`."""
        return self.cache.get(self.access.version(), key, work)

    def render(self, template: str, **context: Any) -> str:
        return self.templates.get_template(template).render(
            assets=self.assets, synthetic=context.pop("synthetic", None), **context
        )

    def page(
        self,
        request: Request,
        template: str,
        tables: dict[str, Table] | None = None,
        status: int = 200,
        **context: Any,
    ) -> Response:
        """The page, or with ?download=NAME the table NAME as CSV."""
        wanted = request.query_params.get("download")
        period = page_period(context)
        if wanted is not None:
            return csv_response(wanted, tables or {}, request.url.path, period)
        held_now = context.get("held")
        context.setdefault("period_query", period_key(period) if period else "")
        html = self.render(
            template,
            request_path=request.url.path,
            query=urlencode(
                [(k, v) for k, v in request.query_params.multi_items() if k in KNOWN - {"download"}]
            ),
            tables=tables or {},
            synthetic=held_now.synthetic if held_now else None,
            **context,
        )
        if period is not None:
            html = carry_period(html, period_key(period))
        return HTMLResponse(html, status_code=status)


# Pages that take week= or month=: a link to one of them from a page for a period keeps it.
PERIOD_PAGES = re.compile(r"^/(?:(?:providers|systems|regions)(?:/[^/]+)?|oversight)?$")
HREF = re.compile(r'href="(/[^"?#]*)(\?[^"#]*)?(#[^"]*)?"')
HAS_PERIOD = re.compile(r"(?:^\?|&amp;|&)(?:week|month|quarter)=")


def page_period(context: dict[str, Any]) -> Period | None:
    """The period a page shows (its `period`, or its organisation's or league's)."""
    for candidate in (
        context.get("period"),
        (context.get("d") or {}).get("period") if isinstance(context.get("d"), dict) else None,
        (context.get("data") or {}).get("period")
        if isinstance(context.get("data"), dict)
        else None,
    ):
        if isinstance(candidate, Period) and candidate.granularity in ("week", "month"):
            return candidate
    return None


def carry_period(html: str, key: str) -> str:
    """Add `key` (week=... or month=...) to every link to a period page that names none."""

    def keep(m: re.Match) -> str:
        path, query, fragment = m.group(1), m.group(2) or "", m.group(3) or ""
        if not PERIOD_PAGES.match(path) or HAS_PERIOD.search(query):
            return m.group(0)
        joined = f"{query}&amp;{key}" if query and query != "?" else f"?{key}"
        return f'href="{path}{joined}{fragment}"'

    return HREF.sub(keep, html)


def moved(request: Request, path: str | None = None, **params: str) -> Response:
    """A permanent redirect to `path` (default: this one) with `params` replaced in the query
    (old links by organisation name land on the code's address, the period kept)."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in params]
    query += [(k, v) for k, v in params.items() if v]
    target = (path or request.url.path) + (f"?{urlencode(query)}" if query else "")
    return RedirectResponse(target, status_code=301)


def csv_response(
    name: str, tables: dict[str, Table], path: str, period: Period | None = None
) -> Response:
    """The table as CSV, named after the page, the table and the period (if the page has one),
    with the period as its first columns."""
    by_name = {t.name: t for t in tables.values() if t is not None}
    if name not in by_name:
        raise BadParameter(
            "download",
            f"{name[:40]!r} is not a table on this page; expected one of "
            + ", ".join(sorted(by_name)),
        )
    table = by_name[name]
    period = table.meta.get("period", period)
    stem = path.strip("/").replace("/", "-") or "england"
    parts = [stem] if stem == table.name else [stem, table.name]
    keys: dict[str, str] = {}
    if period is not None:
        keys = {"period": period.granularity, "period_start": period.start.isoformat(),
                "period_end": period.end.isoformat()}  # fmt: skip
        parts.append(
            f"week-ending-{period.end}"
            if period.granularity == "week"
            else f"{period.start:%Y-%m}"
            if period.granularity == "month"
            else f"{period.start}-to-{period.end}"
        )
    filename = "-".join(parts) + ".csv"
    return Response(
        table.csv(keys),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )
