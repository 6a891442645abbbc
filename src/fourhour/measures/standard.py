"""The four-hour standard and the levels measures are given at, defined once.

Kept free of heavy imports (pandas, Ibis) so that the command line can show them in its help
without loading the engines.
"""

STANDARD_PCT = 95.0  # the operational standard: 95% within four hours
THRESHOLD_PCT = 80.0  # the floor commentators count providers against
BREACH_MINUTES = 240  # a breach: over 240 whole minutes in the department
TWELVE_HOURS = 720  # 12 hours, in minutes: waits over it count as 12-hour waits
LEVELS = ("provider", "system", "region", "national")
