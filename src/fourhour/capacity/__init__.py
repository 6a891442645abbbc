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

from fourhour.capacity.results import CapacityResult
from fourhour.capacity.scenario import (
    Scenario,
    ScenarioError,
    default_scenario,
    load_scenario,
    scenario_from_text,
)
from fourhour.capacity.simulate import simulate

__all__ = [
    "CapacityResult",
    "Scenario",
    "ScenarioError",
    "default_scenario",
    "load_scenario",
    "scenario_from_text",
    "simulate",
]
