"""The four-hour standard and the levels measures are given at, defined once.

Kept free of heavy imports (pandas, Ibis) so that the command line can show them in its help
without loading the engines.
"""

from fourhour.thresholds import BREACH_MINUTES, TWELVE_HOURS  # noqa: F401  (one definition)

STANDARD_PCT = 95.0  # the operational standard: 95% within four hours
THRESHOLD_PCT = 80.0  # the floor commentators count providers against
LEVELS = ("provider", "system", "region", "national")
