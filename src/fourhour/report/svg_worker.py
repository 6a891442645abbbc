"""Charts drawn in a worker process while the report goes on reading the warehouse.

vl-convert holds Python's lock while it draws (its JavaScript runtime starts on the first call,
then each chart takes a fraction of a second), so threads would not overlap it with the rest of
the report. A worker process does: on a machine with two or more cores it starts vl-convert and
draws each chart as soon as the report has built it, while the report computes the next
section. The SVG is the same text vl-convert gives in this process (same library, same spec).

The worker is this module run as a program (`python -m fourhour.report.svg_worker`), reading
one Vega-Lite spec a line as JSON on its input and answering each with its SVG, in order. It
imports only vl-convert, so that it is ready in about half a second; a multiprocessing pool
would import the parent's main module again (for the command line, all of fourhour) in the
worker before its first chart.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
from collections import deque
from concurrent.futures import Future
from pathlib import Path
from typing import IO, Any

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


class WorkerError(RuntimeError):
    """The worker could not draw a chart (or is gone); the chart is drawn here instead."""


class SvgWorker:
    """A worker process that draws Vega-Lite specs to SVG; `submit` returns a `Drawing`.

    Without a second core (or with parallel=False) charts are drawn in this process as they
    are submitted; the SVG is the same either way."""

    def __init__(self, vl_version: str, locale: str, *, parallel: bool | None = None) -> None:
        self.vl_version, self.locale = vl_version, locale
        self._process: subprocess.Popen[bytes] | None = None  # None once it cannot draw
        self._child: subprocess.Popen[bytes] | None = None  # to wait for at the end
        self._pending: deque[Future[str]] = deque()
        self._lock = threading.Lock()
        self._requests: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        if parallel is None:
            parallel = (os.cpu_count() or 1) > 1
        if parallel:
            self._start()

    def _start(self) -> None:
        # The worker imports this checkout of fourhour, wherever it is.
        package_root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", __name__, self.vl_version, self.locale],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=env,
            )
        except OSError:
            return  # no worker: charts are drawn here
        self._child = self._process
        # Requests are written by a thread, so that submitting never waits for the worker to
        # read (a spec can be larger than the pipe holds); answers are read by another.
        for target in (self._write, self._read):
            thread = threading.Thread(
                target=target, daemon=True, name=f"svg-worker{target.__name__}"
            )
            thread.start()
            self._threads.append(thread)

    def submit(self, spec: dict[str, Any]) -> Drawing:
        """The chart, being drawn: `.result()` gives its SVG. Should the worker fail (it
        could not start, or lost its process), the chart is drawn here instead."""
        if self._process is None:
            return Drawing(self, spec, None)
        try:
            line = json.dumps(spec, allow_nan=False).encode() + b"\n"
        except (TypeError, ValueError):  # not plain JSON: drawn here from the spec itself
            return Drawing(self, spec, None)
        future: Future[str] = Future()
        with self._lock:
            if self._process is None:
                return Drawing(self, spec, None)
            self._pending.append(future)
        self._requests.put(line)
        return Drawing(self, spec, future)

    def _write(self) -> None:
        assert self._child is not None and self._child.stdin is not None
        stdin = self._child.stdin
        while (line := self._requests.get()) is not None:
            try:
                stdin.write(line)
                stdin.flush()
            except OSError:  # the worker is gone; _read fails what it had
                break
        with contextlib.suppress(OSError):
            stdin.close()

    def _read(self) -> None:
        assert self._child is not None and self._child.stdout is not None
        for line in self._child.stdout:
            with self._lock:
                future = self._pending.popleft() if self._pending else None
            if future is None:
                break
            answer = json.loads(line)
            if "svg" in answer:
                future.set_result(answer["svg"])
            else:
                future.set_exception(WorkerError(answer.get("error", "no drawing")))
        with self._lock:  # the worker has ended: whatever it had is drawn here
            self._process = None
            while self._pending:
                self._pending.popleft().set_exception(WorkerError("the chart worker ended"))

    def _args(self, spec: dict[str, Any]) -> tuple[dict[str, Any], str, str]:
        return spec, self.vl_version, self.locale

    def close(self, *, cancel: bool = False) -> None:
        """Let the worker finish what it has and end (`cancel`: end it now)."""
        process, self._child = self._child, None
        if cancel and process is not None:
            process.kill()
        self._requests.put(None)
        for thread in self._threads:
            thread.join(timeout=60)
        self._threads = []
        if process is not None:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()
        self._process = None


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


def _serve(vl_version: str, locale: str, requests: IO[bytes], answers: IO[bytes]) -> None:
    """The worker: a spec a line in, its SVG (or the error) a line out, in order."""
    render_svg(_WARM_UP, vl_version, locale)
    for line in requests:
        try:
            answer = {"svg": render_svg(json.loads(line), vl_version, locale)}
        except Exception as error:  # the parent draws this one itself
            answer = {"error": f"{type(error).__name__}: {error}"}
        answers.write(json.dumps(answer).encode() + b"\n")
        answers.flush()


if __name__ == "__main__":
    # Answers go on a copy of standard output; anything printed goes to standard error.
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    _serve(sys.argv[1], sys.argv[2], sys.stdin.buffer, answers)
