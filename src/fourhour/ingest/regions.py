"""NHS England regions under one spelling, whatever a file calls them."""

from __future__ import annotations

import re

REGIONS = (
    "East of England",
    "London",
    "Midlands",
    "North East and Yorkshire",
    "North West",
    "South East",
    "South West",
)
_KEYS = {re.sub(r"[^a-z]", "", r.lower().replace("&", "and")): r for r in REGIONS}


def canonical_region(name: str | None) -> str | None:
    """'NHS England East Of England ', 'East of England Commissioning Region' -> 'East of England'.

    Names that are not one of today's seven regions (older SHAs, area teams) come back tidied
    but otherwise unchanged.
    """
    if name is None:
        return None
    cleaned = re.sub(r"\s+", " ", str(name)).strip()
    if not cleaned:
        return None
    core = re.sub(r"(?i)^nhs england\s*", "", cleaned)
    core = re.sub(r"(?i)\s*(commissioning\s+)?region$", "", core)
    key = re.sub(r"[^a-z]", "", core.lower().replace("&", "and"))
    return _KEYS.get(key, cleaned)
