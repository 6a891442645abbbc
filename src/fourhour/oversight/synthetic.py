"""SYNTHETIC oversight inputs for the demo: a dated mapping, leaders, trajectories, allocations.

Made from a warehouse holding the synthetic weekly returns (fourhour.ingest.synthetic), so that
the demo runs the whole oversight stage offline. Every name is invented and marked synthetic;
region codes and names are NHS England's real seven regions.

- SYNTHETIC-Org-Hierarchy.csv: each provider's system as a sustainability and transformation
  partnership (April 2016 to June 2022) and then an integrated care board (from July 2022).
- SYNTHETIC-Leaders.csv: a national leader, regional directors, system chairs, chief
  executives (one chief executive changes mid-year, to show dated appointments).
- SYNTHETIC-Trajectories.csv: for the financial year of the latest week, each trust's monthly
  trajectory: its performance in the same month a year earlier plus an agreed improvement
  (1 to 3 points), capped at 95%.
- SYNTHETIC-Allocations.csv: an allocation per trust for that year, about £12 per attendance.
- SYNTHETIC-Funding-Rules.toml: an illustrative A&E incentive fund with the 2017/18 shares.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from fourhour.periods import fy_start_year
from fourhour.warehouse import Warehouse
from fourhour.warehouse.connection import one_row

REGION_CODES = {
    "London": "Y56",
    "South West": "Y58",
    "South East": "Y59",
    "Midlands": "Y60",
    "East of England": "Y61",
    "North West": "Y62",
    "North East and Yorkshire": "Y63",
}
FIRST = [
    "Amira",
    "Jane",
    "Owen",
    "Priya",
    "Tom",
    "Grace",
    "Daniel",
    "Ruth",
    "Imran",
    "Helen",
    "Kwame",
    "Sarah",
    "Patrick",
    "Mei",
    "Rhys",
    "Fatima",
    "Andrew",
    "Chloe",
    "Samuel",
    "Niamh",
    "David",
    "Leah",
    "Oliver",
    "Bethan",
    "Arjun",
    "Laura",
    "Marcus",
    "Zoe",
]
LAST = [
    "Hughes",
    "Patel",
    "Okafor",
    "Wright",
    "Campbell",
    "Ahmed",
    "Lewis",
    "Morgan",
    "Reid",
    "Clarke",
    "Evans",
    "Shah",
    "Murphy",
    "Price",
    "Bennett",
    "Khan",
    "Walker",
    "Doyle",
    "Harris",
    "Kaur",
    "Fletcher",
    "Byrne",
    "Turner",
    "Chen",
    "Ellis",
    "Barker",
    "Mensah",
]
FUNDING_RULES = """\
# SYNTHETIC: an illustrative A&E incentive fund for the demo, with the 2017/18 STF shares.
[years."{fy}"]
fund = "Illustrative A&E incentive fund (synthetic)"
financial_control_share = 0.70
performance_share = 0.30
ae_share = 0.30
other_shares = {{}}
standard_pct = 95.0
trajectory_tolerance_points = 0.0
q1_paid_for_agreeing_trajectory = true
"""


def _csv(rows: Sequence[Sequence[object]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def generate_oversight_inputs(wh: Warehouse, out_dir: Path, seed: int = 2014) -> dict[str, Path]:
    """Write the five files into `out_dir`; returns them by kind."""
    rng = np.random.default_rng(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    providers = wh.con.execute(
        """
        SELECT o.code, o.name,
          (SELECT arg_max(parent_code, as_of) FROM org_relations r
           WHERE r.child_code = o.code AND relation = 'system') AS system_code,
          (SELECT arg_max(parent_name, as_of) FROM org_relations r
           WHERE r.child_code = o.code AND relation = 'system') AS system_name,
          (SELECT arg_max(parent_name, as_of) FROM org_relations r
           WHERE r.child_code = o.code AND relation = 'region') AS region
        FROM organisations o WHERE o.kind = 'provider' AND o.code LIKE 'ZS%' ORDER BY o.code
        """
    ).fetchall()
    if not providers:
        raise ValueError("the warehouse holds no synthetic providers (codes ZS...)")
    files: dict[str, Path] = {}

    hierarchy = [
        [
            "provider_code", "provider_name", "system_code", "system_name", "system_kind",
            "region_code", "region_name", "valid_from", "valid_to", "merged_into",
        ]
    ]  # fmt: skip
    for code, name, system_code, system_name, region in providers:
        place = system_name.replace("NHS ", "").replace(" Integrated Care Board (synthetic)", "")
        rc = REGION_CODES[region]
        hierarchy.append(
            [code, name, system_code.replace("ZI", "ZP"),
             f"{place} Sustainability and Transformation Partnership (synthetic)", "stp",
             rc, region, "2016-04-01", "2022-06-30", ""]
        )  # fmt: skip
        hierarchy.append(
            [code, name, system_code, system_name, "icb", rc, region, "2022-07-01", "", ""]
        )
    files["hierarchy"] = out_dir / "SYNTHETIC-Org-Hierarchy.csv"
    files["hierarchy"].write_text(_csv(hierarchy), encoding="utf-8")

    def person() -> str:
        return f"{rng.choice(FIRST)} {rng.choice(LAST)} (synthetic)"

    leaders = [["role", "org_code", "name", "valid_from", "valid_to"]]
    leaders.append(["national_leader", "ENGLAND", person(), "2016-04-01", ""])
    for region, rc in sorted(REGION_CODES.items(), key=lambda kv: kv[1]):
        if any(p[4] == region for p in providers):
            leaders.append(["regional_director", rc, person(), "2016-04-01", ""])
    for system_code in sorted({p[2] for p in providers}):
        leaders.append(["system_chair", system_code, person(), "2022-07-01", ""])
    latest = one_row(
        wh.con.execute("SELECT max(period_end) FROM provider_returns WHERE granularity = 'week'")
    )[0]
    fy = fy_start_year(latest)  # trajectories for the latest year, from the year before
    change = dt.date(fy, 10, 1)
    for i, (code, *_rest) in enumerate(providers):
        if i == 0:  # one chief executive leaves half way through the year
            leaders.append(["trust_chief_executive", code, person(), "2019-04-01",
                            str(change - dt.timedelta(days=1))])  # fmt: skip
            leaders.append(["trust_chief_executive", code, person(), str(change), ""])
        else:
            leaders.append(["trust_chief_executive", code, person(), "2019-04-01", ""])
    files["leaders"] = out_dir / "SYNTHETIC-Leaders.csv"
    files["leaders"].write_text(_csv(leaders), encoding="utf-8")

    # Monthly performance a year before the trajectory year, from weekly returns.
    base = wh.con.execute(
        """
        SELECT org_code, month(period_end) AS m,
               100.0 * (1 - sum(br_type1 + br_type2 + br_type3)
                        / sum(att_type1 + att_type2 + att_type3)) AS pct,
               sum(att_type1 + att_type2 + att_type3) AS att
        FROM provider_returns
        WHERE granularity = 'week' AND period_end BETWEEN ? AND ?
        GROUP BY 1, 2
        """,
        [dt.date(fy - 1, 4, 1), dt.date(fy, 3, 31)],
    ).fetchall()
    by_trust: dict[str, dict[int, tuple[float, float]]] = {}
    for code, m, pct, att in base:
        by_trust.setdefault(code, {})[m] = (float(pct), float(att))
    trajectories = [["trust_code", "month", "trajectory_pct"]]
    allocations = [["trust_code", "financial_year", "allocation_gbp"]]
    label = f"{fy}-{(fy + 1) % 100:02d}"
    for code, *_rest in providers:
        months = by_trust.get(code)
        if not months or len(months) < 12:
            continue
        uplift = float(rng.choice([1.0, 1.5, 2.0, 2.5, 3.0]))
        for i in range(12):
            year, month = (fy, 4 + i) if i < 9 else (fy + 1, i - 8)
            target = min(95.0, months[month][0] + uplift)
            trajectories.append([code, f"{year}-{month:02d}", f"{target:.1f}"])
        attendances = sum(a for _, a in months.values())
        allocations.append([code, label, f"{round(attendances * 12, -3):.0f}"])
    files["trajectories"] = out_dir / "SYNTHETIC-Trajectories.csv"
    files["trajectories"].write_text(_csv(trajectories), encoding="utf-8")
    files["allocations"] = out_dir / "SYNTHETIC-Allocations.csv"
    files["allocations"].write_text(_csv(allocations), encoding="utf-8")
    files["funding_rules"] = out_dir / "SYNTHETIC-Funding-Rules.toml"
    files["funding_rules"].write_text(FUNDING_RULES.format(fy=label), encoding="utf-8")
    return files


def last_complete_quarter(latest_week: dt.date) -> str:
    """The last quarter whose weeks the returns cover (its last week ends within a week of the
    quarter's end), e.g. 2024-25Q4 for a latest week ending 30 March 2025."""
    day = latest_week + dt.timedelta(days=7)
    fy = fy_start_year(day)
    q = (day.month - 4) % 12 // 3 + 1  # the quarter `day` falls in
    fy, q = (fy, q - 1) if q > 1 else (fy - 1, 4)
    return f"{fy}-{(fy + 1) % 100:02d}Q{q}"
