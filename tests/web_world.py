"""A small synthetic warehouse for the web tests: 24 providers over two years (the package's own
generator), their dated mapping, leaders, trajectories, allocations and funding rules, one
recorded escalation run, and a synthetic week of patient-level records."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fourhour.ingest.patients.synthetic import generate_year
from fourhour.ingest.synthetic import generate_weekly_returns
from fourhour.oversight.config import load_escalation_rules
from fourhour.oversight.escalation import evaluate
from fourhour.oversight.escalation_store import record_run
from fourhour.oversight.leaders import import_leaders
from fourhour.oversight.synthetic import generate_oversight_inputs
from fourhour.oversight.trajectories import import_allocations, import_trajectories
from fourhour.warehouse import open_warehouse
from fourhour.warehouse.hierarchy import import_mapping
from fourhour.warehouse.load import ingest_file
from fourhour.warehouse.patients import ingest_patients
from fourhour.web.app import create_app
from fourhour.web.config import WebConfig

LAST = dt.date(2025, 3, 30)  # the synthetic set's last week
PROVIDERS = 24
WEEKS = 104  # two years: the trajectories are last year's performance plus a little


def build(root: Path, *, patients: bool = True) -> tuple[Path, Path]:
    """The warehouse and the funding rules file that covers its last year."""
    files = generate_weekly_returns(root / "data", providers=PROVIDERS, weeks=WEEKS, seed=7)
    path = root / "web.duckdb"
    with open_warehouse(path) as wh:
        for f in files:
            ingest_file(wh, f)
        inputs = generate_oversight_inputs(wh, root / "data", seed=7)
        import_mapping(wh, inputs["hierarchy"])
        import_leaders(wh, inputs["leaders"])
        import_trajectories(wh, inputs["trajectories"])
        import_allocations(wh, inputs["allocations"])
        record_run(wh, evaluate(wh, LAST, load_escalation_rules()))
        if patients:
            for f in generate_year(
                root / "patients", rows=20_000, start=LAST - dt.timedelta(days=6), days=7,
                n_providers=PROVIDERS, seed=7,
            ):  # fmt: skip
                ingest_patients(wh, f)
    return path, inputs["funding_rules"]


def config(path: Path, rules: Path, **changes: object) -> WebConfig:
    base = {
        "warehouse": path,
        "funding_rules": rules,
        "prewarm": False,
        "idle_release_s": 0.3,
        "version_ttl_s": 0.0,
        "capacity_replications": 2,
    }
    base.update(changes)
    return WebConfig(**base)  # type: ignore[arg-type]


def app_for(path: Path, rules: Path, **changes: object):  # returns a FastAPI app
    return create_app(config(path, rules, **changes))
