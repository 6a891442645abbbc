"""Defaults of the capacity commands, kept free of heavy imports (the CLI shows them in help)."""

DEFAULT_REPLICATIONS = 30
ELECTIVE_BED_SHARE = 0.10  # assumed share of G&A beds filled by planned (elective) patients
# The what-it-takes target, type 1: the 2025/26 planning target, no more than 22% of attendances
# over four hours (DOMAIN.md).
TARGET_TYPE1_PCT = 78.0
