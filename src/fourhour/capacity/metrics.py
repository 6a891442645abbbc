"""What one replication of the engine returns, by name: counts and sums over patients arriving
(or asking for a bed) in the measured period, and time integrals over it.

Kept in its own light module (no numba) so that the engine derives its positions from this one
list by name (reordering it cannot mix figures up) and readers can import it cheaply.
"""

METRICS = (
    "att_type1",  # type 1 attendances
    "br_type1",  # ... over 4 hours from arrival to departure
    "over_12h_type1",  # ... over 12 hours from arrival
    "att_type3",  # UTC attendances
    "br_type3",
    "over_12h_type3",
    "dta",  # type 1 patients with a decision to admit
    "dta_4_12h",  # ... who left 4-12 hours after it
    "dta_over_12h",  # ... more than 12 hours after it
    "dta_wait_minutes",  # ... their waits from decision to departure, summed
    "dta_waited",  # ... how many waited at all for a bed
    "transfers",  # ... how many were transferred out for want of a bed
    "censored",  # measured patients still in A&E when the run stopped (counted as they were)
    "type1_minutes",  # type 1 time in department, summed
    "bed_minutes",  # integral of occupied beds (escalation included)
    "escalation_minutes",  # integral of occupied escalation beds
    "queue_minutes",  # integral of patients waiting for a bed (direct admissions included)
    "midnight_occupied",  # occupied beds summed over the period's midnights
    "midnights",
    "bed_starts",  # stays that began in the period
    "bed_stay_minutes",  # ... their lengths in bed, summed
    "bed_requests",  # requests for a bed made in the period (direct admissions included)
    "bed_request_wait_minutes",  # ... their waits, summed
    "direct",  # direct admissions asking for a bed in the period
    "cubicle_queue_minutes",  # integral of type 1 patients waiting for a cubicle
    "cubicle_starts",  # type 1 patients arriving in the period who reached a cubicle
    "cubicle_wait_minutes",  # ... their waits from arrival to the cubicle, summed
    # arrivals (A&E and direct, at any time of the run) the engine could not hold because its
    # patient arrays were full: never in practice (the arrays hold ten standard deviations more
    # than expected); counted so that a run that lost patients says so
    "dropped_arrivals",
)
