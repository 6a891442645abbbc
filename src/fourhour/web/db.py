"""One warehouse connection per server process, a cursor per request, released when idle.

DuckDB lets one process write to a file, or several read it, never both; the server writes only
its audit log. It opens the warehouse (applying pending migrations, e.g. 0005_web) on the first
request, gives each request its own cursor (DuckDB connections are not thread-safe; cursors
are), and closes the file after `idle_release_s` without requests, so that `fourhour ingest` or
`fourhour tokens revoke` can run between bursts of traffic. While another process holds the
file, requests get a 503 that says so.

Results are cached in memory keyed on the data version: the ingest log's latest id (every
ingest and import writes it) and the escalation history (recorded runs and status updates).
"""

from __future__ import annotations

import gc
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import duckdb

from fourhour.errors import WarehouseBusyError, WarehouseError
from fourhour.warehouse import Warehouse, open_warehouse
from fourhour.warehouse.connection import one_row
from fourhour.web.config import WebConfig
from fourhour.web.errors import WarehouseBusy

T = TypeVar("T")

VERSION_SQL = """
SELECT (SELECT coalesce(max(ingest_id), 0) FROM ingest_log),
       (SELECT count(*) FROM escalation_history),
       (SELECT coalesce(max(recorded_at), TIMESTAMP '1970-01-01') FROM escalation_history),
       (SELECT count(*) FROM patient_files)
"""


class WarehouseAccess:
    def __init__(self, config: WebConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._wh: Warehouse | None = None
        self._users = 0
        self._last_used = 0.0
        self._version: tuple | None = None
        self._version_read = 0.0
        self._closed = False
        self._reaper = threading.Thread(target=self._reap, name="fourhour-idle", daemon=True)
        self._reaper.start()

    # ------------------------------------------------------------------ connection

    def _open(self) -> Warehouse:
        try:
            return open_warehouse(self.config.warehouse, wait_s=0)  # a request never waits
        except WarehouseError as exc:
            if isinstance(exc, WarehouseBusyError) or "lock" in str(exc).lower():
                raise WarehouseBusy(
                    "the warehouse is busy: another fourhour process is writing to it",
                    hint="try again in a few seconds (an ingest or import may be running)",
                ) from None
            raise

    @contextmanager
    def warehouse(self) -> Iterator[Warehouse]:
        """A Warehouse whose connection is this request's own cursor."""
        with self._lock:
            if self._closed:
                raise WarehouseBusy("the server is shutting down")
            if self._wh is None:
                self._wh = self._open()
            self._users += 1
            base = self._wh
        try:
            cursor = base.con.cursor()
            try:
                yield Warehouse(base.path, cursor, read_only=False)
            finally:
                cursor.close()
        finally:
            with self._lock:
                self._users -= 1
                self._last_used = time.monotonic()

    def _reap(self) -> None:
        while not self._closed:
            time.sleep(min(0.5, self.config.idle_release_s))
            with self._lock:
                idle = time.monotonic() - self._last_used
                if self._wh is not None and self._users == 0 and idle >= self.config.idle_release_s:
                    self._wh.close()
                    self._wh = None
                    self._version = None

    def release(self) -> None:
        """Let go of the file now if no request is using it (it reopens on the next one)."""
        with self._lock:
            if self._wh is not None and self._users == 0:
                self._wh.close()
                self._wh = None
                self._version = None

    def close(self) -> None:
        self.release()
        self._closed = True

    # ------------------------------------------------------------------ version

    def fresh_version(self) -> tuple | None:
        """The data version if it was read within `version_ttl_s`, else None (no query)."""
        version = self._version
        if version is None or time.monotonic() - self._version_read >= self.config.version_ttl_s:
            return None
        return version

    def version(self) -> tuple:
        """The data version; read again at most every `version_ttl_s` seconds."""
        now = time.monotonic()
        if self._version is not None and now - self._version_read < self.config.version_ttl_s:
            return self._version
        with self.warehouse() as wh:
            try:
                version = one_row(wh.con.execute(VERSION_SQL))
            except duckdb.Error as exc:  # pragma: no cover - a damaged warehouse
                raise WarehouseError(f"cannot read the warehouse: {exc}") from None
        self._version, self._version_read = tuple(version), now
        return self._version


class ResultCache:
    """Computed results (frames, dicts, rendered pages) keyed on the data version; least
    recently used entries go first; a computation runs once even when many requests ask for it
    at the same moment.

    With `freeze`, what the cache holds is kept out of Python's full garbage collections: a
    full collection walks every object the process tracks, and with a warm cache of frames and
    pages it paused every request in flight for about 200 ms (the web bench's p99). After each
    store the young generations are collected and everything left is frozen (`gc.freeze`);
    frozen objects still die by reference counting when an entry is evicted. When the data
    version changes (the cache is emptied) everything is unfrozen and collected once, so that
    cycles frozen meanwhile are freed.
    """

    def __init__(self, max_entries: int, freeze: bool = False) -> None:
        self.max_entries = max_entries
        self.freeze = freeze
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._pending: dict[Hashable, threading.Lock] = {}
        self._version: tuple | None = None
        self.hits = 0
        self.misses = 0

    def _check_version(self, version: tuple) -> None:
        if version != self._version:
            self._data.clear()
            self._version = version
            if self.freeze and gc.get_freeze_count():
                gc.unfreeze()
                gc.collect()

    def peek(self, version: tuple, key: Hashable) -> Any:
        with self._lock:
            self._check_version(version)
            if key in self._data:
                self._data.move_to_end(key)
                self.hits += 1
                return self._data[key]
        return None

    def get(self, version: tuple, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            self._check_version(version)
            if key in self._data:
                self._data.move_to_end(key)
                self.hits += 1
                return self._data[key]
            gate = self._pending.setdefault(key, threading.Lock())
        with gate:
            try:
                with self._lock:
                    if key in self._data and self._version == version:
                        self.hits += 1
                        return self._data[key]
                value = compute()
                with self._lock:
                    self.misses += 1
                    if self._version == version:
                        self._data[key] = value
                        while len(self._data) > self.max_entries:
                            self._data.popitem(last=False)
                        if self.freeze:
                            gc.collect(1)
                            gc.freeze()
                return value
            finally:
                with self._lock:
                    self._pending.pop(key, None)
