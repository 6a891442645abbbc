"""The patient-level attendance schema (one row per A&E attendance, as in ECDS).

| column | required | type | accepted values |
| --- | --- | --- | --- |
| attendance_id | yes | text | unique across everything stored |
| provider_code | yes | text | an ODS trust code (letters and digits) |
| site_code | yes | text | the A&E site's code |
| department_type | yes | 1-4 | `1`, `01`, ... `04` (NHS Data Dictionary types) |
| arrival | yes | date-time | `YYYY-MM-DD HH:MM[:SS]` (or with `T`), `DD/MM/YYYY HH:MM[:SS]` |
| decision_to_admit | no | date-time | as arrival; blank when there was none |
| departure | yes | date-time | admission, transfer or discharge; not before arrival |
| disposal | yes | text | `admitted` or `not_admitted` (also `Y`/`N`, `true`/`false`, `1`/`0`) |
| age_band | no | text | e.g. `0-4`, `85+` |
| acuity | no | 1-5 | the initial assessment's acuity |

Times are local clock times as recorded. Parquet inputs may carry timestamps, integers and
booleans natively; CSV inputs are text. The stored form (Parquet, in the patient store next to
the warehouse) adds `source_row`, the row's line in the file it came from.
"""

from __future__ import annotations

import pyarrow as pa

REQUIRED = (
    "attendance_id",
    "provider_code",
    "site_code",
    "department_type",
    "arrival",
    "departure",
    "disposal",
)
COLUMNS = (*REQUIRED[:5], "decision_to_admit", *REQUIRED[5:], "age_band", "acuity")

STORED = pa.schema(
    [
        ("attendance_id", pa.string()),
        ("provider_code", pa.string()),
        ("site_code", pa.string()),
        ("department_type", pa.int8()),
        ("arrival", pa.timestamp("s")),
        ("decision_to_admit", pa.timestamp("s")),
        ("departure", pa.timestamp("s")),
        ("admitted", pa.bool_()),
        ("age_band", pa.string()),
        ("acuity", pa.int8()),
        ("source_row", pa.int64()),
    ]
)

TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
)
ADMITTED = {"admitted": True, "y": True, "yes": True, "true": True, "1": True}
NOT_ADMITTED = {
    "not_admitted": False,
    "not admitted": False,
    "n": False,
    "no": False,
    "false": False,
    "0": False,
}
