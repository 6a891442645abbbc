"""The audit log: every request that presented a token (valid or not) is written to the
warehouse's audit_log table (time, token id or NULL when refused, method, path, query, status)
by a background thread, so that requests never wait for the write."""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
from dataclasses import dataclass

from fourhour.web.db import WarehouseAccess

log = logging.getLogger("fourhour.web.audit")
MAX_QUERY = 500  # characters of the query string kept


@dataclass(frozen=True)
class AuditEntry:
    at: dt.datetime
    token_id: int | None
    method: str
    path: str
    query: str
    status: int


class AuditLog:
    def __init__(self, access: WarehouseAccess) -> None:
        self.access = access
        self._queue: queue.Queue[AuditEntry | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="fourhour-audit", daemon=True)
        self._thread.start()
        self.written = 0
        self.failed = 0

    def record(self, token_id: int | None, method: str, path: str, query: str, status: int) -> None:
        self._queue.put(
            AuditEntry(
                dt.datetime.now(dt.UTC).replace(tzinfo=None),
                token_id,
                method[:10],
                path[:500],
                query[:MAX_QUERY],
                status,
            )
        )

    def _run(self) -> None:
        while True:
            entry = self._queue.get()
            if entry is None:
                self._queue.task_done()
                return
            batch = [entry]
            while True:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)
                    self._queue.task_done()
                    break
                batch.append(more)
            self._write(batch)
            for _ in batch:
                self._queue.task_done()

    def _write(self, batch: list[AuditEntry]) -> None:
        rows = [[e.at, e.token_id, e.method, e.path, e.query, e.status] for e in batch]
        for attempt in range(20):
            try:
                with self.access.warehouse() as wh:
                    wh.con.executemany(
                        'INSERT INTO audit_log ("at", token_id, method, path, query, status) '
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        rows,
                    )
                self.written += len(rows)
                return
            except Exception:  # the warehouse may be busy for a moment; try again
                if attempt == 19:
                    self.failed += len(rows)
                    log.exception("could not write %d audit entries", len(rows))
                    return
                threading.Event().wait(0.25)

    def flush(self) -> None:
        """Wait until every entry recorded so far is written."""
        self._queue.join()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)
