"""Disclosure control for figures from patient-level data (DOMAIN.md, "Disclosure control").

Below national level, counts follow NHS Digital's HES/ECDS convention: 0 stays 0, 1 to 7 is
shown as "*", and anything else is rounded to the nearest 5. Percentages are computed from the
exact counts but shown to one decimal place, and withheld ("*") with the times in the
department wherever the attendances behind them are 1 to 7. National figures are shown exactly.
Authorised analysts may ask for exact figures everywhere (`--exact`); the output then says so.
"""

from __future__ import annotations

import pandas as pd

SUPPRESSED = "*"
SMALL = 7


def protect_count(n: int) -> int | str:
    if n == 0:
        return 0
    if n <= SMALL:
        return SUPPRESSED
    return int(5 * ((n + 2) // 5))  # the nearest multiple of 5 (counts are whole numbers)


def protect(
    table: pd.DataFrame,
    count_columns: tuple[str, ...],
    share_columns: dict[str, str],
    exact: bool = False,
) -> pd.DataFrame:
    """A copy of `table` safe to publish. `share_columns` maps each percentage or time column
    to the count it is based on."""
    out = table.copy()
    out["disclosure"] = "exact (authorised)" if exact else "protected below national level"
    if exact:
        return out
    below = out["level"] != "national"
    for c in count_columns:
        out[c] = out[c].astype(object)
        out.loc[below, c] = [protect_count(int(v)) for v in table.loc[below, c]]
    for c, base in share_columns.items():
        values = table[c].round(1).astype(object)
        small = below & table[base].between(1, SMALL)
        values[small] = SUPPRESSED
        out[c] = values
    return out
