"""Defaults of the capacity commands, kept free of heavy imports (the CLI shows them in help)."""

DEFAULT_REPLICATIONS = 30
ELECTIVE_BED_SHARE = 0.10  # assumed share of G&A beds filled by planned (elective) patients
# The what-it-takes target, type 1: the 2025/26 planning target, no more than 22% of attendances
# over four hours (DOMAIN.md).
TARGET_TYPE1_PCT = 78.0

# The levers a scenario can be set by on the web page and through the API, with their plausible
# ranges: name: (label, hint, low, high, whole number). The form, its checks and the API's
# parameter descriptions all come from here.
LEVER_LIMITS: dict[str, tuple[str, str, float, float, bool]] = {
    "beds": ("Core beds", "general and acute beds open", 10, 5000, True),
    "los_days": ("Mean length of stay (days)", "of admitted patients", 0.5, 30, False),
    "discharge_from": ("Discharges start (hour)", "0-23, e.g. 10 for 10am", 0, 23, False),
    "discharge_to": ("Discharges end (hour)", "1-24, after the start", 1, 24, False),
    "arrivals_per_day": ("A&E arrivals a day", "all types, on average", 10, 2000, False),
    "streaming_pct": ("Minor cases streamed to the UTC (%)", "0-100", 0, 100, False),
}


def lever_description(name: str) -> str:
    """A lever's label and range, e.g. "Core beds, 10-5000." (the API's parameter help)."""
    label, _, low, high, _ = LEVER_LIMITS[name]
    return f"{label}, {low:g}-{high:g}."
