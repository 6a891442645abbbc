"""The times the four-hour standard counts against, defined once for every stage (ingest's
synthetic generator, the measures and the capacity model import them from here; the rest of
the standard, such as its 95%, is in measures/standard.py).

Time in the department is counted in whole minutes, rounded down.
"""

BREACH_MINUTES = 240  # a breach: over 240 whole minutes from arrival to departure
TWELVE_HOURS = 720  # a 12-hour wait: over 720 whole minutes (from arrival or from the decision)
