"""The capacity model against real trusts: for every trust-winter with both bed figures and
four-hour returns for the same weeks or months, calibrate a scenario (calibrate.calibrate) and
simulate it (calibrate.check_fit); count how many reproduce the observed type 1 performance
within VALIDATION_TYPE1_POINTS and the observed occupancy within VALIDATION_OCCUPANCY_POINTS,
and show where the model misses by occupancy."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from fourhour.capacity.calibrate import FIT_TOLERANCE, calibrate, check_fit, winters_with_both
from fourhour.errors import FourhourError

VALIDATION_TYPE1_POINTS = FIT_TOLERANCE["type1_pct"]
VALIDATION_OCCUPANCY_POINTS = FIT_TOLERANCE["occupancy_pct"]
OCCUPANCY_BANDS = (0.0, 90.0, 94.0, 97.0, 200.0)  # observed occupancy bands for the misses


def trust_winters(con, providers=None, winters=None) -> list[tuple[str, str]]:
    """(provider, winter) pairs with both bed figures and returns of the same days, sorted."""
    codes = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT upper(trim(org_code)) FROM bed_occupancy "
            "WHERE org_code NOT IN ('-', '') ORDER BY 1"
        ).fetchall()
    ]
    if providers:
        wanted = {p.strip().upper() for p in providers}
        unknown = wanted - set(codes)
        if unknown:
            raise FourhourError(
                f"no bed figures for {', '.join(sorted(unknown))}: the winter sitreps do not "
                "name them"
            )
        codes = [c for c in codes if c in wanted]
    pairs = []
    for code in codes:
        for winter in winters_with_both(con, code):
            if not winters or winter in winters:
                pairs.append((code, winter))
    return pairs


def spread(pairs: list, limit: int | None) -> list:
    """At most `limit` of the pairs, evenly spaced through the sorted list (deterministic)."""
    if not limit or limit >= len(pairs):
        return pairs
    idx = np.unique(np.linspace(0, len(pairs) - 1, limit).round().astype(int))
    return [pairs[i] for i in idx]


def validation_pairs(
    con,
    providers: list[str] | None = None,
    winters: list[str] | None = None,
    limit: int | None = None,
) -> list[tuple[str, str]]:
    """The trust-winters `validate` goes through (a query, no simulation): refused in one line
    where a provider has no bed figures or none is left."""
    pairs = spread(trust_winters(con, providers, winters), limit)
    if not pairs:
        raise FourhourError(
            "no trust-winter has both bed figures and four-hour returns for the same days",
            hint="ingest the winter sitreps and the returns of the same years",
        )
    return pairs


def validate(
    wh,
    *,
    providers: list[str] | None = None,
    winters: list[str] | None = None,
    limit: int | None = None,
    replications: int = 4,
    progress: Callable[[int, int], None] | None = None,
    pairs: list[tuple[str, str]] | None = None,
) -> pd.DataFrame:
    """One row per trust-winter: observed and simulated type 1 performance, occupancy and
    admissions, whether each is within tolerance, or why it could not be fitted. `pairs`:
    those of `validation_pairs`, where the caller has them already."""
    if pairs is None:
        pairs = validation_pairs(wh.con, providers, winters, limit)
    rows = []
    for i, (code, winter) in enumerate(pairs):
        row: dict[str, object] = {"provider": code, "winter": winter}
        try:
            fit = calibrate(wh, code, winter=winter)
            check = check_fit(fit, replications)
        except FourhourError as exc:
            row["error"] = exc.message
        else:
            o = fit.observed
            by = {r["key"]: r for r in check.rows}
            row.update(
                {
                    "granularity": o["granularity"],
                    "days": o["days"],
                    "beds": fit.scenario.beds,
                    "stay_days": sum(p.share * p.los_days.mean for p in fit.scenario.pools),
                    "occupancy_observed": o["occupancy_pct"],
                    "occupancy_simulated": by["occupancy_pct"]["simulated"],
                    "type1_observed": o["type1_pct"],
                    "type1_simulated": by["type1_pct"]["simulated"],
                    "admissions_observed": o["type1_admissions_per_day"],
                    "admissions_simulated": by["type1_admissions_per_day"]["simulated"],
                    "type1_within": by["type1_pct"]["within"],
                    "occupancy_within": by["occupancy_pct"]["within"],
                    "validated": check.validated,
                    "error": None,
                }
            )
        rows.append(row)
        if progress:
            progress(i + 1, len(pairs))
    return pd.DataFrame(rows)


def summarise(table: pd.DataFrame) -> dict[str, Any]:
    """How many trust-winters the model reproduces, and its misses by observed occupancy."""
    ok = table[table["error"].isna()] if "error" in table else table
    both = ok["type1_within"].astype(bool) & ok["occupancy_within"].astype(bool)
    bands = []
    labels = [
        f"{a:g}-{b:g}%" if b < 200 else f"over {a:g}%"
        for a, b in itertools.pairwise(OCCUPANCY_BANDS)
    ]
    cut = pd.cut(ok["occupancy_observed"], list(OCCUPANCY_BANDS), labels=labels)
    for label in labels:
        part = ok[cut == label]
        if part.empty:
            continue
        err = part["type1_simulated"] - part["type1_observed"]
        bands.append(
            {
                "occupancy": label,
                "trust_winters": len(part),
                "type1_within": int(part["type1_within"].astype(bool).sum()),
                "mean_type1_error": float(err.mean()),
                "mean_abs_type1_error": float(err.abs().mean()),
            }
        )
    return {
        "trust_winters": len(table),
        "fitted": len(ok),
        "not_fitted": len(table) - len(ok),
        "type1_within": int(ok["type1_within"].astype(bool).sum()),
        "occupancy_within": int(ok["occupancy_within"].astype(bool).sum()),
        "both_within": int(both.sum()),
        "type1_points": VALIDATION_TYPE1_POINTS,
        "occupancy_points": VALIDATION_OCCUPANCY_POINTS,
        "by_occupancy": bands,
    }
