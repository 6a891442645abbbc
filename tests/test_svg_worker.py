"""The chart worker: a separate process that draws Vega-Lite specs to the same SVG as this one."""

from __future__ import annotations

import pytest

from fourhour.report import charts
from fourhour.report.svg_worker import SvgWorker, render_svg

SPEC = {
    "mark": "line",
    "data": {"values": [{"x": i, "y": i * i} for i in range(8)]},
    "encoding": {"x": {"field": "x", "type": "quantitative"}, "y": {"field": "y"}},
    "description": "A parabola, £ and – included",
}


def here(spec: dict) -> str:
    return render_svg(spec, charts.VL_VERSION, charts.LOCALE)


def test_the_worker_draws_the_same_svg_as_this_process() -> None:
    worker = SvgWorker(charts.VL_VERSION, charts.LOCALE, parallel=True)
    try:
        drawings = [worker.submit({**SPEC, "title": f"Chart {k}"}) for k in range(3)]
        # Drawn by the worker (its answer, not a drawing made here after a failure), in order.
        futures = [d._future for d in drawings]
        assert all(f is not None for f in futures)
        svgs = [f.result(timeout=60) for f in futures if f is not None]
        assert svgs == [here({**SPEC, "title": f"Chart {k}"}) for k in range(3)]
        assert [d.result() for d in drawings] == svgs
    finally:
        worker.close()
    assert worker._child is None  # the process has ended and been waited for


def test_a_spec_the_worker_cannot_draw_fails_as_it_would_here() -> None:
    bad = {"mark": "no-such-mark"}
    with pytest.raises(ValueError) as here_error:
        here(bad)
    worker = SvgWorker(charts.VL_VERSION, charts.LOCALE, parallel=True)
    try:
        drawing = worker.submit(bad)
        with pytest.raises(ValueError) as worker_error:
            drawing.result()
        assert str(worker_error.value) == str(here_error.value)
        assert worker.submit(SPEC).result() == here(SPEC)  # the worker carries on
    finally:
        worker.close()


def test_charts_are_drawn_here_when_the_worker_is_gone() -> None:
    worker = SvgWorker(charts.VL_VERSION, charts.LOCALE, parallel=True)
    try:
        assert worker._child is not None
        worker._child.kill()
        worker._child.wait()
        assert [worker.submit(SPEC).result() for _ in range(2)] == [here(SPEC)] * 2
    finally:
        worker.close()


def test_without_a_worker_charts_are_drawn_at_once() -> None:
    worker = SvgWorker(charts.VL_VERSION, charts.LOCALE, parallel=False)
    drawing = worker.submit(SPEC)
    assert drawing._future is None and drawing.result() == here(SPEC)
    worker.close()
