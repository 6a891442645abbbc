"""The compiled engine against the SimPy reference (bench/simpy_reference.py): the same model,
written twice, must give statistically indistinguishable results on a scenario that exercises
every feature (hourly, weekly and daily variation, a UTC with its own clinicians, cubicles and
a corridor, two bed pools, one ring-fenced, escalation beds, turnaround, daytime discharge,
fewer weekend discharges, direct admissions). Each measure's replication means are compared
by Welch's test; a p-value below 1% on any of them fails."""

from __future__ import annotations

import pytest

from fourhour.capacity.confidence import welch_test
from fourhour.capacity.inputs import engine_inputs
from fourhour.capacity.results import CapacityResult
from fourhour.capacity.scenario import scenario_from_text
from fourhour.capacity.simulate import simulate

simpy_reference = pytest.importorskip("bench.simpy_reference")
pytestmark = pytest.mark.slow

ALPHA = 0.01
SCENARIO = """
name = "Reference check (SYNTHETIC)"
seed = 11
[period]
days = 60
warm_up_days = 14
[arrivals]
per_day = 110.0
[ed]
cubicles = 22
corridor = 4
[utc]
streaming_share = 0.6
clinicians = 2
[direct_admissions]
per_day = 12.0
[[beds.pools]]
name = "medicine"
beds = 150
share = 0.7
los_days = { distribution = "lognormal", mean = 4.0, sd = 6.5 }
escalation_beds = 6
[[beds.pools]]
name = "surgery"
beds = 62
share = 0.3
los_days = { distribution = "gamma", mean = 3.5, sd = 3.0 }
ring_fenced = true
"""
MEASURES = (
    "type1_pct",
    "all_types_pct",
    "mean_occupancy_pct",
    "midnight_occupancy_pct",
    "waited_for_bed_pct",
    "mean_bed_wait_hours",
    "escalation_beds_in_use",
    "type1_median_minutes",
    "admissions_via_ae",
)


def test_engine_and_simpy_reference_agree() -> None:
    s = scenario_from_text(SCENARIO)
    engine = simulate(s, 48).per_replication()
    metrics, hists = simpy_reference.simulate_reference(s, 16, seed=12)
    reference = CapacityResult(
        s, metrics[:, 0], metrics, hists, engine_inputs(s).measured_minutes, 0.0
    ).per_replication()
    assert 84 < engine["mean_occupancy_pct"].mean() < 94  # busy enough for beds to matter
    assert engine["waited_for_bed_pct"].mean() > 2
    failures = {}
    for m in MEASURES:
        test = welch_test(engine[m], reference[m])
        if test.p_value < ALPHA:
            failures[m] = (engine[m].mean(), reference[m].mean(), test.p_value)
    assert not failures, failures
