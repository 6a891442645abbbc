"""Capacity scenarios: the shipped default documents every setting, files override only what
they name, and every mistake is caught up front with the file and the key."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fourhour.capacity.inputs import (
    admissions_per_day,
    engine_inputs,
    expected_census,
    mean_discharge_delay_days,
)
from fourhour.capacity.scenario import (
    ScenarioError,
    default_scenario,
    default_text,
    dump_scenario,
    load_scenario,
    scenario_from_text,
    share_beds,
    with_demand,
    with_length_of_stay,
    with_streaming,
    with_total_beds,
)
from fourhour.errors import ConfigError, InvalidInputError

DOCS = Path(__file__).resolve().parents[1] / "docs" / "capacity.md"


def test_default_trust_loads_and_round_trips() -> None:
    s = default_scenario()
    assert s.beds == 600 and s.when_full == "wait" and len(s.pools) == 1
    assert scenario_from_text(dump_scenario(s)) == s


def test_every_default_setting_is_commented_and_documented() -> None:
    """Each key of the default trust has a comment beside it or above it, and docs/capacity.md
    names it."""
    text = default_text()
    docs = DOCS.read_text("utf-8")
    lines = text.splitlines()
    data = tomllib.loads(text)
    keys = [k for k, v in data.items() if not isinstance(v, dict)]
    for table in data.values():
        if isinstance(table, dict):
            keys += [k for k in table if k != "pools"]
    keys += list(data["beds"]["pools"][0])
    for key in set(keys):
        assert f"`{key}`" in docs, f"docs/capacity.md does not document {key!r}"
        i = next(n for n, line in enumerate(lines) if re.match(rf"{key}\s*=", line))
        assert "#" in lines[i] or lines[i - 1].lstrip().startswith("#"), key


def test_a_file_changes_only_what_it_names(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text("[arrivals]\nper_day = 400\n\n[utc]\nstreaming_share = 0.8\n")
    s, d = load_scenario(path), default_scenario()
    assert s.arrivals.per_day == 400 and s.utc.streaming_share == 0.8
    assert s.arrivals.hour_profile == d.arrivals.hour_profile and s.pools == d.pools
    assert s.source == str(path)


def test_pools_replace_the_default_list() -> None:
    s = scenario_from_text(
        """
[[beds.pools]]
name = "medicine"
beds = 300
share = 0.6
los_days = { distribution = "gamma", mean = 5, sd = 4 }
ring_fenced = true
[[beds.pools]]
name = "surgery"
beds = 120
share = 0.4
los_days = { distribution = "exponential", mean = 3 }
census = 100
"""
    )
    assert [p.name for p in s.pools] == ["medicine", "surgery"]
    assert s.pools[0].ring_fenced and not s.pools[1].ring_fenced
    assert s.pools[1].census == 100 and s.pools[0].escalation_beds == 0
    assert list(engine_inputs(s).pool_census)[1] == 100


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[arrivals]\nper_dya = 3", "unknown setting 'arrivals.per_dya'"),
        ("[arival]\nper_day = 3", "unknown setting 'arival'"),
        ("[arrivals]\nper_day = 'many'", "'arrivals.per_day' should be a number"),
        ("[arrivals]\nminor_share = 1.5", "'arrivals.minor_share' should be between 0 and 1"),
        ("[arrivals]\nhour_profile = [1, 2]", "'arrivals.hour_profile' should be a list of 24"),
        ("[ed]\ncubicles = 2.5", "'ed.cubicles' should be a whole number"),
        ("[ed]\nmajors_minutes = { distribution = 'weibull', mean = 3 }", "distribution"),
        ("[ed]\nmajors_minutes = { distribution = 'lognormal', mean = 3 }", "needs an sd"),
        (
            "[ed]\nmajors_minutes = { distribution = 'exponential', mean = 3, sd = 1 }",
            "does not apply",
        ),
        ("[discharge]\nwindow = [18, 10]", "'discharge.window' should be"),
        ("[beds]\nwhen_full = 'panic'", "'beds.when_full' should be one of"),
        ("[period]\nstart = 'soon'", "'period.start' should be a date"),
        (
            "[[beds.pools]]\nname = 'a'\nbeds = 10\nshare = 0.5\n"
            "los_days = { distribution = 'fixed', mean = 1 }",
            "shares should sum to 1",
        ),
        (
            "[[beds.pools]]\nname = 'a'\nbeds = 10\nshare = 1\n"
            "los_days = { distribution = 'fixed', mean = 1 }\ncensus = 11",
            "more than the pool's",
        ),
        (
            "[[beds.pools]]\nname = 'a'\nbeds = 10\nshare = 1\n"
            "los_days = { distribution = 'fixed', mean = 1 }\nwards = 3",
            "unknown setting",
        ),
        (
            "[[beds.pools]]\nname = 'a'\nshare = 1\n"
            "los_days = { distribution = 'fixed', mean = 1 }",
            "needs 'beds'",
        ),
        ("not toml [", "not valid TOML"),
    ],
)
def test_mistakes_name_the_file_and_key(text: str, message: str) -> None:
    with pytest.raises(ScenarioError) as exc:
        scenario_from_text(text, source="my.toml")
    assert exc.value.message.startswith("my.toml: ") and message in exc.value.message
    assert exc.value.exit_code == ConfigError.exit_code == 8


def test_a_typo_gets_a_suggestion() -> None:
    with pytest.raises(ScenarioError) as exc:
        scenario_from_text("[discharge]\nwindows = [8, 20]")
    assert "did you mean 'window'" in exc.value.hint


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read the scenario file"):
        load_scenario(tmp_path / "absent.toml")


def test_levers() -> None:
    s = scenario_from_text(
        """
[[beds.pools]]
name = "a"
beds = 300
share = 0.5
los_days = { distribution = "lognormal", mean = 4, sd = 6 }
census = 250
[[beds.pools]]
name = "b"
beds = 100
share = 0.5
los_days = { distribution = "exponential", mean = 2 }
"""
    )
    more = with_total_beds(s, 501)
    assert [p.beds for p in more.pools] == [376, 125] and more.beds == 501
    assert more.pools[0].census is None  # back to the expected census
    assert with_demand(s, 1.1).arrivals.per_day == pytest.approx(1.1 * s.arrivals.per_day)
    longer = with_length_of_stay(s, 1.5).pools[0].los_days
    assert (longer.mean, longer.sd) == (6.0, 9.0)
    assert with_streaming(s, 1.0).utc.streaming_share == 1.0
    with pytest.raises(InvalidInputError):
        with_streaming(s, 1.5)
    with pytest.raises(InvalidInputError):
        with_total_beds(s, 1)


def test_inputs_normalise_profiles_and_keep_the_daily_mean() -> None:
    s = default_scenario()
    inputs = engine_inputs(s)
    year = inputs.hour_rate[: 365 * 24].sum() * 60
    assert year / 365 == pytest.approx(s.arrivals.per_day, rel=0.01)
    assert inputs.day0.weekday() == (s.period.start.weekday() - s.period.warm_up_days) % 7
    # expected census: admissions a day x (stay + discharge delay), capped at the beds
    delay = mean_discharge_delay_days(s)
    expected = admissions_per_day(s) * (s.pools[0].los_days.mean + delay)
    assert expected_census(s)[0] == min(620, round(expected))
    any_time = s.replace(
        discharge=dataclasses.replace(s.discharge, window=(0.0, 24.0), weekend_factor=1.0)
    )
    assert mean_discharge_delay_days(any_time) == 0.0
    assert 0.3 < delay < 1.0


def test_uneven_pools_get_exactly_the_beds_asked_for() -> None:
    """Regression: pools of 200/1/1 asked for 10 beds gave 13."""
    s = default_scenario()
    pool = s.pools[0]
    pools = tuple(
        dataclasses.replace(pool, name=n, beds=b, share=sh, census=None)
        for n, b, sh in (("a", 200, 0.98), ("b", 1, 0.01), ("c", 1, 0.01))
    )
    fewer = with_total_beds(s.replace(pools=pools), 10)
    assert [p.beds for p in fewer.pools] == [8, 1, 1] and fewer.beds == 10


@settings(max_examples=300, deadline=None)
@given(
    weights=st.lists(st.integers(min_value=1, max_value=5000), min_size=1, max_size=6),
    extra=st.integers(min_value=0, max_value=5000),
)
def test_shared_beds_always_sum_to_the_total(weights: list[int], extra: int) -> None:
    total = len(weights) + extra
    beds = share_beds(weights, total)
    assert sum(beds) == total and all(b >= 1 for b in beds)
    # no pool is more than one bed from its proportion unless the minimum of 1 forced it
    exact = [w * total / sum(weights) for w in weights]
    forced = sum(1 for x in exact if x < 1)
    assert all(abs(b - x) < 1 + forced for b, x in zip(beds, exact, strict=True))


def _doc_defaults() -> list[tuple[str, list[str], list[str]]]:
    """(section, keys, default cells) for each row of the settings table in docs/capacity.md."""
    rows, section = [], ""
    text = DOCS.read_text("utf-8")
    table = text[text.index("| key | default | meaning |") :].split("\n\n")[0]
    for line in table.splitlines()[2:]:
        keys_cell, default_cell = (c.strip() for c in line.strip("|").split("|")[:2])
        names = re.findall(r"`([^`]+)`", keys_cell)
        if names and names[0].startswith("["):
            section = names.pop(0).strip("[]")
        # split the defaults on commas outside brackets
        parts, depth, cur = [], 0, ""
        for ch in default_cell:
            depth += ch == "["
            depth -= ch == "]"
            if ch == "," and depth == 0:
                parts.append(cur.strip())
                cur = ""
            else:
                cur += ch
        parts.append(cur.strip())
        rows.append((section, names, parts))
    return rows


def test_documented_defaults_equal_the_code() -> None:
    """Each default in docs/capacity.md's settings table that is a number, a list, a quoted
    text or true/false equals what the code gives: the default trust's value, or (for the
    optional pool keys) what a pool written without them gets."""
    s = default_scenario()
    bare = scenario_from_text(
        '[[beds.pools]]\nname = "p"\nbeds = 10\nshare = 1.0\n'
        'los_days = { distribution = "exponential", mean = 1 }\n'
    ).pools[0]
    checked = 0
    for section, keys, parts in _doc_defaults():
        if section == "beds.pools":
            owner = bare if "escalation_beds" in keys else s.pools[0]
        elif section == "beds":
            owner = s
        else:
            owner = getattr(s, section) if section else s
        durations = [
            k for k in keys if k.endswith(("minutes", "los_days")) and k != "turnaround_minutes"
        ]
        if durations:
            found = re.findall(r"mean ([\d.]+)(?: days)? sd ([\d.]+)", " ".join(parts))
            for key, (mean, sd) in zip(durations, found, strict=False):
                value = getattr(owner, key)
                assert (value.mean, value.sd) == (float(mean), float(sd)), key
                checked += 1
        if len(parts) != len(keys):
            continue
        for key, cell in zip(keys, parts, strict=True):
            value = getattr(owner, key)
            if cell.startswith("["):
                assert list(value) == [float(x) for x in cell.strip("[]").split(",")], key
            elif m := re.match(r"-?\d+(\.\d+)?(?![\d-])", cell):
                assert value == pytest.approx(float(m.group())), f"{key}: docs say {cell}"
            elif cell in ("true", "false"):
                assert value is (cell == "true"), key
            elif cell.startswith('"'):
                assert value == cell.strip('"'), key
            elif cell == "expected":
                assert value is None, key
            else:
                continue
            checked += 1
    assert checked >= 25, f"only {checked} documented defaults could be checked"
