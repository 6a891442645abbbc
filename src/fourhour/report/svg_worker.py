"""Charts drawn in a worker process while the report goes on reading the warehouse.

vl-convert holds Python's lock while it draws (its JavaScript runtime starts on the first call,
then each chart takes a fraction of a second), so threads would not overlap it with the rest of
the report. A worker process does: on a machine with two or more cores it starts vl-convert and
draws each chart as soon as the report has built it, while the report computes the next
section. The SVG is the same text vl-convert gives in this process (same library, same spec).

This module imports only vl-convert, so that the worker starts quickly.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

import vl_convert as vlc

# A tiny chart drawn first, so that the worker's JavaScript runtime starts before it is needed.
_WARM_UP = {"mark": "point", "data": {"values": [{"x": 1}]}, "encoding": {"x": {"field": "x"}}}


def render_svg(spec: dict[str, Any], vl_version: str, locale: str) -> str:
    """One chart's SVG, exactly as `fourhour.report.charts.to_svg` draws it."""
    return vlc.vegalite_to_svg(
        spec,
        vl_version=vl_version,
        format_locale=locale,  # type: ignore[arg-type]  # a locale name vl-convert knows
        time_format_locale=locale,  # type: ignore[arg-type]
    )


def _warm_up(vl_version: str, locale: str) -> None:
    render_svg(_WARM_UP, vl_version, locale)


class SvgWorker:
    """A worker process that draws Vega-Lite specs to SVG; `submit` returns a Future.

    Without a second core (or with parallel=False) charts are drawn in this process as they
    are submitted; the SVG is the same either way."""

    def __init__(self, vl_version: str, locale: str, *, parallel: bool | None = None) -> None:
        self.vl_version, self.locale = vl_version, locale
        self._pool: ProcessPoolExecutor | None = None
        if parallel is None:
            parallel = (os.cpu_count() or 1) > 1
        if parallel:
            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context(
                "forkserver" if "forkserver" in methods else "spawn"
            )
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=context,
                initializer=_warm_up,
                initargs=(vl_version, locale),
            )

    def submit(self, spec: dict[str, Any]) -> Drawing:
        """The chart, being drawn: `.result()` gives its SVG. Should the worker fail (it
        could not start, or lost its process), the chart is drawn here instead."""
        if self._pool is not None:
            try:
                return Drawing(self, spec, self._pool.submit(render_svg, *self._args(spec)))
            except Exception:  # a broken pool: draw here from now on
                self._pool = None
        return Drawing(self, spec, None)

    def _args(self, spec: dict[str, Any]) -> tuple[dict[str, Any], str, str]:
        return spec, self.vl_version, self.locale

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


class Drawing:
    """A chart sent to the worker (or drawn here), and its SVG once drawn."""

    def __init__(self, worker: SvgWorker, spec: dict[str, Any], future: Future[str] | None):
        self._worker, self._spec, self._future = worker, spec, future

    def result(self) -> str:
        if self._future is not None:
            try:
                return self._future.result()
            except Exception:  # the worker failed: the same drawing, here
                pass
        return render_svg(*self._worker._args(self._spec))
