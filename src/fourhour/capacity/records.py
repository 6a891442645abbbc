"""A simulated trust's attendances as patient-level records in fourhour's schema
(ingest/patients/schema.py), so that `fourhour patients ingest` reads them and the whole
pipeline runs on a simulated trust.

One replication's attendances that arrive in the measured period: type 1 at the trust's site,
streamed minors at the UTC's site (type 3). Times are clock times from the period's calendar,
in whole seconds, written so that each record's whole minutes in the department and from
decision to admit are exactly the engine's (so the pipeline's counts equal the simulator's).
Patients still in the department when the run stopped leave at the stop, as the engine counts
them. Acuity is drawn for show (majors 1-3, minors 4-5) and plays no part in the model; age
bands are left blank. Every identifier says SIM.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from fourhour.capacity import engine
from fourhour.capacity.inputs import P_T0, P_T1, P_TSTOP, engine_inputs
from fourhour.capacity.scenario import Scenario
from fourhour.capacity.simulate import replication_seeds
from fourhour.errors import InvalidInputError

RECORD_FORMATS = (".parquet", ".csv")
_MAJOR_ACUITY = ((1, 2, 3), (0.05, 0.35, 0.60))
_MINOR_ACUITY = ((4, 5), (0.7, 0.3))


def patient_records(
    scenario: Scenario, *, replication: int = 0, seed: int | None = None
) -> pd.DataFrame:
    """The attendances of one replication (0-based), in the patient-level schema's columns."""
    inputs = engine_inputs(scenario)
    seeds = replication_seeds(scenario.seed if seed is None else seed, replication + 1)
    rep_seed = int(seeds[replication])
    _, _, arr, dta, dep, kind, minor, admit = engine.simulate_one(rep_seed, *inputs.args())
    p = inputs.params
    keep = (kind != engine.DIRECT) & (arr >= p[P_T0]) & (arr < p[P_T1])
    arr, dta, dep = arr[keep], dta[keep], dep[keep]
    kind, minor, admit = kind[keep], minor[keep], admit[keep]
    dep = np.where(dep < 0, p[P_TSTOP], dep)

    arr_s = np.round(arr * 60).astype(np.int64)
    dep_s = arr_s + np.floor((dep - arr) * 60).astype(np.int64)
    has_dta = dta >= 0
    dta_s = dep_s - np.floor((dep - np.where(has_dta, dta, dep)) * 60).astype(np.int64)
    origin = np.datetime64(inputs.day0, "s")
    rng = np.random.default_rng(rep_seed)
    acuity = np.where(
        minor == 1,
        rng.choice(_MINOR_ACUITY[0], size=len(arr), p=_MINOR_ACUITY[1]),
        rng.choice(_MAJOR_ACUITY[0], size=len(arr), p=_MAJOR_ACUITY[1]),
    )
    t = scenario.trust
    frame = pd.DataFrame(
        {
            "attendance_id": [f"SIM-{t.provider_code}-{rep_seed}-{i:07d}" for i in range(len(arr))],
            "provider_code": t.provider_code,
            "site_code": np.where(kind == engine.TYPE3, t.utc_site_code, t.site_code),
            "department_type": kind.astype(np.int8),
            "arrival": origin + arr_s.astype("timedelta64[s]"),
            "decision_to_admit": pd.Series(
                np.where(has_dta, origin + dta_s.astype("timedelta64[s]"), np.datetime64("NaT"))
            ),
            "departure": origin + dep_s.astype("timedelta64[s]"),
            "disposal": np.where(admit == engine.NOT_ADMITTED, "not_admitted", "admitted"),
            "age_band": pd.Series([None] * len(arr), dtype="object"),
            "acuity": acuity.astype(np.int8),
        }
    )
    return frame.sort_values("arrival", kind="stable", ignore_index=True)


def check_records_path(path: Path | str) -> Path:
    """The records file's suffix names a format fourhour writes (.parquet or .csv)."""
    path = Path(path)
    if path.suffix.lower() not in RECORD_FORMATS:
        raise InvalidInputError(
            f"cannot write records to {path.name!r}; expected a file ending "
            f"{' or '.join(RECORD_FORMATS)}"
        )
    return path


def write_records(frame: pd.DataFrame, path: Path | str) -> Path:
    """Parquet (native timestamps) or CSV (`YYYY-MM-DD HH:MM:SS`, blank where none) by suffix."""
    path = check_records_path(path)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        table = pa.Table.from_pandas(frame, preserve_index=False).cast(
            pa.schema(
                [
                    ("attendance_id", pa.string()),
                    ("provider_code", pa.string()),
                    ("site_code", pa.string()),
                    ("department_type", pa.int8()),
                    ("arrival", pa.timestamp("s")),
                    ("decision_to_admit", pa.timestamp("s")),
                    ("departure", pa.timestamp("s")),
                    ("disposal", pa.string()),
                    ("age_band", pa.string()),
                    ("acuity", pa.int8()),
                ]
            )
        )
        pq.write_table(table, path)
    else:
        out = frame.copy()
        for col in ("arrival", "decision_to_admit", "departure"):
            out[col] = out[col].dt.strftime("%Y-%m-%d %H:%M:%S").fillna("")
        out.to_csv(path, index=False)
    return path
