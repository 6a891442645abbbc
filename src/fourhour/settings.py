"""Settings declared once: name, environment variable, default and help."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from fourhour.errors import WarehouseError


@dataclass(frozen=True)
class Setting:
    name: str
    env: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "warehouse",
        "FOURHOUR_WAREHOUSE",
        "fourhour.duckdb",
        "Path of the DuckDB warehouse file (created on first use).",
    ),
    Setting(
        "lock_wait",
        "FOURHOUR_LOCK_WAIT",
        "10",
        "Seconds to wait while another process is writing to the warehouse before giving up.",
    ),
    Setting(
        "fetch_base_url",
        "FOURHOUR_FETCH_BASE_URL",
        "https://www.england.nhs.uk/statistics/statistical-work-areas/ae-waiting-times-and-activity/",
        "Where `fourhour fetch` looks for NHS England's A&E statistics pages.",
    ),
    Setting(
        "spark_master",
        "FOURHOUR_SPARK_MASTER",
        "local[2]",
        "The Spark master for `--engine spark`: local[N] (the default runs Spark in this "
        "process), or spark://host:7077, yarn, k8s://... for a cluster.",
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def setting(name: str) -> str:
    """The value of a setting: its environment variable if set, else its default."""
    s = _BY_NAME[name]
    return os.environ.get(s.env) or s.default


def warehouse_path(explicit: str | Path | None = None) -> Path:
    """The warehouse to use: an explicit path, else FOURHOUR_WAREHOUSE, else fourhour.duckdb."""
    return Path(explicit) if explicit else Path(setting("warehouse"))


def lock_wait_s() -> float:
    """Seconds to wait for a busy warehouse (the lock_wait setting)."""
    text = setting("lock_wait")
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:  # also refuses NaN
        raise WarehouseError(f"FOURHOUR_LOCK_WAIT={text!r} is not a number of seconds (0 or more)")
    return value
