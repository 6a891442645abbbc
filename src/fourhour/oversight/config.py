"""Escalation and funding rules from TOML, with shipped, documented defaults.

The defaults live beside this module (defaults/escalation.toml, defaults/funding.toml) and are
the documentation of every setting. A user's file is read whole and checked: unknown sections
or keys and values of the wrong kind are errors naming the file and key, so that a typo never
silently falls back to a default.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from fourhour.errors import ConfigError

RULE_NAMES = (
    "below_standard",
    "below_floor",
    "yoy_deterioration",
    "sustained_decline",
    "trolley_waits_12h",
    "special_cause",
    "forecast_miss",
)


class RulesError(ConfigError):
    """A rules file is missing, malformed or names a setting fourhour does not know."""


def default_text(name: str) -> str:
    return resources.files("fourhour.oversight").joinpath("defaults", name).read_text("utf-8")


def _load(path: Path | None, name: str) -> tuple[dict[str, Any], str, str]:
    """(parsed TOML, its sha256, where it came from)."""
    if path is None:
        text, source = default_text(name), f"shipped defaults ({name})"
    else:
        try:
            text, source = path.read_text("utf-8"), str(path)
        except OSError as exc:
            raise RulesError(f"cannot read the rules file {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{source}: not valid TOML: {exc}") from None
    return data, hashlib.sha256(text.encode()).hexdigest(), source


def _check_keys(data: dict, allowed: dict, source: str, where: str = "") -> None:
    for key, value in data.items():
        place = f"{where}.{key}" if where else key
        if key not in allowed:
            raise RulesError(
                f"{source}: unknown setting {place!r}",
                hint="known here: " + ", ".join(sorted(allowed)),
            )
        expected = allowed[key]
        if isinstance(expected, dict):
            if not isinstance(value, dict):
                raise RulesError(f"{source}: {place!r} should be a table")
            _check_keys(value, expected, source, place)
        elif expected is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise RulesError(f"{source}: {place!r} should be a number (found {value!r})")
            if value < 0:
                raise RulesError(f"{source}: {place!r} should not be negative (found {value})")
        elif expected is int:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise RulesError(f"{source}: {place!r} should be a whole number >= 1")
        elif not isinstance(value, expected):
            raise RulesError(f"{source}: {place!r} should be {expected.__name__} (found {value!r})")


# ------------------------------------------------------------------------------ escalation


@dataclass(frozen=True)
class Rule:
    name: str
    enabled: bool
    weight: float
    params: dict[str, Any] = field(default_factory=dict)


GRANULARITY_KEYS = {"week": "weeks", "month": "months", "quarter": "quarters"}


@dataclass(frozen=True)
class EscalationRules:
    """The rules, resolved for one granularity (`granularity`; see `for_granularity`)."""

    top: int
    standard_pct: float
    depth_weight: float
    rules: dict[str, Rule]
    window: dict[str, int]  # granularity -> periods in the summons window
    decline: dict[str, int]  # granularity -> consecutive falls for sustained_decline
    recovery: dict[str, int]  # granularity -> recovered periods before de-escalation
    blocking_rules: tuple[str, ...]
    sha256: str
    source: str
    granularity: str = "week"

    def rule(self, name: str) -> Rule:
        return self.rules[name]

    def for_granularity(self, granularity: str) -> EscalationRules:
        if granularity not in GRANULARITY_KEYS:
            raise RulesError(f"escalation works on weeks, months or quarters, not {granularity!r}")
        return replace(self, granularity=granularity)

    @property
    def periods(self) -> int:
        """Periods in the summons window for the granularity in use."""
        return self.window[self.granularity]

    @property
    def decline_periods(self) -> int:
        return self.decline[self.granularity]

    @property
    def recovery_periods(self) -> int:
        return self.recovery[self.granularity]

    def summary(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "sha256": self.sha256,
            "granularity": self.granularity,
            "window_periods": self.periods,
            "top": self.top,
            "standard_pct": self.standard_pct,
            "depth_weight": self.depth_weight,
            "rules": {
                n: {"enabled": r.enabled, "weight": r.weight, **r.params}
                for n, r in self.rules.items()
            },
            "deescalation": {
                "periods": self.recovery_periods,
                "blocking_rules": self.blocking_rules,
            },
        }


_PER_GRANULARITY = {key: int for key in GRANULARITY_KEYS.values()}
_RULE_PARAMS: dict[str, dict[str, Any]] = {
    "below_standard": {},
    "below_floor": {"floor_pct": float},
    "yoy_deterioration": {"points": float},
    "sustained_decline": dict(_PER_GRANULARITY),
    "trolley_waits_12h": {"min_waits": int},
    "special_cause": {"min_points": int},
    "forecast_miss": {"min_probability": float, "interim_pct": float},
}
_ESCALATION_SCHEMA = {
    "window": {"top": int, "standard_pct": float, "depth_weight": float, **_PER_GRANULARITY},
    "rules": {n: {"enabled": bool, "weight": float, **p} for n, p in _RULE_PARAMS.items()},
    "deescalation": {**_PER_GRANULARITY, "blocking_rules": list},
}


def load_escalation_rules(path: Path | None = None, granularity: str = "week") -> EscalationRules:
    """The shipped defaults, with any settings in `path` laid over them, for `granularity`."""
    base, _, _ = _load(None, "escalation.toml")
    sha, source = None, "shipped defaults"
    if path is not None:
        user, sha, source = _load(path, "escalation.toml")
        _check_keys(user, _ESCALATION_SCHEMA, source)
        for section, values in user.items():
            if section == "rules":
                for name, settings in values.items():
                    base["rules"][name].update(settings)
            else:
                base[section].update(values)
    merged = json.dumps(base, sort_keys=True)
    blocking = tuple(base["deescalation"]["blocking_rules"])
    unknown = [b for b in blocking if b not in RULE_NAMES]
    if unknown:
        raise RulesError(
            f"{source}: deescalation.blocking_rules names unknown rules {unknown}",
            hint="rules: " + ", ".join(RULE_NAMES),
        )
    per = {g: key for g, key in GRANULARITY_KEYS.items()}
    decline_spec = base["rules"]["sustained_decline"]
    rules = {}
    for name in RULE_NAMES:
        spec = dict(base["rules"][name])
        enabled, weight = bool(spec.pop("enabled")), float(spec.pop("weight"))
        if name == "sustained_decline":
            spec = {}
        rules[name] = Rule(name, enabled, weight, spec)
    w = base["window"]
    return EscalationRules(
        top=int(w["top"]),
        standard_pct=float(w["standard_pct"]),
        depth_weight=float(w["depth_weight"]),
        rules=rules,
        window={g: int(w[key]) for g, key in per.items()},
        decline={g: int(decline_spec[key]) for g, key in per.items()},
        recovery={g: int(base["deescalation"][key]) for g, key in per.items()},
        blocking_rules=blocking,
        sha256=sha or hashlib.sha256(merged.encode()).hexdigest(),
        source=source,
    ).for_granularity(granularity)


# --------------------------------------------------------------------------------- funding


@dataclass(frozen=True)
class FundingYear:
    financial_year: str  # '2016-17'
    fund: str
    financial_control_share: float
    performance_share: float
    ae_share: float
    standard_pct: float
    trajectory_tolerance_points: float
    q1_paid_for_agreeing_trajectory: bool
    other_shares: dict[str, float] = field(default_factory=dict)
    total_gbp: float | None = None


_YEAR_SCHEMA = {
    "fund": str,
    "total_gbp": float,
    "financial_control_share": float,
    "performance_share": float,
    "ae_share": float,
    "other_shares": dict,
    "standard_pct": float,
    "trajectory_tolerance_points": float,
    "q1_paid_for_agreeing_trajectory": bool,
}


def load_funding_rules(path: Path | None = None) -> tuple[dict[str, FundingYear], str]:
    """Funding rules by financial year: `path` if given (whole), else the shipped defaults."""
    data, _, source = _load(path, "funding.toml")
    years = data.get("years")
    if not isinstance(years, dict) or set(data) - {"years"}:
        raise RulesError(
            f'{source}: expected only [years."YYYY-YY"] tables',
            hint='e.g. [years."2016-17"] with ae_share = 0.125',
        )
    out = {}
    for label, spec in years.items():
        _check_keys(spec, _YEAR_SCHEMA, source, f"years.{label}")
        required = set(_YEAR_SCHEMA) - {"total_gbp", "other_shares"}
        missing = sorted(required - set(spec))
        if missing:
            raise RulesError(f"{source}: years.{label} lacks {', '.join(missing)}")
        for share in ("financial_control_share", "performance_share", "ae_share"):
            if not 0 <= spec[share] <= 1:
                raise RulesError(f"{source}: years.{label}.{share} should be between 0 and 1")
        if spec["ae_share"] > spec["performance_share"] + 1e-9:
            raise RulesError(
                f"{source}: years.{label}.ae_share exceeds performance_share",
                hint="the A&E element is part of the performance-linked share",
            )
        out[label] = FundingYear(financial_year=label, **spec)
    return out, source
