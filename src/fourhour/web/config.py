"""The server's settings, declared once: where the warehouse is, which rules apply, and the
knobs of the connection and caches."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class WebConfig:
    warehouse: Path
    funding_rules: Path | None = None  # None: the shipped 2016/17 and 2017/18 STF rules
    escalation_rules: Path | None = None  # None: the shipped defaults
    # The warehouse file is released after this many idle seconds, so that `fourhour ingest`
    # or `fourhour tokens revoke` can take it between requests (DuckDB: one writer process).
    idle_release_s: float = 2.0
    # How long the data version (the ingest log's latest id and the escalation history) is
    # trusted before it is read again; every cached result is keyed on it.
    version_ttl_s: float = 1.0
    cache_entries: int = 1024  # the most results kept in memory (least recently used go)
    capacity_replications: int = 10  # replications per capacity scenario run from the web
    # At start-up, when the warehouse's precomputed leagues are not current, compute the
    # latest period's pages in the background.
    prewarm: bool = True
    # Serve the league tables the ingest precomputed (fourhour.web.precompute) when current.
    precomputed: bool = True
    # Keep what the cache holds out of Python's full garbage collections (`ResultCache`):
    # `fourhour serve` turns it on; a process that builds many sites (the tests) leaves it off.
    freeze_cached: bool = False
