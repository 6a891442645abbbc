"""Tier (c) of the capacity model's validation, extreme values, and the engine's invariants:
no admissions means no exit block; (very nearly) infinite beds mean no bed waits; every
arrival leaves; seeded runs are reproducible and pinned; property-based checks on random
small scenarios."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fourhour.capacity import engine
from fourhour.capacity.confidence import mean_interval
from fourhour.capacity.inputs import P_TSTOP, engine_inputs
from fourhour.capacity.scenario import (
    Duration,
    Pool,
    Scenario,
    SimulationWindow,
    default_scenario,
    with_streaming,
    with_total_beds,
)
from fourhour.capacity.simulate import DroppedArrivalsWarning, replication_seeds, simulate

LEVEL = 0.99


def short(s: Scenario, days: int = 56) -> Scenario:
    return s.replace(period=SimulationWindow(s.period.start, days, 14, 2))


def test_no_admissions_means_no_exit_block() -> None:
    s = default_scenario()
    s = s.replace(
        ed=dataclasses.replace(s.ed, majors_admitted=0.0, minors_admitted=0.0),
        direct_admissions=dataclasses.replace(s.direct_admissions, per_day=0.0),
    )
    per = simulate(short(s), 6).per_replication()
    for col in ("admissions_via_ae", "dta_4_12h", "dta_over_12h", "queue_l"):
        assert (per[col] == 0).all(), col
    # the beds empty from their starting census: nothing is admitted to fill them
    assert (per["beds_lambda_w"] == 0).all()


def test_infinite_beds_mean_no_bed_waits() -> None:
    s = with_total_beds(default_scenario(), 5000)
    per = simulate(short(s), 6).per_replication()
    assert (per["waited_for_bed_pct"] == 0).all()
    assert (per["mean_bed_wait_hours"] == 0).all()
    assert (per["dta_over_12h"] == 0).all() and (per["dta_4_12h"] == 0).all()
    assert (per["escalation_beds_in_use"] == 0).all()


def test_infinite_beds_leave_only_the_departments_own_breaches() -> None:
    """With no bed waits and unlimited cubicles, a type 1 patient breaches only if their own
    treatment takes over four hours: the log-normal tail, computed exactly."""
    import math

    s = default_scenario()
    s = with_streaming(with_total_beds(s, 5000), 0.0)
    s = s.replace(ed=dataclasses.replace(s.ed, cubicles=0))
    ci = simulate(short(s, 120), 16).interval("type1_pct", LEVEL)

    def within(d: Duration, minutes: float = 241.0) -> float:  # whole minutes over 240
        sigma2 = math.log1p((d.sd / d.mean) ** 2)
        mu = math.log(d.mean) - sigma2 / 2
        return 0.5 * (1 + math.erf((math.log(minutes) - mu) / math.sqrt(2 * sigma2)))

    m = s.arrivals.minor_share
    expected = 100 * ((1 - m) * within(s.ed.majors_minutes) + m * within(s.ed.minors_minutes))
    assert expected in ci, (expected, ci)


def test_every_arrival_leaves_and_counts_add_up() -> None:
    s = short(default_scenario())
    r = simulate(s, 8)
    raw = r.raw()
    assert (raw["censored"] == 0).all()
    assert (raw["br_type1"] <= raw["att_type1"]).all()
    assert (raw["over_12h_type1"] <= raw["br_type1"]).all()
    assert (raw["dta_over_12h"] + raw["dta_4_12h"] <= raw["dta"]).all()
    assert (r.histograms[:, 0, :].sum(axis=1) == raw["att_type1"] + raw["att_type3"]).all()
    # arrivals: the hourly rates integrated over the period, within the replications' interval
    inputs = engine_inputs(s)
    first, last = (int(inputs.params[i] // 60) for i in (0, 1))
    expected = 60 * inputs.hour_rate[first:last].sum()
    assert expected in mean_interval(raw["att_type1"] + raw["att_type3"], LEVEL)


def test_seeded_runs_are_reproducible_and_independent_of_batching() -> None:
    s = short(default_scenario(), 28)
    a = simulate(s, 4)
    b = simulate(s, 6)
    assert np.array_equal(a.metrics, b.metrics[:4])  # replication r's seed is fixed
    assert not np.array_equal(a.metrics[0], a.metrics[1])
    assert list(replication_seeds(7, 3)) == list(replication_seeds(7, 5)[:3])
    one = engine.simulate_one(a.seeds[2], *engine_inputs(s).args())[0]
    assert np.array_equal(one, a.metrics[2])  # threads do not change a replication


def test_golden_values() -> None:
    """Pinned counts for one seeded replication (numba 0.68.1's generator); a change here
    means the model or its sampling changed: say so in the commit."""
    s = short(default_scenario(), 28).replace(seed=2024)
    m = dict(zip(engine.METRICS, simulate(s, 1).metrics[0], strict=True))
    got = {k: int(m[k]) for k in ("att_type1", "br_type1", "att_type3", "dta", "dta_over_12h")}
    assert got == GOLDEN, got


# Changed when the expected starting census began to use the engine's own discharge rule (the
# numpy copy it replaced kept retesting weekend days already passed: 0.77 days' delay for
# the default trust instead of the rule's 0.51, so a census of 586 instead of 555).
GOLDEN = {"att_type1": 7921, "br_type1": 695, "att_type3": 1347, "dta": 2383, "dta_over_12h": 0}


@st.composite
def small_scenarios(draw) -> Scenario:
    base = default_scenario()
    pools = []
    n_pools = draw(st.integers(1, 3))
    shares = [1.0 / n_pools] * n_pools
    for k in range(n_pools):
        pools.append(
            Pool(
                name=f"pool {k}",
                beds=draw(st.integers(3, 40)),
                share=shares[k] if k < n_pools - 1 else 1.0 - sum(shares[:-1]),
                los_days=Duration(
                    draw(st.sampled_from(["exponential", "lognormal", "gamma", "fixed"])),
                    draw(st.floats(0.2, 6.0)),
                    draw(st.floats(0.2, 6.0)),
                ),
                escalation_beds=draw(st.integers(0, 4)),
                ring_fenced=draw(st.booleans()),
            )
        )
    pools = [
        p
        if p.los_days.distribution in ("lognormal", "gamma")
        else dataclasses.replace(p, los_days=Duration(p.los_days.distribution, p.los_days.mean))
        for p in pools
    ]
    return base.replace(
        seed=draw(st.integers(0, 2**31)),
        period=SimulationWindow(
            base.period.start, draw(st.integers(5, 30)), draw(st.integers(0, 5)), 1
        ),
        arrivals=dataclasses.replace(
            base.arrivals,
            per_day=draw(st.floats(0.0, 80.0)),
            daily_cv=draw(st.floats(0, 0.5)),
            minor_share=draw(st.floats(0, 1)),
        ),
        ed=dataclasses.replace(
            base.ed,
            cubicles=draw(st.integers(0, 12)),
            corridor=draw(st.integers(0, 5)),
            majors_admitted=draw(st.floats(0, 1)),
        ),
        utc=dataclasses.replace(
            base.utc, streaming_share=draw(st.floats(0, 1)), clinicians=draw(st.integers(0, 3))
        ),
        direct_admissions=dataclasses.replace(
            base.direct_admissions, per_day=draw(st.floats(0, 10))
        ),
        discharge=dataclasses.replace(
            base.discharge,
            turnaround_minutes=draw(st.sampled_from([0.0, 30.0, 120.0])),
            weekend_factor=draw(st.floats(0.05, 1.0)),
        ),
        when_full=draw(st.sampled_from(["wait", "transfer"])),
        pools=tuple(pools),
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_scenarios())
def test_invariants_on_random_small_trusts(s: Scenario) -> None:
    r = simulate(s, 2)
    raw = r.raw()
    core = s.beds
    most = sum(p.beds + p.escalation_beds for p in s.pools)
    t = r.measured_minutes
    assert (raw.to_numpy() >= 0).all()
    assert (raw["bed_minutes"] <= most * t + 1e-6).all()
    assert (raw["escalation_minutes"] <= sum(p.escalation_beds for p in s.pools) * t + 1e-6).all()
    assert (raw["midnight_occupied"] <= most * raw["midnights"]).all()
    assert (raw["br_type1"] <= raw["att_type1"]).all() and (
        raw["br_type3"] <= raw["att_type3"]
    ).all()
    assert (raw["dta_waited"] <= raw["dta"]).all() and (raw["transfers"] <= raw["dta"]).all()
    if s.when_full == "transfer":
        assert (raw["queue_minutes"] == 0).all()
    else:
        assert (raw["transfers"] == 0).all()
    assert core > 0


_BY_NAME = """
import json, sys
import fourhour.capacity.metrics as names
if sys.argv[1] == "permuted":  # before the engine reads the list
    names.METRICS = names.METRICS[1::2] + names.METRICS[::2]
import dataclasses
from fourhour.capacity import engine
from fourhour.capacity.inputs import P_TSTOP, engine_inputs
from fourhour.capacity.scenario import SimulationWindow, default_scenario, with_total_beds
s = default_scenario()
s = s.replace(period=SimulationWindow(s.period.start, 3, 1, 1), arrivals=dataclasses.replace(
    s.arrivals, per_day=40.0))
s = with_total_beds(s, 6)
metrics = engine.simulate_one(7, *engine_inputs(s).args())[0]
print(json.dumps({"order": list(engine.METRICS), "values": dict(zip(engine.METRICS,
    metrics.tolist()))}))
"""


def test_metric_positions_follow_their_names_whatever_the_order() -> None:
    """Reordering METRICS cannot mix figures up: the engine looks its positions up by name.
    The same replication run with METRICS in its order and permuted (each in a fresh
    interpreter, numba's compiler off so that nothing is cached) gives the same figure under
    each name."""
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    runs = {}
    for order in ("natural", "permuted"):
        done = subprocess.run(
            [sys.executable, "-c", _BY_NAME, order],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=600,
        )
        runs[order] = json.loads(done.stdout)
    assert runs["natural"]["order"] == list(engine.METRICS)
    assert runs["permuted"]["order"] != runs["natural"]["order"]
    assert runs["permuted"]["values"] == runs["natural"]["values"]
    assert runs["natural"]["values"]["att_type1"] > 0 and runs["natural"]["values"]["dta"] > 0


def test_engine_positions_are_looked_up_by_name() -> None:
    assert {name: i for i, name in enumerate(engine.METRICS)} == engine.M
    assert engine.N_METRICS == len(engine.METRICS) == len(set(engine.METRICS))
    pairs = {
        "_ATT1": "att_type1",
        "_BR1": "br_type1",
        "_DTA_12": "dta_over_12h",
        "_BED_MIN": "bed_minutes",
        "_CUB_WAIT": "cubicle_wait_minutes",
        "_DROPPED": "dropped_arrivals",
    }
    for constant, name in pairs.items():
        assert getattr(engine, constant) == engine.M[name]


def _three_pools() -> Scenario:
    """Uneven pools (one ring-fenced), escalation beds, a corridor, UTC clinicians, a
    turnaround and slow weekend discharges: every event handler has work to do."""
    base = default_scenario()
    p = base.pools[0]
    pools = (
        dataclasses.replace(p, name="a", beds=150, share=0.5, escalation_beds=3, census=None),
        dataclasses.replace(
            p,
            name="b",
            beds=80,
            share=0.3,
            ring_fenced=True,
            escalation_beds=2,
            census=None,
            los_days=Duration("gamma", 3.0, 2.0),
        ),
        dataclasses.replace(
            p, name="c", beds=50, share=0.2, census=None, los_days=Duration("exponential", 2.0)
        ),
    )
    return base.replace(
        seed=11,
        period=SimulationWindow(base.period.start, 21, 7, 2),
        pools=pools,
        arrivals=dataclasses.replace(base.arrivals, per_day=160.0),
        ed=dataclasses.replace(base.ed, cubicles=20, corridor=3),
        utc=dataclasses.replace(base.utc, clinicians=2),
        direct_admissions=dataclasses.replace(base.direct_admissions, per_day=12.0),
        discharge=dataclasses.replace(base.discharge, turnaround_minutes=45.0, weekend_factor=0.4),
    )


def test_golden_values_of_every_metric() -> None:
    """Every metric of one seeded replication, waiting and transferring, pinned (numba
    0.68.1's generator). Recorded when simulate_one was split into event handlers, from an
    engine checked bit for bit against the single-loop one on the same inputs."""
    for when_full, golden in (("wait", GOLDEN_WAIT), ("transfer", GOLDEN_TRANSFER)):
        s = _three_pools().replace(when_full=when_full)
        got = dict(zip(engine.METRICS, simulate(s, 1).metrics[0].tolist(), strict=True))
        assert got.keys() == golden.keys()
        for name, value in golden.items():
            assert got[name] == pytest.approx(value, rel=1e-12, abs=1e-9), (when_full, name)


def test_arrivals_beyond_the_cap_are_counted_and_warned_of() -> None:
    s = short(default_scenario(), 7)
    full = simulate(s, 1)
    assert full.dropped_arrivals == 0 and full.dropped_note is None
    cap = 500
    with pytest.warns(DroppedArrivalsWarning, match="arrivals were dropped"):
        capped = simulate(s, 1, arrival_cap=cap)
    inputs = engine_inputs(s)
    hours = int(inputs.params[P_TSTOP] // 60)  # arrivals stop at the stop
    expected = 60 * (inputs.hour_rate[:hours].sum() + inputs.direct_rate[:hours].sum())
    lost = capped.dropped_arrivals
    # every arrival of the run is either held or counted (day-to-day variation included)
    assert abs(cap + lost - expected) < 0.05 * expected, (cap, lost, expected)
    assert "1 of 1 replications" in capped.dropped_note
    summary = capped.summary().set_index("measure")
    assert summary.loc["dropped_arrivals", "mean"] == lost


GOLDEN_WAIT = {
    "att_type1": 2881,
    "br_type1": 381,
    "over_12h_type1": 4,
    "att_type3": 478,
    "br_type3": 39,
    "over_12h_type3": 0,
    "dta": 927,
    "dta_4_12h": 4,
    "dta_over_12h": 0,
    "dta_wait_minutes": 2801.0358858813815,
    "dta_waited": 7,
    "transfers": 0,
    "censored": 0,
    "type1_minutes": 432408.1950349526,
    "bed_minutes": 6692175.317743187,
    "escalation_minutes": 35170.36192603477,
    "queue_minutes": 3114.636487692922,
    "midnight_occupied": 4645,
    "midnights": 21,
    "bed_starts": 1178,
    "bed_stay_minutes": 6517096.349629281,
    "bed_requests": 1178,
    "bed_request_wait_minutes": 3114.636487692922,
    "direct": 243,
    "cubicle_queue_minutes": 43955.44264460113,
    "cubicle_starts": 2881,
    "cubicle_wait_minutes": 43955.442644601135,
    "dropped_arrivals": 0,
}
GOLDEN_TRANSFER = {
    "att_type1": 2930,
    "br_type1": 320,
    "over_12h_type1": 0,
    "att_type3": 448,
    "br_type3": 14,
    "over_12h_type3": 0,
    "dta": 922,
    "dta_4_12h": 0,
    "dta_over_12h": 0,
    "dta_wait_minutes": 0,
    "dta_waited": 0,
    "transfers": 9,
    "censored": 0,
    "type1_minutes": 423756.9235146384,
    "bed_minutes": 6712297.381883047,
    "escalation_minutes": 24310.206475522507,
    "queue_minutes": 0,
    "midnight_occupied": 4668,
    "midnights": 21,
    "bed_starts": 1172,
    "bed_stay_minutes": 6503369.473300474,
    "bed_requests": 1185,
    "bed_request_wait_minutes": 0,
    "direct": 254,
    "cubicle_queue_minutes": 35178.147666285695,
    "cubicle_starts": 2930,
    "cubicle_wait_minutes": 35178.147666285695,
    "dropped_arrivals": 0,
}
