"""Measures: four-hour performance and activity at every level and period, defined once.

The constants load at once; the functions (and pandas) when first used, so that importing a
constant stays cheap.
"""

from typing import Any

from fourhour.measures.standard import LEVELS, STANDARD_PCT, THRESHOLD_PCT

_FROM_PERFORMANCE = ("england", "measure_table", "providers_below", "worst_providers")

__all__ = [
    "LEVELS",
    "STANDARD_PCT",
    "THRESHOLD_PCT",
    "england",
    "measure_table",
    "providers_below",
    "worst_providers",
]


def __getattr__(name: str) -> Any:
    if name in _FROM_PERFORMANCE:
        from fourhour.measures import performance

        return getattr(performance, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
