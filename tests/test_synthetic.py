"""The synthetic demo data set: deterministic, arithmetically consistent, plausible, labelled."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import re
import time
from pathlib import Path

import numpy as np
import pytest

from fourhour.errors import InvalidInputError
from fourhour.ingest.provider_sheet import HEADER
from fourhour.ingest.synthetic import (
    MAPPING_NAME,
    README_NAME,
    generate_weekly_returns,
)

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
REAL_MONTHLY = SHARED_DATA / "monthly-by-provider-2025-26"

# column indexes in the provider sheet
ATT, WITHIN, OVER = (3, 4, 5), (7, 8, 9), (11, 12, 13)
TOTAL_ATT, TOTAL_WITHIN, TOTAL_OVER = 6, 10, 14
PCT_ALL, PCT_TYPES = 15, (16, 17, 18)
ADM, ADM_TOTAL, ADM_OTHER, ADM_ALL = (19, 20, 21), 22, 23, 24
DTA4, DTA12 = 25, 26


def number(cell: str) -> int:
    assert re.fullmatch(r"0|[1-9]\d{0,2}(,\d{3})*", cell), cell
    return int(cell.replace(",", ""))


def rows_of(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    out = tmp_path_factory.mktemp("synthetic")
    return out, generate_weekly_returns(out)


@pytest.fixture(scope="module")
def weeks(dataset: tuple[Path, list[Path]]) -> list[tuple[dt.date, np.ndarray]]:
    """Per week, providers x (att1, att2, att3, over1, over2, over3, adm1, dta4, dta12)."""
    out = []
    for path in dataset[1][1:]:
        day = dt.date.fromisoformat(path.stem[-10:])
        cols = (*ATT, *OVER, ADM[0], DTA4, DTA12)
        out.append((day, np.array([[number(r[c]) for c in cols] for r in rows_of(path)[1:]])))
    return out


def test_same_seed_same_bytes_and_another_seed_differs(tmp_path: Path) -> None:
    kwargs = {"providers": 60, "weeks": 10}
    a = generate_weekly_returns(tmp_path / "a", **kwargs)
    b = generate_weekly_returns(tmp_path / "b", **kwargs)
    c = generate_weekly_returns(tmp_path / "c", seed=7, **kwargs)
    assert [p.name for p in a] == [p.name for p in b] == [p.name for p in c]
    for x, y in zip(a, b, strict=True):
        assert x.read_bytes() == y.read_bytes(), x.name
    assert (tmp_path / "a" / README_NAME).read_bytes() == (
        tmp_path / "b" / README_NAME
    ).read_bytes()
    assert a[-1].read_bytes() != c[-1].read_bytes()
    # writing again over the same folder gives the same bytes and leaves no temporary files
    again = generate_weekly_returns(tmp_path / "a", **kwargs)
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in b]
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == sorted(
        [p.name for p in a] + [README_NAME]
    )


def test_files_and_layout(dataset: tuple[Path, list[Path]]) -> None:
    out, files = dataset
    assert files[0].name == MAPPING_NAME
    weekly = files[1:]
    assert len(weekly) == 104
    days = [
        dt.date.fromisoformat(p.name.removeprefix("SYNTHETIC-Weekly-AE-WE-")[:10]) for p in weekly
    ]
    assert days[-1] == dt.date(2025, 3, 30)
    assert all(d.weekday() == 6 for d in days)
    assert all(b - a == dt.timedelta(days=7) for a, b in itertools.pairwise(days))
    for path in weekly:
        text = path.read_text(encoding="utf-8")
        assert "\r" not in text and text.endswith("\n")
        assert rows_of(path)[0] == list(HEADER)
    assert (out / README_NAME).exists()


def test_header_is_nhs_englands_verbatim() -> None:
    if not REAL_MONTHLY.is_dir():
        pytest.skip(f"real NHS England files not found at {REAL_MONTHLY}")
    real = (REAL_MONTHLY / "May-2025-AE.csv").read_text(encoding="utf-8").splitlines()[0]
    assert ",".join(HEADER) == real
    real_mapping = (REAL_MONTHLY / "System-Mapping-2025.csv").read_text(encoding="utf-8")
    assert real_mapping.splitlines()[0] == "Code,Name,ICB Code,ICB Name,Region Name"


def test_every_row_adds_up(dataset: tuple[Path, list[Path]]) -> None:
    for path in dataset[1][1:]:
        for row in rows_of(path)[1:]:
            assert len(row) == len(HEADER)
            att = [number(row[i]) for i in ATT]
            within = [number(row[i]) for i in WITHIN]
            over = [number(row[i]) for i in OVER]
            assert all(o <= a for o, a in zip(over, att, strict=True)), row
            assert [a - o for a, o in zip(att, over, strict=True)] == within, row
            assert number(row[TOTAL_ATT]) == sum(att)
            assert number(row[TOTAL_WITHIN]) == sum(within)
            assert number(row[TOTAL_OVER]) == sum(over)
            for col, w, a in zip(
                (PCT_ALL, *PCT_TYPES), (sum(within), *within), (sum(att), *att), strict=True
            ):
                expected = "-" if a == 0 else f"{round(100 * w / a, 1):.2f}%"
                assert row[col] == expected, (row[0], col)
            adm = [number(row[i]) for i in ADM]
            assert number(row[ADM_TOTAL]) == sum(adm)
            assert number(row[ADM_ALL]) == sum(adm) + number(row[ADM_OTHER])
            assert adm[0] <= att[0]
            assert number(row[DTA12]) <= number(row[DTA4]) <= adm[0]


def perf(counts: np.ndarray, types: tuple[int, ...]) -> float:
    att = counts[:, list(types)].sum()
    over = counts[:, [t + 3 for t in types]].sum()
    return 1 - over / att


def test_national_figures_are_plausible(weeks: list[tuple[dt.date, np.ndarray]]) -> None:
    first, second = weeks[:52], weeks[52:]
    t1 = [perf(c, (0,)) for _, c in weeks]
    allt = [perf(c, (0, 1, 2)) for _, c in weeks]
    # type 1: about 91% at worst in the first winter, about 85% in the second
    assert 0.89 <= min(t1[:52]) <= 0.93
    assert 0.82 <= min(t1[52:]) <= 0.88
    assert min(t1[52:]) < min(t1[:52]) - 0.03
    assert all(0.93 <= p <= 0.97 for (d, _), p in zip(first, t1, strict=False) if d.month in (6, 7))
    # the worst weeks are in winter
    worst = [weeks[int(np.argmin(t1[:52]))][0], weeks[52 + int(np.argmin(t1[52:]))][0]]
    assert all(d.month in (11, 12, 1, 2) for d in worst)
    # all types higher than type 1, about 93-94% and 89-90% at worst
    assert all(a > t for a, t in zip(allt, t1, strict=True))
    assert 0.91 <= min(allt[:52]) <= 0.96
    assert 0.86 <= min(allt[52:]) <= 0.92
    # year on year, the same winter week is worse
    for (d1, c1), (d2, c2) in zip(first, second, strict=True):
        assert d2 - d1 == dt.timedelta(weeks=52)
        if d1.month in (12, 1):
            assert perf(c2, (0,)) < perf(c1, (0,)) - 0.03
    # minor units and single-specialty departments rarely breach
    assert all(perf(c, (2,)) >= 0.98 for _, c in weeks)
    assert all(perf(c, (1,)) >= 0.97 for _, c in weeks)
    # attendances peak in summer, trolley waits in winter
    july = np.mean([c[:, 0].sum() for d, c in first if d.month == 7])
    january = np.mean([c[:, 0].sum() for d, c in first if d.month == 1])
    assert july > 1.05 * january
    dta_winter = np.mean([c[:, 7].sum() for d, c in second if d.month == 1])
    dta_summer = np.mean([c[:, 7].sum() for d, c in second if d.month == 7])
    assert dta_winter > 2 * dta_summer
    twelve = sum(int(c[:, 8].sum()) for _, c in weeks)
    assert 0 < twelve < 0.01 * sum(int(c[:, 7].sum()) for _, c in weeks)


def test_providers_are_plausible(weeks: list[tuple[dt.date, np.ndarray]]) -> None:
    counts = np.stack([c for _, c in weeks])  # weeks x providers x columns
    assert counts.shape[1] == 140
    t1 = counts[:, :, 0]
    major = t1.min(axis=0) > 0
    assert 110 <= major.sum() <= 130
    type3_only = (t1.max(axis=0) == 0) & (counts[:, :, 2].min(axis=0) > 0)
    assert 5 <= type3_only.sum() <= 20
    assert 3 <= (counts[:, :, 1].max(axis=0) > 0).sum() <= 20
    mean_t1 = t1[:, major].mean(axis=0)
    assert mean_t1.min() >= 1200 and mean_t1.max() <= 6600
    with_utc = major & (counts[:, :, 2].min(axis=0) > 0)
    ratio = counts[:, with_utc, 2].sum(axis=0) / t1[:, with_utc].sum(axis=0)
    assert with_utc.sum() >= 60 and ratio.min() >= 0.25 and ratio.max() <= 0.7
    admitted = counts[:, major, 6].sum() / t1[:, major].sum()
    assert 0.25 <= admitted <= 0.30
    # some trusts below 80% in the second winter, more than in the first
    trust_perf = 1 - counts[:, major, 3] / t1[:, major]
    below = (trust_perf < 0.80).sum(axis=1)
    assert below[52:].max() >= 10 and below[52:].max() > below[:52].max()
    assert (trust_perf[:52] > 0.80).mean() > 0.95


def test_labelled_synthetic(dataset: tuple[Path, list[Path]]) -> None:
    out, files = dataset
    assert all(p.name.startswith("SYNTHETIC-") for p in out.iterdir())
    readme = (out / README_NAME).read_text(encoding="utf-8")
    assert "SYNTHETIC" in readme and "seed:              2014" in readme and "fourhour" in readme
    mapping = rows_of(files[0])[1:]
    assert len(mapping) == 140
    assert all(re.fullmatch(r"ZS\d{3}", r[0]) and r[1].endswith("(synthetic)") for r in mapping)
    assert all(re.fullmatch(r"ZI\d{2}", r[2]) and r[3].endswith("(synthetic)") for r in mapping)
    assert 35 <= len({r[2] for r in mapping}) <= 45
    assert len({r[4] for r in mapping}) == 7
    for path in files[1:]:
        rows = rows_of(path)[1:]
        assert sorted((r[0], r[2]) for r in rows) == sorted((r[0], r[1]) for r in mapping)
        assert len({r[1] for r in rows}) == 7


def test_no_real_codes_or_names() -> None:
    if not REAL_MONTHLY.is_dir():
        pytest.skip(f"real NHS England files not found at {REAL_MONTHLY}")
    from fourhour.ingest.synthetic import _ENDINGS, _STEMS

    real_codes, real_words = set(), set()
    for name in ("May-2025-AE.csv", "System-Mapping-2025.csv"):
        for row in rows_of(REAL_MONTHLY / name)[1:]:
            real_codes.add(row[0])
            for cell in row:
                real_words.update(w.lower() for w in re.findall(r"[A-Za-z]+", cell))
    assert not any(code.startswith(("ZS", "ZI")) for code in real_codes)
    places = {(s + e).lower() for s in _STEMS for e in _ENDINGS}
    assert not places & real_words


def test_read_by_fourhours_own_reader(dataset: tuple[Path, list[Path]]) -> None:
    from fourhour.ingest.read import read_file

    result = read_file(dataset[1][-1])
    assert result.layout == "nhse-provider-sheet"
    assert len(result.returns) == 140
    assert set(result.returns["period_end"]) == {dt.date(2025, 3, 30)}
    mapping = read_file(dataset[1][0])
    assert len(mapping.organisations) == 140 + len({r[2] for r in rows_of(dataset[1][0])[1:]})


def test_arguments_checked(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="Saturday"):
        generate_weekly_returns(tmp_path, last_week_ending=dt.date(2025, 3, 29))
    assert not list(tmp_path.iterdir())


def test_fast_enough(tmp_path: Path) -> None:
    start = time.perf_counter()
    generate_weekly_returns(tmp_path)
    assert time.perf_counter() - start < 5
