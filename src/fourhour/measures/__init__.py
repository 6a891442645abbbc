"""Measures: four-hour performance and activity at every level and period, defined once."""

from fourhour.measures.performance import (
    LEVELS,
    STANDARD_PCT,
    THRESHOLD_PCT,
    england,
    measure_table,
    providers_below,
    worst_providers,
)

__all__ = [
    "LEVELS",
    "STANDARD_PCT",
    "THRESHOLD_PCT",
    "england",
    "measure_table",
    "providers_below",
    "worst_providers",
]
