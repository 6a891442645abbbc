"""The capacity model: a discrete-event simulation of one trust's A&E and beds, to show why
four-hour performance collapses at high bed occupancy and what each lever would do
(docs/capacity.md).

```python
from fourhour.capacity import load_scenario, simulate

result = simulate(load_scenario("my_trust.toml"), replications=30)
result.summary()             # four-hour performance, 12-hour waits, occupancy, with intervals
result.time_in_department()  # the distribution of time in the department
```

Modules: scenario (TOML in, checked), inputs (scenario to engine arrays), engine (the compiled
event engine), simulate (replications in parallel), results (measures and intervals),
confidence (t intervals, Welch's test), analytic (Erlang B and C, Little's law), sweep and
chart (performance against occupancy), records (patient-level records), calibrate (fit to a
provider's returns and check the fit), levers (what it takes to reach a target), evidence and
evidence_chart (occupancy against performance in the real data), validation (the model against
real trust-winters).
"""

from typing import Any

# Loaded when first used (numba, NumPy and pandas are slow to import): `from fourhour.capacity
# import simulate` works as before, and `fourhour.capacity.defaults` stays cheap to import.
_EXPORTS = {
    "CapacityResult": "fourhour.capacity.results",
    "Scenario": "fourhour.capacity.scenario",
    "ScenarioError": "fourhour.capacity.scenario",
    "default_scenario": "fourhour.capacity.scenario",
    "load_scenario": "fourhour.capacity.scenario",
    "scenario_from_text": "fourhour.capacity.scenario",
    "simulate": "fourhour.capacity.simulate",
}

__all__ = [
    "CapacityResult",
    "Scenario",
    "ScenarioError",
    "default_scenario",
    "load_scenario",
    "scenario_from_text",
    "simulate",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
