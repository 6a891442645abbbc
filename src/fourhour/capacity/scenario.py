"""Capacity scenarios: plain frozen dataclasses, read from TOML and checked once, up front.

A scenario file gives only what it changes from the shipped default trust
(defaults/default_trust.toml, which documents every setting): tables merge key by key, lists
(profiles, [[beds.pools]]) are replaced whole. Unknown sections or keys and values of the wrong
kind or range are a ScenarioError naming the file and the key, so that a typo never silently
falls back to a default.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import math
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from fourhour.errors import ConfigError, InvalidInputError

DEFAULT_SCENARIO = "default_trust.toml"
DISTRIBUTIONS = ("fixed", "exponential", "lognormal", "gamma")
WHEN_FULL = ("wait", "transfer")
HOURS_A_DAY = 24
DAYS_A_WEEK = 7
MONTHS = 12


class ScenarioError(ConfigError):
    """A scenario is missing, malformed, or names a setting the capacity model does not know."""


@dataclass(frozen=True)
class Duration:
    """A distribution of durations (minutes or days, as the key's name says)."""

    distribution: str
    mean: float
    sd: float = 0.0

    def scaled(self, factor: float) -> Duration:
        return Duration(self.distribution, self.mean * factor, self.sd * factor)


@dataclass(frozen=True)
class Trust:
    provider_code: str
    site_code: str
    utc_site_code: str


@dataclass(frozen=True)
class SimulationWindow:
    """The days a run simulates (a scenario file's [period]): `warm_up_days` before `start`,
    discarded; `days` measured from `start`; `cool_down_days` after, so patients who arrived
    in the window can leave. Not a reporting period (fourhour.periods.Period)."""

    start: dt.date
    days: int
    warm_up_days: int
    cool_down_days: int


@dataclass(frozen=True)
class Arrivals:
    per_day: float
    hour_profile: tuple[float, ...]
    weekday_profile: tuple[float, ...]
    month_profile: tuple[float, ...]
    daily_cv: float
    minor_share: float


@dataclass(frozen=True)
class Department:
    cubicles: int
    corridor: int
    majors_minutes: Duration
    minors_minutes: Duration
    majors_admitted: float
    minors_admitted: float
    admitted_month_profile: tuple[float, ...]


@dataclass(frozen=True)
class UrgentTreatmentCentre:
    streaming_share: float
    clinicians: int
    minutes: Duration


@dataclass(frozen=True)
class DirectAdmissions:
    per_day: float
    hours: tuple[int, int]


@dataclass(frozen=True)
class Discharge:
    window: tuple[float, float]
    weekend_factor: float
    turnaround_minutes: float


@dataclass(frozen=True)
class Pool:
    name: str
    beds: int
    share: float
    los_days: Duration
    escalation_beds: int = 0
    ring_fenced: bool = False
    census: int | None = None


@dataclass(frozen=True)
class Scenario:
    name: str
    seed: int
    trust: Trust
    period: SimulationWindow
    arrivals: Arrivals
    ed: Department
    utc: UrgentTreatmentCentre
    direct_admissions: DirectAdmissions
    discharge: Discharge
    when_full: str
    pools: tuple[Pool, ...]
    source: str = dataclasses.field(default="", compare=False)

    @property
    def beds(self) -> int:
        """Core beds in all pools (escalation beds not included)."""
        return sum(p.beds for p in self.pools)

    def replace(self, **changes: Any) -> Scenario:
        return dataclasses.replace(self, **changes)


# ------------------------------------------------------------------------------- loading


def default_text() -> str:
    return (
        resources.files("fourhour.capacity")
        .joinpath("defaults", DEFAULT_SCENARIO)
        .read_text("utf-8")
    )


def default_scenario() -> Scenario:
    return scenario_from_text(default_text(), source=f"shipped default ({DEFAULT_SCENARIO})")


def load_scenario(path: Path | str | None) -> Scenario:
    """The scenario in PATH over the shipped default trust (None: the default trust itself)."""
    if path is None:
        return default_scenario()
    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise ScenarioError(
            f"cannot read the scenario file {path}: {exc.strerror}",
            hint="give a TOML file; `fourhour simulate --help` shows an example",
        ) from None
    return scenario_from_text(text, source=str(path))


def scenario_from_text(text: str, *, source: str = "<text>") -> Scenario:
    try:
        user = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{source}: not valid TOML: {exc}") from None
    base = tomllib.loads(default_text())
    _check_known(user, _shape(base), source, "")
    merged = _merge(base, user)
    return _Parser(source).scenario(merged)


def _shape(base: dict[str, Any]) -> dict[str, Any]:
    """The known keys: the default file's, plus the optional keys of a pool."""
    shape: dict[str, Any] = {}
    for key, value in base.items():
        if isinstance(value, dict) and "distribution" in value:
            shape[key] = dict.fromkeys(("distribution", "mean", "sd"))
        else:
            shape[key] = _shape(value) if isinstance(value, dict) else None
    if "beds" in shape:
        shape["beds"]["pools"] = {f.name: None for f in dataclasses.fields(Pool)}
    return shape


def _check_known(data: dict[str, Any], shape: dict[str, Any], source: str, where: str) -> None:
    for key, value in data.items():
        place = f"{where}.{key}" if where else key
        if key not in shape:
            close = difflib.get_close_matches(key, list(shape), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ScenarioError(
                f"{source}: unknown setting {place!r}",
                hint=hint + "known here: " + ", ".join(sorted(shape)),
            )
        sub = shape[key]
        if key == "pools" and where == "beds":
            if not isinstance(value, list) or not all(isinstance(p, dict) for p in value):
                raise ScenarioError(f"{source}: 'beds.pools' should be a list of [[beds.pools]]")
            for i, pool in enumerate(value):
                _check_known(pool, sub, source, f"beds.pools[{i}]")
        elif isinstance(sub, dict) and sub and key != "pools":
            if not isinstance(value, dict):
                raise ScenarioError(f"{source}: {place!r} should be a table")
            _check_known(value, sub, source, place)


def _merge(base: dict[str, Any], user: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in user.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            # A duration given as a table replaces the default whole (its sd may not apply).
            if "distribution" in value or "mean" in value:
                out[key] = value
            else:
                out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


class _Parser:
    """Reads the merged tables into dataclasses, checking every value once."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, place: str, problem: str, value: object = None) -> ScenarioError:
        found = f" (found {value!r})" if value is not None else ""
        return ScenarioError(f"{self.source}: {place!r} {problem}{found}")

    def number(self, t: dict, key: str, where: str, lo: float = 0.0, hi: float = math.inf) -> float:
        place, value = f"{where}.{key}" if where else key, t.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(place, "should be a number", value)
        if not lo <= value <= hi or not math.isfinite(value):
            bound = f"between {lo:g} and {hi:g}" if hi < math.inf else f"at least {lo:g}"
            raise self.fail(place, f"should be {bound}", value)
        return float(value)

    def whole(self, t: dict, key: str, where: str, lo: int = 0) -> int:
        place, value = f"{where}.{key}" if where else key, t.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < lo:
            raise self.fail(place, f"should be a whole number of at least {lo}", value)
        return value

    def text(self, t: dict, key: str, where: str) -> str:
        place, value = f"{where}.{key}" if where else key, t.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(place, "should be non-empty text", value)
        return value

    def profile(self, t: dict, key: str, where: str, length: int) -> tuple[float, ...]:
        place, value = f"{where}.{key}", t.get(key)
        if (
            not isinstance(value, list)
            or len(value) != length
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        ):
            raise self.fail(place, f"should be a list of {length} numbers", value)
        if any(v < 0 for v in value) or sum(value) <= 0:
            raise self.fail(place, "should hold non-negative weights, not all zero", value)
        return tuple(float(v) for v in value)

    def duration(self, t: dict, key: str, where: str) -> Duration:
        place, value = f"{where}.{key}", t.get(key)
        if not isinstance(value, dict):
            raise self.fail(place, "should be a table { distribution = ..., mean = ... }", value)
        extra = set(value) - {"distribution", "mean", "sd"}
        if extra:
            raise self.fail(
                place, f"has unknown keys {sorted(extra)}; known: distribution, mean, sd"
            )
        kind = value.get("distribution")
        if kind not in DISTRIBUTIONS:
            raise self.fail(f"{place}.distribution", f"should be one of {DISTRIBUTIONS}", kind)
        mean = self.number(value, "mean", place, lo=0.0)
        if kind != "fixed" and mean <= 0:
            raise self.fail(f"{place}.mean", "should be above 0", mean)
        if kind in ("lognormal", "gamma"):
            if "sd" not in value:
                raise self.fail(place, f"needs an sd for a {kind} distribution")
            sd = self.number(value, "sd", place, lo=0.0)
            if sd <= 0:
                raise self.fail(f"{place}.sd", "should be above 0", sd)
            return Duration(kind, mean, sd)
        if "sd" in value:
            raise self.fail(f"{place}.sd", f"does not apply to a {kind} distribution")
        return Duration(kind, mean)

    def table(self, data: dict, key: str) -> dict:
        value = data.get(key)
        if not isinstance(value, dict):
            raise self.fail(key, "should be a table", value)
        return value

    def scenario(self, d: dict[str, Any]) -> Scenario:
        tr, pe, ar = self.table(d, "trust"), self.table(d, "period"), self.table(d, "arrivals")
        ed, utc, di = self.table(d, "ed"), self.table(d, "utc"), self.table(d, "direct_admissions")
        dc, bd = self.table(d, "discharge"), self.table(d, "beds")
        start = pe.get("start")
        if isinstance(start, str):
            try:
                start = dt.date.fromisoformat(start)
            except ValueError:
                raise self.fail("period.start", "should be a date YYYY-MM-DD", start) from None
        if not isinstance(start, dt.date) or isinstance(start, dt.datetime):
            raise self.fail("period.start", "should be a date YYYY-MM-DD", start)
        seed = self.whole(d, "seed", "", lo=0)
        scenario = Scenario(
            name=self.text(d, "name", ""),
            seed=seed,
            trust=Trust(
                provider_code=self.text(tr, "provider_code", "trust"),
                site_code=self.text(tr, "site_code", "trust"),
                utc_site_code=self.text(tr, "utc_site_code", "trust"),
            ),
            period=SimulationWindow(
                start=start,
                days=self.whole(pe, "days", "period", lo=1),
                warm_up_days=self.whole(pe, "warm_up_days", "period"),
                cool_down_days=self.whole(pe, "cool_down_days", "period"),
            ),
            arrivals=Arrivals(
                per_day=self.number(ar, "per_day", "arrivals"),
                hour_profile=self.profile(ar, "hour_profile", "arrivals", HOURS_A_DAY),
                weekday_profile=self.profile(ar, "weekday_profile", "arrivals", DAYS_A_WEEK),
                month_profile=self.profile(ar, "month_profile", "arrivals", MONTHS),
                daily_cv=self.number(ar, "daily_cv", "arrivals", hi=2.0),
                minor_share=self.number(ar, "minor_share", "arrivals", hi=1.0),
            ),
            ed=Department(
                cubicles=self.whole(ed, "cubicles", "ed"),
                corridor=self.whole(ed, "corridor", "ed"),
                majors_minutes=self.duration(ed, "majors_minutes", "ed"),
                minors_minutes=self.duration(ed, "minors_minutes", "ed"),
                majors_admitted=self.number(ed, "majors_admitted", "ed", hi=1.0),
                minors_admitted=self.number(ed, "minors_admitted", "ed", hi=1.0),
                admitted_month_profile=self.profile(ed, "admitted_month_profile", "ed", MONTHS),
            ),
            utc=UrgentTreatmentCentre(
                streaming_share=self.number(utc, "streaming_share", "utc", hi=1.0),
                clinicians=self.whole(utc, "clinicians", "utc"),
                minutes=self.duration(utc, "minutes", "utc"),
            ),
            direct_admissions=DirectAdmissions(
                per_day=self.number(di, "per_day", "direct_admissions"),
                hours=self.hours(di),
            ),
            discharge=Discharge(
                window=self.window(dc),
                weekend_factor=self.number(dc, "weekend_factor", "discharge", hi=1.0),
                turnaround_minutes=self.number(dc, "turnaround_minutes", "discharge"),
            ),
            when_full=self.when_full(bd),
            pools=self.pools(bd),
        )
        return dataclasses.replace(scenario, source=self.source)

    def hours(self, di: dict) -> tuple[int, int]:
        value = di.get("hours")
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
            or not 0 <= value[0] < value[1] <= HOURS_A_DAY
        ):
            raise self.fail(
                "direct_admissions.hours",
                "should be [first hour, end hour], 0 <= a < b <= 24",
                value,
            )
        return (value[0], value[1])

    def window(self, dc: dict) -> tuple[float, float]:
        value = dc.get("window")
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
            or not 0 <= value[0] < value[1] <= HOURS_A_DAY
        ):
            raise self.fail(
                "discharge.window",
                "should be [opening hour, closing hour], 0 <= a < b <= 24",
                value,
            )
        return (float(value[0]), float(value[1]))

    def when_full(self, bd: dict) -> str:
        value = bd.get("when_full")
        if value not in WHEN_FULL:
            raise self.fail("beds.when_full", f"should be one of {WHEN_FULL}", value)
        return value

    def pools(self, bd: dict) -> tuple[Pool, ...]:
        raw = bd.get("pools")
        if not isinstance(raw, list) or not raw:
            raise self.fail("beds.pools", "should list at least one [[beds.pools]]")
        pools = []
        for i, p in enumerate(raw):
            where = f"beds.pools[{i}]"
            for key in ("name", "beds", "share", "los_days"):
                if key not in p:
                    raise self.fail(where, f"needs {key!r}")
            beds = self.whole(p, "beds", where, lo=1)
            escalation = self.whole(p, "escalation_beds", where) if "escalation_beds" in p else 0
            census = None
            if "census" in p:
                census = self.whole(p, "census", where)
                if census > beds + escalation:
                    raise self.fail(
                        f"{where}.census",
                        f"is more than the pool's {beds + escalation} beds",
                        census,
                    )
            ring_fenced = p.get("ring_fenced", False)
            if not isinstance(ring_fenced, bool):
                raise self.fail(f"{where}.ring_fenced", "should be true or false", ring_fenced)
            pools.append(
                Pool(
                    name=self.text(p, "name", where),
                    beds=beds,
                    share=self.number(p, "share", where, hi=1.0),
                    los_days=self.duration(p, "los_days", where),
                    escalation_beds=escalation,
                    ring_fenced=ring_fenced,
                    census=census,
                )
            )
        total = sum(p.share for p in pools)
        if abs(total - 1.0) > 1e-6:
            raise self.fail("beds.pools", "shares should sum to 1", round(total, 6))
        names = [p.name for p in pools]
        if len(set(names)) != len(names):
            raise self.fail("beds.pools", "names should be distinct", names)
        return tuple(pools)


# ------------------------------------------------------------------------------- writing


def _value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, float):
        return repr(v)  # the shortest text that reads back as the same number
    if isinstance(v, Duration):
        sd = f", sd = {_value(v.sd)}" if v.distribution in ("lognormal", "gamma") else ""
        return f'{{ distribution = "{v.distribution}", mean = {_value(v.mean)}{sd} }}'
    if isinstance(v, tuple | list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    return str(v)


def dump_scenario(s: Scenario, comments: dict[str, str] | None = None) -> str:
    """The scenario as a complete TOML file that load_scenario reads back equal.

    comments: text written as `# ...` lines before the key they name ("arrivals.per_day")."""
    comments = comments or {}
    lines: list[str] = []

    def put(place: str, key: str, value: object) -> None:
        if place in comments:
            lines.extend(f"# {line}" for line in comments[place].splitlines())
        lines.append(f"{key} = {_value(value)}")

    put("name", "name", s.name)
    put("seed", "seed", s.seed)
    for section, obj in (
        ("trust", s.trust),
        ("period", s.period),
        ("arrivals", s.arrivals),
        ("ed", s.ed),
        ("utc", s.utc),
        ("direct_admissions", s.direct_admissions),
        ("discharge", s.discharge),
    ):
        lines += ["", f"[{section}]"]
        for f in dataclasses.fields(obj):
            put(f"{section}.{f.name}", f.name, getattr(obj, f.name))
    lines += ["", "[beds]"]
    put("beds.when_full", "when_full", s.when_full)
    for pool in s.pools:
        lines += ["", "[[beds.pools]]"]
        for f in dataclasses.fields(pool):
            value = getattr(pool, f.name)
            if value is not None:
                put(f"beds.pools.{f.name}", f.name, value)
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------- changes


def with_total_beds(s: Scenario, total: int) -> Scenario:
    """The scenario with `total` core beds, shared between pools in proportion to their beds
    now (largest remainders); start censuses go back to their default."""
    if total < len(s.pools):
        raise InvalidInputError(f"cannot share {total} beds between {len(s.pools)} pools")
    beds = share_beds([p.beds for p in s.pools], total)
    pools = tuple(
        dataclasses.replace(p, beds=b, census=None) for p, b in zip(s.pools, beds, strict=True)
    )
    return s.replace(pools=pools)


def share_beds(weights: list[int], total: int) -> list[int]:
    """`total` beds shared in proportion to `weights` by largest remainders, each share at
    least 1 (a pool too small for its proportion gets 1, taken from the largest ones);
    the shares always sum to `total`."""
    if total < len(weights):
        raise InvalidInputError(f"cannot share {total} beds between {len(weights)} pools")
    whole = sum(weights)
    exact = [w * total / whole for w in weights]
    beds = [max(1, math.floor(x)) for x in exact]
    remainder = [x - math.floor(x) for x in exact]
    while sum(beds) < total:  # largest remainders first
        i = max(range(len(beds)), key=lambda j: (remainder[j], exact[j]))
        beds[i] += 1
        remainder[i] = -1.0
        if all(r < 0 for r in remainder):
            remainder = [x - b for x, b in zip(exact, beds, strict=True)]
    while sum(beds) > total:  # minimums of 1 took too many: give back from the largest
        i = max((j for j in range(len(beds)) if beds[j] > 1), key=lambda j: beds[j] - exact[j])
        beds[i] -= 1
    return beds


def with_demand(s: Scenario, factor: float) -> Scenario:
    """A&E arrivals multiplied by `factor` (direct admissions unchanged)."""
    return s.replace(arrivals=dataclasses.replace(s.arrivals, per_day=s.arrivals.per_day * factor))


def with_length_of_stay(s: Scenario, factor: float) -> Scenario:
    """Every pool's length of stay scaled by `factor` (mean and sd)."""
    pools = tuple(
        dataclasses.replace(p, los_days=p.los_days.scaled(factor), census=None) for p in s.pools
    )
    return s.replace(pools=pools)


def with_streaming(s: Scenario, share: float) -> Scenario:
    """The share of minor cases streamed to the urgent treatment centre."""
    if not 0 <= share <= 1:
        raise InvalidInputError(f"a streaming share should be between 0 and 1 (found {share})")
    return s.replace(utc=dataclasses.replace(s.utc, streaming_share=share))


def with_discharge_earlier(s: Scenario, hours: float) -> Scenario:
    """The discharge window moved `hours` earlier (negative: later), its length kept."""
    w0, w1 = s.discharge.window
    if not (w0 - hours >= 0 and w1 - hours <= HOURS_A_DAY):
        raise InvalidInputError(
            f"the discharge window {w0:g}-{w1:g}h cannot move {hours:g} hours earlier "
            "(it would leave the day)"
        )
    window = (w0 - hours, w1 - hours)
    return s.replace(discharge=dataclasses.replace(s.discharge, window=window))


def with_weekend_discharge(s: Scenario, factor: float) -> Scenario:
    """The share of discharges due on a Saturday or Sunday that happen that day."""
    if not 0 <= factor <= 1:
        raise InvalidInputError(
            f"a weekend discharge share should be between 0 and 1 (found {factor})"
        )
    return s.replace(discharge=dataclasses.replace(s.discharge, weekend_factor=factor))
