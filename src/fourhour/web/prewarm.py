"""At start-up, when the warehouse's precomputed leagues are not current (an ingest or import
ran without `fourhour precompute`), compute the latest period's views in a background thread,
so that the first visitors do not wait for SPC over every organisation."""

from __future__ import annotations

import contextlib
import logging
import threading

from fourhour.errors import FourhourError
from fourhour.web import precompute, views
from fourhour.web.site import Site

log = logging.getLogger("fourhour.web.prewarm")


def prewarm(site: Site) -> None:
    try:
        if site.config.precomputed:
            with site.access.warehouse() as wh:
                if precompute.current(wh):  # the ingest stored every league: nothing to do
                    return
        held = site.held()
        period = held.latest
        if period is None:
            return
        views.england(site, period)
        if held.latest_month is not None and held.latest_month != period:
            views.england(site, held.latest_month)
        for level in ("provider", "system", "region"):
            views.league(site, period, level)
            views.league_figure(site, period, level)
        with contextlib.suppress(FourhourError):  # escalation by week or by month
            views.summons(site, period)
        for row in views.league(site, period, "provider")["rows"]:
            views.detail(site, period, "provider", row["code"])
    except FourhourError as exc:
        log.info("prewarm stopped: %s", exc.message)
    except Exception:  # pragma: no cover - never let the prewarm take the server down
        log.exception("prewarm failed")


def start_prewarm(site: Site) -> threading.Thread:
    thread = threading.Thread(target=prewarm, args=(site,), name="fourhour-prewarm", daemon=True)
    thread.start()
    return thread
