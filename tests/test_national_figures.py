"""England computed from provider rows against NHS England's published national time series,
month by month, and the bulletin's national figures on the real data (../shared/data).

Tolerances, from what the files hold (see docs/layouts.md, "Checked against NHS England"):
- April 2019 - March 2023 (the MSitAE files, with the field-test rule): the published series
  is built from the same returns, so attendances are equal and percentages equal to
  floating-point precision.
- April 2016 - March 2019 (NHS-R's tidy copy): 33 of 36 months are exact; NHS England's
  later series revised one breach in July and August 2017 and 109 breaches and one
  attendance in March 2019. The largest difference is 0.008 points (type 1, March 2019), so
  percentages must agree within 0.01 points and attendances within 0.001%.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from fourhour import periods
from fourhour.measures import england, measure_table
from fourhour.measures.performance import FIELD_TEST_END, FIELD_TEST_START
from fourhour.report.bulletin import build_bulletin, render
from fourhour.warehouse import open_warehouse

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

MSITAE_FROM = dt.date(2019, 4, 1)
EXACT_POINTS = 1e-9
NHSR_POINTS = 0.01
NHSR_ATTENDANCES = 1e-5
FIELD_TEST_TRUSTS = {
    "RGT", "RYJ", "RQM", "RDU", "RNQ", "RXF", "RVW", "RX1", "RK9", "R0D", "RHU", "RFR", "RGR",
    "RC9",
}  # fmt: skip


def published_series(wh) -> dict[dt.date, dict]:
    """Month -> NHS England's published England figures, computed here from the time series'
    own counts (within and over four hours; attendances from its Activity sheet)."""
    rows = wh.con.execute(
        """
        SELECT t.period_start,
               t.att_type1 + t.att_type2 + t.att_type3, t.att_type1,
               100 * (t.within_type1 + t.within_type2 + t.within_type3)
                   / (t.within_type1 + t.within_type2 + t.within_type3
                      + t.br_type1 + t.br_type2 + t.br_type3),
               100 * t.within_type1 / (t.within_type1 + t.br_type1)
        FROM published_totals t JOIN ingest_log l USING (ingest_id)
        WHERE l.layout = 'nhse-england-timeseries' AND t.area = 'ENGLAND'
          AND t.granularity = 'month' AND t.within_type1 IS NOT NULL
        """
    ).fetchall()
    return {r[0]: {"att": r[1], "att1": r[2], "pct": r[3], "pct1": r[4]} for r in rows}


def test_england_from_providers_equals_the_published_series_every_month(
    real_warehouse: Path, record_property: pytest.RecordProperty
) -> None:
    with open_warehouse(real_warehouse, read_only=True) as wh:
        published = published_series(wh)
        held = [
            r[0]
            for r in wh.con.execute(
                "SELECT DISTINCT period_start FROM provider_returns WHERE granularity = 'month' "
                "ORDER BY 1"
            ).fetchall()
        ]
        months = [m for m in held if m in published]
        ours = {m: england(wh, periods.month(m.year, m.month)).iloc[0] for m in months}
    # Every month where both exist: April 2016 - March 2023 (the series ends September 2023,
    # the provider files resume in November 2023).
    assert months[0] == dt.date(2016, 4, 1) and months[-1] == dt.date(2023, 3, 1)
    assert len(months) == 84
    worst = (0.0, None, None)
    exact = 0
    for m in months:
        e, p = ours[m], published[m]
        assert e.source == "provider returns", m
        diffs = {
            "all types": float(e.all_types_performance_pct) - p["pct"],
            "type 1": float(e.type1_performance_pct) - p["pct1"],
        }
        points = NHSR_POINTS if m < MSITAE_FROM else EXACT_POINTS
        for what, d in diffs.items():
            assert abs(d) <= points, f"{m:%B %Y} {what}: {d:+.6f} points"
            if abs(d) > abs(worst[0]):
                worst = (d, m, what)
        for ours_att, theirs in (
            (e.all_types_attendances, p["att"]),
            (e.type1_attendances, p["att1"]),
        ):
            if m >= MSITAE_FROM:
                assert ours_att == theirs, m
            else:
                assert abs(ours_att - theirs) <= NHSR_ATTENDANCES * theirs, m
        exact += all(abs(d) < EXACT_POINTS for d in diffs.values())
    assert exact >= 81  # all but July 2017, August 2017 and March 2019
    d, m, what = worst
    message = f"largest difference: {d:+.4f} points ({what}, {m:%B %Y}); {exact} of 84 exact"
    print(message)
    record_property("largest_difference", message)


def test_without_the_field_test_rule_england_would_be_points_too_high(
    real_warehouse: Path,
) -> None:
    with open_warehouse(real_warehouse, read_only=True) as wh:
        published = published_series(wh)[dt.date(2021, 1, 1)]
        naive = wh.con.execute(
            "SELECT 100 - 100.0 * sum(br_type1 + br_type2 + br_type3) "
            "/ sum(att_type1 + att_type2 + att_type3) FROM provider_returns "
            "WHERE granularity = 'month' AND period_start = DATE '2021-01-01'"
        ).fetchone()[0]
        e = england(wh, periods.month(2021, 1)).iloc[0]
    assert naive - published["pct"] > 2.0  # 80.9% against the published 78.5%
    assert float(e.all_types_performance_pct) == pytest.approx(published["pct"], abs=1e-9)


def test_the_fourteen_field_test_trusts_are_left_out_and_shown_unpublished(
    real_warehouse: Path,
) -> None:
    june = periods.month(2020, 6)
    with open_warehouse(real_warehouse, read_only=True) as wh:
        providers = measure_table(wh, june, "provider").set_index("code")
        left_out = wh.con.execute(
            "SELECT min(period_end), max(period_end) FROM provider_returns "
            "WHERE granularity = 'month' AND att_type1 > 0 AND br_type1 = 0 "
            "AND br_type2 = 0 AND br_type3 = 0"
        ).fetchone()
        e = england(wh, june).iloc[0]
    active = providers[providers["all_types_attendances"] > 0]
    unpublished = set(active.index[active["all_types_performance_pct"].isna()])
    assert unpublished == FIELD_TEST_TRUSTS - {"R0D"} | {"RD3"}  # Poole, before the merger
    assert (providers.loc["RGT", "all_types_attendances"] or 0) > 0
    assert e.providers_left_out == 14
    # No return outside the field test matches the rule in the monthly files.
    assert left_out[0] >= FIELD_TEST_START and left_out[1] <= FIELD_TEST_END


# --------------------------------------------------------------- the bulletin, era by era


def bulletin(wh, year: int, month: int, fmt: str = "text") -> tuple[dict, str]:
    b = build_bulletin(wh, periods.month(year, month))
    return b, render(b, fmt)


def test_june_2020_is_exact_not_estimated(real_warehouse: Path) -> None:
    with open_warehouse(real_warehouse, read_only=True) as wh:
        b, text = bulletin(wh, 2020, 6)
        published = published_series(wh)[dt.date(2020, 6, 1)]
    assert b["meta"]["breaches_estimated"] is False
    assert b["meta"]["national_apportioned"] is False
    assert "estimated" not in text and "weekly tracker" not in text
    assert b["meta"]["source"] == "provider returns"
    assert b["england"]["all_types"]["performance_pct"] == pytest.approx(published["pct"])
    assert "14 providers field-testing new standards are left out" in text


def test_january_2015_is_apportioned_and_ranks_providers_on_weekly_returns(
    real_warehouse: Path,
) -> None:
    with open_warehouse(real_warehouse, read_only=True) as wh:
        b, text = bulletin(wh, 2015, 1)
        _, html = bulletin(wh, 2015, 1, "html")
        weekly = wh.con.execute(
            "SELECT count(DISTINCT org_code) FROM provider_returns WHERE granularity = 'week' "
            "AND period_end BETWEEN DATE '2015-01-01' AND DATE '2015-01-31'"
        ).fetchone()[0]
    m = b["meta"]
    assert "No provider returns are stored" not in text
    assert m["provider_returns"]["weeks_ending"] == [
        "2015-01-04",
        "2015-01-11",
        "2015-01-18",
        "2015-01-25",
    ]
    assert "weekly returns for the 4 weeks ending 4 January 2015 to 25 January 2015" in text
    assert m["providers_reporting"] == weekly == 140
    assert b["worst_providers"] and b["providers_below_threshold"]["count"] > 0
    # National figures: NHS England's, apportioned from weeks; not the tracker's estimates.
    assert m["source"] == "published national totals" and m["national_apportioned"] is True
    assert "apportioning weekly returns into calendar months" in text
    assert "apportioning weekly returns" in html
    assert m["breaches_estimated"] is False and "weekly tracker" not in text


def test_january_2018_shows_trolley_waits_from_the_national_totals(
    real_warehouse: Path,
) -> None:
    with open_warehouse(real_warehouse, read_only=True) as wh:
        b, text = bulletin(wh, 2018, 1)
        dta = wh.con.execute(
            "SELECT dta_4_12h + dta_over_12h, dta_over_12h FROM published_totals "
            "WHERE area = 'ENGLAND' AND granularity = 'month' AND period_start = '2018-01-01'"
        ).fetchone()
    assert (b["trolley_waits"]["over_4h"], b["trolley_waits"]["over_12h"]) == (81_231, 1_054)
    assert (b["trolley_waits"]["over_4h"], b["trolley_waits"]["over_12h"]) == tuple(
        round(x) for x in dta
    )
    assert b["meta"]["trolley_waits_source"] == "published national totals"
    assert "Trolley waits (NHS England's national totals" in text
    assert b["meta"]["source"] == "provider returns"  # performance stays from providers


def test_no_provider_count_last_year_where_last_year_has_no_provider_returns(
    real_warehouse: Path,
) -> None:
    """September 2023 is held only as national totals: its count is unknown, not 0."""
    with open_warehouse(real_warehouse, read_only=True) as wh:
        b, text = bulletin(wh, 2024, 9)
    assert b["same_period_last_year"]["all_types"]["performance_pct"] is not None
    assert b["providers_below_threshold"]["count_last_year"] is None
    assert "against 0 in the same period last year" not in text
