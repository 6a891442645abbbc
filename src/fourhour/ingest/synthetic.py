"""A seeded, deterministic, clearly SYNTHETIC set of weekly A&E returns for the offline demo.

`generate_weekly_returns` writes one CSV per week in the column layout of NHS England's
"A&E by provider" sheet (numbers with thousands separators, percentages with a % sign, `-`
where a percentage has no denominator), a system mapping in the layout of NHS England's ICB
mapping file, and a README saying what the files are. Every provider code starts with "ZS"
and every system code with "ZI", neither of which NHS ODS codes use, and every name ends in
"(synthetic)".

The model: each provider has a persistent size, department mix, performance level, winter
sensitivity and admission rate; every week adds seasonality (a summer peak in attendances, a
winter trough in performance), an autocorrelated provider-week shock and count noise. The
final 52 weeks deteriorate year on year, most in winter (as 2014-15 did after 2013-14): with
the defaults, national type 1 performance falls from about 91% to about 85% at the worst
week of winter, all types from about 95% to about 90%.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fourhour import __version__
from fourhour.errors import FourhourError
from fourhour.ingest.provider_sheet import ProviderReturn, provider_sheet_csv
from fourhour.periods import week_ending

DEFAULT_LAST_WEEK_ENDING = dt.date(2025, 3, 30)
FILE_PREFIX = "SYNTHETIC-"
MAPPING_NAME = "SYNTHETIC-System-Mapping.csv"
README_NAME = "SYNTHETIC-README.txt"

MAPPING_HEADER = ("Code", "Name", "ICB Code", "ICB Name", "Region Name")

# (region as the provider sheet spells it, as the mapping spells it, share of providers, systems)
_REGIONS: tuple[tuple[str, str, int, int], ...] = (
    ("NHS England East Of England ", "East of England Commissioning Region", 16, 6),
    ("NHS England London", "London Commissioning Region", 26, 5),
    ("NHS England Midlands ", "Midlands Commissioning Region", 42, 10),
    (
        "NHS England North East And Yorkshire ",
        "North East and Yorkshire Commissioning Region",
        30,
        4,
    ),
    ("NHS England North West ", "North West Commissioning Region", 28, 3),
    ("NHS England South East ", "South East Commissioning Region", 35, 6),
    ("NHS England South West ", "South West Commissioning Region", 23, 6),
)

# Plant and bird stems with place-name endings: English-sounding, but not NHS trust names.
_STEMS = (
    "Ambren", "Aspen", "Bittern", "Bracken", "Bramble", "Briar", "Clover", "Corlow", "Cress",
    "Curlew", "Dunmere", "Gorse", "Hawthorn", "Hazel", "Heron", "Juniper", "Kestrel", "Lapwing",
    "Larch", "Linnet", "Marten", "Merlin", "Nettle", "Osprey", "Otter", "Plover", "Quill",
    "Rowan", "Sedge", "Sorrel", "Tansy", "Teasel", "Thistle", "Wren", "Yarrow", "Fennel",
    "Starling", "Sparrow", "Finch", "Tern", "Kite", "Pipit", "Sloe", "Damson", "Medlar",
    "Quince", "Rue", "Sage", "Tarragon", "Vetch", "Woad", "Bryony", "Campion", "Dunnock",
)  # fmt: skip
_ENDINGS = (
    "ford", "field", "ham", "ley", "mouth", "bury", "ton", "well", "dale", "wick", "vale",
    "combe", "stead", "borough", "minster", "bridge", "haven", "moor", "worth", "gate",
)  # fmt: skip
_ACUTE_FORMS = (
    "{a} Hospitals NHS Trust",
    "{a} University Hospitals NHS Foundation Trust",
    "{a} and {b} Hospitals NHS Foundation Trust",
    "{a} Teaching Hospitals NHS Trust",
    "{a} General Hospital NHS Foundation Trust",
    "{a} Healthcare NHS Trust",
    "University Hospitals of {a} NHS Trust",
)
_TYPE3_FORMS = (
    "{a} Community Health NHS Trust",
    "{a} Urgent Care Centre",
    "{a} Walk-in Centre",
    "{a} Community Services NHS Trust",
    "{a} Urgent Treatment Centre",
)
_TYPE2_FORMS = ("{a} Eye Hospital NHS Foundation Trust", "{a} Dental Hospital")


@dataclass(frozen=True)
class _Provider:
    code: str
    name: str
    kind: str  # acute | type2 | type3
    region: int  # index into _REGIONS
    system: int  # index into the systems list


def generate_weekly_returns(
    out_dir: Path,
    *,
    providers: int = 140,
    weeks: int = 104,
    last_week_ending: dt.date = DEFAULT_LAST_WEEK_ENDING,
    seed: int = 2014,
) -> list[Path]:
    """Write the synthetic data set into `out_dir`; same arguments, byte-identical files.

    Returns the data files written: the system mapping first, then one provider sheet per week
    in date order. `SYNTHETIC-README.txt` is written alongside them but not returned.
    """
    if not 20 <= providers <= 400:
        raise FourhourError(f"providers must be between 20 and 400 (got {providers})")
    if weeks < 1:
        raise FourhourError(f"weeks must be at least 1 (got {weeks})")
    week_ending(last_week_ending)  # a Sunday, or QueryError with a hint
    rng = np.random.default_rng(seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    endings = [last_week_ending - dt.timedelta(weeks=weeks - 1 - i) for i in range(weeks)]
    systems, orgs = _organisations(rng, providers)
    counts = _simulate(rng, orgs, endings)

    written = [out_dir / MAPPING_NAME]
    _write_atomic(written[0], _mapping_csv(orgs, systems))
    order = sorted(range(len(orgs)), key=lambda i: (orgs[i].region, orgs[i].name))
    for w, day in enumerate(endings):
        path = out_dir / f"{FILE_PREFIX}Weekly-AE-WE-{day.isoformat()}.csv"
        _write_atomic(path, _week_csv(orgs, order, {k: v[:, w] for k, v in counts.items()}))
        written.append(path)
    readme = _readme(providers=providers, weeks=weeks, endings=endings, seed=seed, orgs=orgs)
    _write_atomic(out_dir / README_NAME, readme)
    return written


# ---------------------------------------------------------------------------- organisations


def _organisations(
    rng: np.random.Generator, providers: int
) -> tuple[list[tuple[str, str, int]], list[_Provider]]:
    """Systems (code, name, region) and providers, with invented, unique place names."""
    places = _place_names(rng, providers * 2 + 60)  # unique, so names are unique
    n_region = _apportion(providers, [r[2] for r in _REGIONS])
    n_systems = _apportion(max(7, round(40 * providers / 140)), [r[3] for r in _REGIONS])
    systems: list[tuple[str, str, int]] = []
    for region, n in enumerate(n_systems):
        for _ in range(max(1, n)):
            code = f"ZI{len(systems) + 1:02d}"
            place = places.pop()
            systems.append((code, f"NHS {place} Integrated Care Board (synthetic)", region))

    n_type3 = max(1, round(providers * 0.09))
    n_type2 = max(1, round(providers * 0.02))
    kinds = ["acute"] * (providers - n_type3 - n_type2) + ["type3"] * n_type3 + ["type2"] * n_type2
    kinds = [kinds[i] for i in rng.permutation(providers)]
    regions = [r for r, n in enumerate(n_region) for _ in range(n)]
    in_region = [0] * len(_REGIONS)
    orgs: list[_Provider] = []
    for i, (kind, region) in enumerate(zip(kinds, regions, strict=True)):
        forms = {"acute": _ACUTE_FORMS, "type3": _TYPE3_FORMS, "type2": _TYPE2_FORMS}[kind]
        form = forms[int(rng.integers(len(forms)))]
        name = form.format(a=places.pop(), b=places.pop()) + " (synthetic)"
        # round robin, so that every system of a region has a provider where there are enough
        own = [s for s, system in enumerate(systems) if system[2] == region]
        system = own[in_region[region] % len(own)]
        in_region[region] += 1
        orgs.append(_Provider(f"ZS{i + 1:03d}", name, kind, region, system))
    return systems, orgs


def _place_names(rng: np.random.Generator, n: int) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < n:
        stem = _STEMS[int(rng.integers(len(_STEMS)))]
        end = _ENDINGS[int(rng.integers(len(_ENDINGS)))]
        name = stem + end
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def _apportion(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` in proportion to `weights` (largest remainder), deterministically."""
    exact = [total * w / sum(weights) for w in weights]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


# ------------------------------------------------------------------------------- simulation


def _winter(endings: list[dt.date]) -> np.ndarray:
    """Winter pressure in [0, 1]: 1 in the first week of January, 0 from April to October."""
    doy = np.array([d.timetuple().tm_yday for d in endings], dtype=float)
    wave = np.cos(2 * np.pi * (doy - 5) / 365.25)
    return np.clip(wave, 0, None) ** 1.5


def _summer(endings: list[dt.date]) -> np.ndarray:
    """Attendance seasonality in [-1, 1]: peak early July, trough early January."""
    doy = np.array([d.timetuple().tm_yday for d in endings], dtype=float)
    return np.cos(2 * np.pi * (doy - 185) / 365.25)


def _logistic(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _simulate(
    rng: np.random.Generator, orgs: list[_Provider], endings: list[dt.date]
) -> dict[str, np.ndarray]:
    """Counts per provider (rows) and week (columns), all integers >= 0."""
    n, w = len(orgs), len(endings)
    kind = np.array([o.kind for o in orgs])
    acute, type2, type3 = kind == "acute", kind == "type2", kind == "type3"
    winter, summer = _winter(endings), _summer(endings)
    t = np.arange(w, dtype=float)
    # the final 52 weeks deteriorate: a ramp over their first 20 weeks, then extra in winter
    pressured = np.clip((t - (w - 52)) / 20.0, 0.0, 1.0)
    growth = 1.0 + 0.02 * (t - t[-1]) / 52.0

    # persistent provider effects
    size = np.clip(rng.lognormal(np.log(2600), 0.35, n), 1300, 6200)
    has_utc = acute & (rng.random(n) < 0.85)
    utc_ratio = rng.uniform(0.30, 0.60, n)
    has_eye = acute & (rng.random(n) < 0.06)
    level = rng.normal(0.0, 0.42, n)
    level -= level[acute].mean()  # so that national figures vary little between seeds
    winter_sens = np.clip(rng.normal(1.0, 0.3, n), 0.3, None)
    decline = np.clip(rng.normal(1.0, 0.5, n), 0.0, None)
    adm_rate = rng.uniform(0.24, 0.30, n)
    other_rate = rng.uniform(0.30, 0.55, n)
    type3_level = rng.normal(0.0, 0.6, n)

    def shocks(sd: float, phi: float = 0.6) -> np.ndarray:
        z = rng.normal(0.0, sd, (n, w))
        out = np.empty_like(z)
        out[:, 0] = z[:, 0] / np.sqrt(1 - phi**2)
        for j in range(1, w):
            out[:, j] = phi * out[:, j - 1] + z[:, j]
        return out

    # attendances
    def poisson(mean: np.ndarray) -> np.ndarray:
        return rng.poisson(np.clip(mean, 0, None)).astype(np.int64)

    base = size[:, None] * growth[None, :] * np.exp(rng.normal(0, 0.03, (n, w)))
    att1 = np.where(acute[:, None], poisson(base * (1 + 0.06 * summer)), 0)
    t3_size = np.where(type3, rng.uniform(1000, 4500, n), np.where(has_utc, size * utc_ratio, 0.0))
    att3 = poisson(t3_size[:, None] * growth * (1 + 0.10 * summer) * np.exp(shocks(0.03)))
    t2_size = np.where(
        type2, rng.uniform(900, 1800, n), np.where(has_eye, rng.uniform(80, 350, n), 0)
    )
    att2 = poisson(t2_size[:, None] * growth * (1 + 0.03 * summer))

    # type 1 breaches: logit of the breach rate
    logit1 = (
        -3.02
        + level[:, None]
        + 0.62 * winter_sens[:, None] * winter[None, :]
        + 0.28 * decline[:, None] * pressured[None, :]
        + 0.30 * winter_sens[:, None] * (winter * pressured)[None, :]
        + shocks(0.11)
        + rng.normal(0.0, 0.06, (n, w))
    )
    rate1 = _logistic(logit1)
    br1 = rng.binomial(att1, rate1)
    rate3 = _logistic(-5.0 + type3_level[:, None] + 0.5 * winter[None, :] + shocks(0.15))
    br3 = rng.binomial(att3, rate3)
    br2 = rng.binomial(att2, _logistic(np.full((n, w), -4.6) + rng.normal(0, 0.3, (n, 1))))

    # emergency admissions
    adm1 = rng.binomial(att1, np.clip(adm_rate[:, None] + 0.02 * winter[None, :], 0, 1))
    adm2 = rng.binomial(att2, 0.01)
    adm3 = rng.binomial(att3, np.where(type3[:, None], 0.002, 0.006))
    other_mean = np.where(
        acute[:, None],
        other_rate[:, None] * adm1,
        np.where(type2[:, None], 0.02 * att2, 0.0),
    )
    adm_other = poisson(other_mean)

    # trolley waits: patients over 4 h (and, of those, over 12 h) from decision to admit
    dta_mean = adm1 * 0.9 * np.clip(rate1 - 0.025, 0, None)
    dta4 = np.minimum(rng.poisson(dta_mean * rng.gamma(4.0, 0.25, (n, w))), adm1)
    p12 = 0.0006 * np.clip((rate1 - 0.12) / 0.1, 0, None) ** 2
    dta12 = rng.binomial(dta4, np.clip(p12, 0, 1))

    return {
        "att1": att1, "att2": att2, "att3": att3,
        "br1": br1, "br2": br2, "br3": br3,
        "adm1": adm1, "adm2": adm2, "adm3": adm3, "adm_other": adm_other,
        "dta4": dta4, "dta12": dta12,
    }  # fmt: skip


# ---------------------------------------------------------------------------------- writing


def _week_csv(orgs: list[_Provider], order: list[int], c: dict[str, np.ndarray]) -> bytes:
    return provider_sheet_csv(
        ProviderReturn(
            code=orgs[i].code,
            region=_REGIONS[orgs[i].region][0],
            name=orgs[i].name,
            attendances=(int(c["att1"][i]), int(c["att2"][i]), int(c["att3"][i])),
            breaches=(int(c["br1"][i]), int(c["br2"][i]), int(c["br3"][i])),
            admissions=(int(c["adm1"][i]), int(c["adm2"][i]), int(c["adm3"][i])),
            other_admissions=int(c["adm_other"][i]),
            dta_over_4h=int(c["dta4"][i]),
            dta_over_12h=int(c["dta12"][i]),
        )
        for i in order
    )


def _mapping_csv(orgs: list[_Provider], systems: list[tuple[str, str, int]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(MAPPING_HEADER)
    for o in sorted(orgs, key=lambda o: (o.region, o.system, o.name)):
        code, name, region = systems[o.system]
        writer.writerow([o.code, o.name, code, name, _REGIONS[region][1]])
    return buffer.getvalue().encode("utf-8")


def _readme(
    *, providers: int, weeks: int, endings: list[dt.date], seed: int, orgs: list[_Provider]
) -> bytes:
    kinds = {k: sum(o.kind == k for o in orgs) for k in ("acute", "type2", "type3")}
    text = f"""SYNTHETIC DATA - NOT NHS STATISTICS
====================================

Every file named SYNTHETIC-* in this folder was made up by fourhour {__version__}
(fourhour.ingest.synthetic.generate_weekly_returns) for the offline demo. The providers,
systems, codes and figures are invented. They resemble NHS England's weekly A&E returns in
layout and in broad behaviour only; do not quote them, and do not mix them with real data.

Parameters
  seed:              {seed}
  providers:         {providers} ({kinds["acute"]} with major (type 1) A&E, {kinds["type2"]} \
single-specialty (type 2), {kinds["type3"]} urgent care / minor injury only (type 3))
  weeks:             {weeks}
  weeks ending:      {endings[0].isoformat()} to {endings[-1].isoformat()} (Sundays)

Files
  SYNTHETIC-Weekly-AE-WE-YYYY-MM-DD.csv  one per week, in the column layout of NHS England's
                                         "A&E by provider" sheet
  SYNTHETIC-System-Mapping.csv           provider -> synthetic integrated care board -> region

Provider codes start with "ZS" and system codes with "ZI"; NHS ODS codes do not. Names end in
"(synthetic)". The same seed and parameters always give byte-identical files.
"""
    return text.encode("utf-8")


def _write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename it over `path`."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
