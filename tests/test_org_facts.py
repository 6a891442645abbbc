"""The curated organisation facts (src/fourhour/data/org_facts.csv) against the real reference
files, and the helpers that code, name and date organisations."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fourhour.ingest.org_facts import (
    era_of,
    fact_by_code,
    is_name_code,
    lookup,
    name_code,
    ods_title,
    org_facts,
)


@pytest.mark.realdata
def test_area_teams_match_the_2015_list_and_the_ods_regions_of_the_time(
    shared_data: Path,
) -> None:
    teams = pd.read_csv(shared_data / "weekly-type1-2010-2015/trust_to_area_team_2015-03.csv")
    etr = pd.read_csv(shared_data / "org-reference-ods/etr-c2016/etr.csv", header=None, dtype=str)
    region_of = dict(zip(etr[0], etr[2], strict=True))
    names = set(teams["area_team"])
    assert len(names) == 25
    for name in names:  # every area team the file names is in the table
        assert lookup("area_team", name) is not None, name
    # Each trust's region through its area team equals its region in the ODS file of ~2016.
    for code, team in zip(teams["org_code"], teams["area_team"], strict=True):
        fact = lookup("area_team", team)
        assert fact is not None and fact.parent_code == region_of[code], (code, team)


def test_the_table_is_consistent() -> None:
    facts = org_facts()
    codes = [f.code for f in facts]
    assert len(codes) == len(set(codes))
    area_teams = [f for f in facts if f.kind == "area_team"]
    assert len(area_teams) == 25
    for f in area_teams:
        assert fact_by_code(f.parent_code or "").kind == "region"
        assert f.valid_to == dt.date(2015, 3, 31)
    assert {f.code for f in facts if f.kind == "region"} == {
        "Y54", "Y55", "Y56", "Y57", "Y58", "Y59", "Y60", "Y61", "Y62", "Y63",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "text", "code"),
    [
        ("area_team", "Wessex Area Team", "Q70"),
        ("area_team", "Arden, Herefordshire And Worcestershire Area Team", "Q53"),
        ("region", "NHS ENGLAND MIDLANDS (WEST MIDLANDS)", "Y60"),
        ("region", "South Of England Commissioning Region", "Y57"),
        ("region", "NHS England East Of England ", "Y61"),
        ("region", "London", "Y56"),
    ],
)
def test_names_files_use_find_their_codes(kind: str, text: str, code: str) -> None:
    fact = lookup(kind, text)
    assert fact is not None and fact.code == code


def test_eras() -> None:
    assert era_of("system", dt.date(2014, 10, 26)).key == "area_team"
    assert era_of("system", dt.date(2018, 1, 31)).key == "stp"
    assert era_of("system", dt.date(2026, 1, 31)).key == "icb"
    assert era_of("region", dt.date(2018, 3, 31)).key == "four_regions"
    assert era_of("region", dt.date(2018, 4, 1)).key == "seven_regions"


def test_ods_title() -> None:
    assert (
        ods_title("PETERBOROUGH AND STAMFORD HOSPITALS NHS FOUNDATION TRUST")
        == "Peterborough and Stamford Hospitals NHS Foundation Trust"
    )
    assert ods_title("KING'S COLLEGE HOSPITAL NHS FOUNDATION TRUST").startswith("King's")
    assert ods_title("THE ROYAL WOLVERHAMPTON NHS TRUST") == "The Royal Wolverhampton NHS Trust"


@given(st.text(min_size=1, max_size=60))
def test_name_codes_are_stable_and_never_look_like_ods_codes(name: str) -> None:
    code = name_code(name)
    assert code == name_code(name) and is_name_code(code)
    assert len(code) == 7  # ODS trust codes have 3 to 5 characters
