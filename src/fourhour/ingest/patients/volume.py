"""How many A&E attendances England has in a year, roughly: the synthetic national year's size."""

NATIONAL_YEAR = 25_000_000
