"""Run replications of a scenario on the compiled engine, in parallel threads, in batches so
that a caller can show progress."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numba
import numpy as np

from fourhour.capacity import engine
from fourhour.capacity.defaults import DEFAULT_REPLICATIONS
from fourhour.capacity.inputs import engine_inputs
from fourhour.capacity.results import CapacityResult
from fourhour.capacity.scenario import Scenario
from fourhour.errors import InvalidInputError

MAX_REPLICATIONS = 100_000
PROGRESS_STEPS = 10
BATCH_PER_THREAD = 4


def replication_seeds(seed: int, replications: int) -> np.ndarray:
    """One independent seed per replication: SeedSequence(seed).spawn(replications), each
    child's first 32-bit word (the engine's generator takes a 32-bit seed). Replication r's
    seed does not depend on how many replications are run."""
    children = np.random.SeedSequence(seed).spawn(replications)
    return np.array([c.generate_state(1, np.uint32)[0] for c in children], dtype=np.uint32)


def simulate(
    scenario: Scenario,
    replications: int = DEFAULT_REPLICATIONS,
    *,
    seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> CapacityResult:
    """Replications of the scenario; progress(done, total) after each batch."""
    if not 1 <= replications <= MAX_REPLICATIONS:
        raise InvalidInputError(
            f"replications should be between 1 and {MAX_REPLICATIONS:,} (found {replications})"
        )
    inputs = engine_inputs(scenario)
    seeds = replication_seeds(scenario.seed if seed is None else seed, replications)
    threads = numba.get_num_threads()
    # batches for progress (about ten), each big enough to keep every thread busy
    batch = max(BATCH_PER_THREAD * threads, math.ceil(replications / PROGRESS_STEPS))
    metrics = np.zeros((replications, engine.N_METRICS))
    hists = np.zeros((replications, 2, engine.HIST_MINUTES + 1), np.int64)
    started = time.perf_counter()
    with numba.parallel_chunksize(1):  # a free thread takes the next replication
        for lo in range(0, replications, batch):
            hi = min(lo + batch, replications)
            metrics[lo:hi], hists[lo:hi] = engine.simulate_many(seeds[lo:hi], *inputs.args())
            if progress:
                progress(hi, replications)
    return CapacityResult(
        scenario=scenario,
        seeds=seeds,
        metrics=metrics,
        histograms=hists,
        measured_minutes=inputs.measured_minutes,
        seconds=time.perf_counter() - started,
    )


def warm_up_engine() -> None:
    """Compile the engine (or load it from numba's cache) on a tiny scenario."""
    from fourhour.capacity.scenario import SimulationWindow, default_scenario, with_total_beds

    s = default_scenario()
    s = with_total_beds(s.replace(period=SimulationWindow(s.period.start, 1, 0, 0)), 10)
    engine.simulate_many(replication_seeds(0, 1), *engine_inputs(s).args())
