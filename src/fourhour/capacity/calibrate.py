"""Fit a scenario to one provider's observed returns in the warehouse.

From the latest 12 months of monthly returns (else the latest 52 weeks of weekly returns):
- arrivals a day = (type 1 + type 3/4 attendances) / days; the type 3 share sets the UTC's
  streaming (minors at least that share); with 12 months, the month profile;
- the majors' admission probability, so that the model's type 1 admission rate equals the
  observed emergency admissions via type 1 A&E over type 1 attendances;
- direct admissions a day = other emergency admissions (and those via type 2-4) / days.
From the daily bed sitreps (bed_occupancy), the days nearest that period (up to a year):
- core beds = mean G&A beds open (core, where published apart from escalation);
- the mean length of stay by Little's law: mean occupied beds / admissions a day, less the
  mean wait for the discharge window, refined by two short pilot runs with beds to spare so
  that the simulated mean occupied beds equal the observed; the template's coefficient of
  variation is kept.
Where no bed figures exist, beds are set so the expected occupancy is 92% (NHS guidance's
ceiling) with the template's length of stay, and the notes say so. Everything else comes from
the template (the default trust unless one is given).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from fourhour.capacity.inputs import admissions_per_day, mean_discharge_delay_days
from fourhour.capacity.scenario import (
    Scenario,
    default_scenario,
    dump_scenario,
    with_length_of_stay,
    with_total_beds,
)
from fourhour.capacity.simulate import simulate
from fourhour.errors import FourhourError

TARGET_OCCUPANCY = 0.92  # used only where the warehouse has no bed figures
MONTHS = 12
WEEKS = 52
MIN_STAY_DAYS = 0.25
PILOT_REPLICATIONS = 4  # for fitting the length of stay to the observed occupied beds


class CalibrationError(FourhourError):
    """The warehouse holds too little about the provider to fit a scenario."""

    exit_code = 5


@dataclass
class Calibration:
    provider: str
    scenario: Scenario
    observed: dict[str, float | str | None]
    notes: list[str] = field(default_factory=list)

    def toml(self) -> str:
        o = self.observed
        header = [
            f"fourhour capacity scenario for {self.provider}, fitted by `fourhour calibrate`",
            f"to its {o['granularity']}ly returns {o['period_from']} to {o['period_to']} "
            f"({o['days']} days){' and bed sitreps' if o.get('beds_days') else ''}.",
            "Observed: "
            + ", ".join(
                f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}"
                for k, v in o.items()
                if k in ("type1_pct", "all_types_pct", "occupancy_pct", "dta_over_12h_per_day")
                and v is not None
            ),
            *self.notes,
            "Settings not fitted come from the template (see the default trust for each one).",
        ]
        return "\n".join(f"# {line}" for line in header) + "\n\n" + dump_scenario(self.scenario)


def _sum(frame: pd.DataFrame, col: str) -> float | None:
    if col not in frame or frame[col].isna().all():
        return None
    return float(frame[col].fillna(0).sum())


def _returns(con, provider: str) -> tuple[pd.DataFrame, str]:
    for granularity, count in (("month", MONTHS), ("week", WEEKS)):
        frame = con.execute(
            "SELECT * FROM provider_returns WHERE upper(org_code) = ? AND granularity = ? "
            "ORDER BY period_end DESC LIMIT ?",
            [provider, granularity, count],
        ).df()
        if not frame.empty:
            return frame.sort_values("period_end", ignore_index=True), granularity
    raise CalibrationError(
        f"the warehouse has no returns for provider {provider!r}",
        hint="check the code (`fourhour measures --level provider`) or ingest its returns",
    )


def _beds(con, provider: str, start: dt.date, end: dt.date) -> pd.DataFrame:
    frame = con.execute(
        "SELECT date, ga_beds_open, ga_beds_occupied, ga_core_beds_open, ga_escalation_beds_open "
        "FROM bed_occupancy WHERE upper(org_code) = ? AND ga_beds_open IS NOT NULL "
        "AND ga_beds_occupied IS NOT NULL ORDER BY date",
        [provider],
    ).df()
    if frame.empty:
        return frame
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    inside = frame[(frame["date"] >= start) & (frame["date"] <= end)]
    if not inside.empty:
        return inside
    # the nearest year of figures before (else after) the period
    before = frame[frame["date"] < start]
    part = before if not before.empty else frame
    last = part["date"].max() if not before.empty else part["date"].min() + dt.timedelta(364)
    return part[(part["date"] > last - dt.timedelta(days=365)) & (part["date"] <= last)]


def calibrate(wh, provider: str, template: Scenario | None = None) -> Calibration:
    """A scenario for `provider` fitted to the warehouse's returns and bed figures."""
    provider = provider.strip().upper()
    s = template or default_scenario()
    notes: list[str] = []
    returns, granularity = _returns(wh.con, provider)
    starts = pd.to_datetime(returns["period_start"]).dt.date
    ends = pd.to_datetime(returns["period_end"]).dt.date
    days = int(sum((e - b).days + 1 for b, e in zip(starts, ends, strict=True)))
    att1, att3 = _sum(returns, "att_type1") or 0.0, _sum(returns, "att_type3") or 0.0
    if att1 <= 0:
        raise CalibrationError(
            f"provider {provider} reports no type 1 attendances in its latest {granularity}ly "
            "returns; the capacity model is of a trust with a major (type 1) A&E"
        )
    per_day = round((att1 + att3) / days, 2)
    share3 = att3 / (att1 + att3)
    minor_share = round(min(0.95, max(s.arrivals.minor_share, share3)), 4)
    streaming = round(share3 / minor_share, 4) if share3 > 0 else 0.0
    arrivals = dataclasses.replace(s.arrivals, per_day=per_day, minor_share=minor_share)
    if granularity == "month" and len(returns) == MONTHS:
        by_month = {b.month: 0.0 for b in starts}
        for b, e, a in zip(
            starts,
            ends,
            returns["att_type1"].fillna(0) + returns["att_type3"].fillna(0),
            strict=True,
        ):
            by_month[b.month] = float(a) / ((e - b).days + 1)
        if len(by_month) == MONTHS and all(v > 0 for v in by_month.values()):
            mean = sum(by_month.values()) / MONTHS
            arrivals = dataclasses.replace(
                arrivals, month_profile=tuple(round(by_month[m] / mean, 3) for m in range(1, 13))
            )

    # the department's cubicles (and corridor places) in proportion to its arrivals
    scale = per_day / s.arrivals.per_day if s.arrivals.per_day > 0 else 1.0

    adm1 = _sum(returns, "adm_type1")
    ed = dataclasses.replace(
        s.ed, cubicles=round(s.ed.cubicles * scale), corridor=round(s.ed.corridor * scale)
    )
    m, u = 1 - minor_share, minor_share * (1 - streaming)
    if adm1 is None:
        notes.append("No admissions via type 1 A&E published: admission probabilities kept.")
    else:
        rate1 = adm1 / att1
        p_major = (rate1 * (m + u) - u * ed.minors_admitted) / m
        ed = dataclasses.replace(ed, majors_admitted=round(min(1.0, max(0.0, p_major)), 4))
    other = [_sum(returns, c) for c in ("adm_other", "adm_type2", "adm_type3")]
    direct = round(sum(v for v in other if v is not None) / days, 2)
    if other[0] is None:
        notes.append(
            "No other emergency admissions published: direct admissions are those "
            "via type 2-4 A&E only."
        )
    fitted = s.replace(
        name=f"{provider} (calibrated, SYNTHETIC)",
        trust=dataclasses.replace(
            s.trust,
            provider_code=provider,
            site_code=f"{provider}-T1",
            utc_site_code=f"{provider}-UTC",
        ),
        period=dataclasses.replace(s.period, start=starts.iloc[0], days=days),
        arrivals=arrivals,
        ed=ed,
        utc=dataclasses.replace(s.utc, streaming_share=streaming),
        direct_admissions=dataclasses.replace(s.direct_admissions, per_day=direct),
    )

    lam = admissions_per_day(fitted)
    delay = mean_discharge_delay_days(fitted)
    template_stay = sum(p.share * p.los_days.mean for p in s.pools)
    beds = _beds(wh.con, provider, starts.iloc[0], ends.iloc[-1])
    occupancy = None
    if beds.empty:
        core = round(lam * (template_stay + delay) / TARGET_OCCUPANCY)
        fitted = _scaled_escalation(with_total_beds(fitted, max(core, len(s.pools))), s)
        notes.append(
            f"No bed figures for {provider}: {fitted.beds} beds set for "
            f"{TARGET_OCCUPANCY:.0%} expected occupancy with the template's length of stay."
        )
    else:
        core_col = "ga_core_beds_open" if beds["ga_core_beds_open"].notna().all() else None
        core = float(beds[core_col or "ga_beds_open"].mean())
        occupied = float(beds["ga_beds_occupied"].mean())
        occupancy = 100 * occupied / float(beds["ga_beds_open"].mean())
        fitted = with_total_beds(fitted, max(round(core), len(s.pools)))
        if not core_col:
            fitted = _scaled_escalation(fitted, s)
        else:
            esc = float(beds["ga_escalation_beds_open"].fillna(0).mean())
            share = [p.beds / fitted.beds for p in fitted.pools]
            pools = tuple(
                dataclasses.replace(p, escalation_beds=round(esc * w))
                for p, w in zip(fitted.pools, share, strict=True)
            )
            fitted = fitted.replace(pools=pools)
        stay = max(MIN_STAY_DAYS, occupied / lam - delay)
        fitted = _fit_stay(with_length_of_stay(fitted, stay / template_stay), occupied, lam)
        b0, b1 = beds["date"].min(), beds["date"].max()
        if b0 > ends.iloc[-1] or b1 < starts.iloc[0]:
            notes.append(f"Bed figures from {b0} to {b1}, outside the returns' period.")
    observed: dict[str, float | str | None] = {
        "granularity": granularity,
        "period_from": str(starts.iloc[0]),
        "period_to": str(ends.iloc[-1]),
        "days": days,
        "attendances_per_day": per_day,
        "type1_pct": _pct(returns, ("br_type1",), ("att_type1",)),
        "all_types_pct": _pct(
            returns, ("br_type1", "br_type2", "br_type3"), ("att_type1", "att_type2", "att_type3")
        ),
        "type1_admission_pct": None if adm1 is None else 100 * adm1 / att1,
        "direct_per_day": direct,
        "dta_over_12h_per_day": None
        if _sum(returns, "dta_over_12h") is None
        else (_sum(returns, "dta_over_12h") or 0) / days,
        "beds": None if beds.empty else float(fitted.beds),
        "beds_days": 0 if beds.empty else len(beds),
        "occupancy_pct": occupancy,
    }
    return Calibration(provider, fitted, observed, notes)


def _occupied_with_beds_to_spare(s: Scenario) -> float:
    return simulate(with_total_beds(s, 3 * s.beds), PILOT_REPLICATIONS).interval("beds_l").mean


def _fit_stay(s: Scenario, occupied: float, per_day: float) -> Scenario:
    """Refine the stay so the mean occupied beds (with beds to spare) equal the observed ones:
    two pilot runs and a secant step, as the discharge window's delay depends on the stay."""
    mean = sum(p.share * p.los_days.mean for p in s.pools)
    first = _occupied_with_beds_to_spare(s)
    step = max(MIN_STAY_DAYS, mean + (occupied - first) / per_day)
    second_s = with_length_of_stay(s, step / mean)
    second = _occupied_with_beds_to_spare(second_s)
    if abs(second - first) < 1e-9:
        return second_s
    best = mean + (step - mean) * (occupied - first) / (second - first)
    return with_length_of_stay(s, round(max(MIN_STAY_DAYS, best), 3) / mean)


def _scaled_escalation(fitted: Scenario, template: Scenario) -> Scenario:
    """Each pool's escalation beds in proportion to its core beds, as in the template."""
    pools = tuple(
        dataclasses.replace(p, escalation_beds=round(q.escalation_beds * p.beds / q.beds))
        for p, q in zip(fitted.pools, template.pools, strict=True)
    )
    return fitted.replace(pools=pools)


def _pct(frame: pd.DataFrame, breaches: tuple[str, ...], atts: tuple[str, ...]) -> float | None:
    b = sum(_sum(frame, c) or 0.0 for c in breaches)
    a = sum(_sum(frame, c) or 0.0 for c in atts)
    if a <= 0 or all(_sum(frame, c) is None for c in breaches):
        return None
    return 100 * (1 - b / a)
