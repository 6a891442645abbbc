"""The returns a provider would publish, made from its patient-level records.

`fourhour patients to-returns` writes NHS England's provider sheet for a week or a month from
the patient-level measures, so that records flow into everything built on the returns
(bulletin, oversight, SPC) through `fourhour ingest`, and so that the two sources can be
checked against each other. Returns are aggregate provider figures, published unsuppressed.
"""

from __future__ import annotations

import pandas as pd

from fourhour.ingest.provider_sheet import ProviderReturn, provider_sheet_csv
from fourhour.periods import Period

TITLE = "A&E attendances and emergency admissions, from patient-level records"


def returns_csv(table: pd.DataFrame, period: Period, names: dict[str, str]) -> bytes:
    """Provider rows of the exact patient-level measures for `period`, as a provider sheet."""
    rows = table[
        (table["level"] == "provider")
        & (table["granularity"] == period.granularity)
        & (table["period_start"] == period.start)
    ]
    if rows.empty:
        from fourhour.errors import QueryError

        raise QueryError(f"no patient-level attendances arrived in the {period.label}")
    label = f"WE-{period.end.isoformat()}" if period.granularity == "week" else period.label
    return provider_sheet_csv(
        (
            ProviderReturn(
                code=r["code"],
                region="",
                name=names.get(r["code"]) or r["code"],
                attendances=(
                    r["type1_attendances"],
                    r["type2_attendances"],
                    r["type3_attendances"],
                ),
                breaches=(r["type1_breaches"], r["type2_breaches"], r["type3_breaches"]),
                admissions=(r["type1_admitted"], r["type2_admitted"], r["type3_admitted"]),
                other_admissions=None,
                dta_over_4h=r["dta_4_12h"] + r["dta_over_12h"],
                dta_over_12h=r["dta_over_12h"],
            )
            for r in rows.to_dict("records")
        ),
        title=TITLE,
        period=label,
    )
