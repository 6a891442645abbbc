"""Public organisation facts no returns file carries: area team and region codes, and the eras
of the NHS's local hierarchies.

The table (fourhour/data/org_facts.csv, sources named in its header) gives NHS England's area
teams of 2013-2015 (codes Q44-Q71, each with the region it reported to) and the codes of NHS
England's regions, the four of 2013-2018 and the seven since. Files that name an area team or a
region without a code are coded from it; a name the table does not know gets a stable code
derived from the name (`name_code`), which a later coded mapping re-keys.

The eras say which hierarchy was in force on a date, so that a period is never grouped by the
hierarchy of another era without saying so:

- local systems: NHS England area teams (to March 2016, when the last area-team era returns
  end), A&E delivery boards and sustainability and transformation partnerships (April 2016 to
  June 2022), integrated care boards (from July 2022);
- regions: NHS England's four commissioning regions (to March 2018), the seven regions (from
  April 2018).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import pandas as pd


@dataclass(frozen=True)
class OrgFact:
    code: str
    name: str
    kind: str  # region | area_team
    parent_code: str | None
    valid_from: dt.date | None
    valid_to: dt.date | None


@dataclass(frozen=True)
class Era:
    """One form of a hierarchy level, in force from `start` to `end` (inclusive; None: open)."""

    level: str  # system | region
    key: str
    start: dt.date
    end: dt.date | None
    description: str

    def contains(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


_BEGINNING = dt.date(1948, 7, 5)  # the NHS's first day: every date falls in some era

ERAS: tuple[Era, ...] = (
    Era("system", "area_team", _BEGINNING, dt.date(2016, 3, 31), "NHS England area teams"),
    Era(
        "system",
        "stp",
        dt.date(2016, 4, 1),
        dt.date(2022, 6, 30),
        "A&E delivery boards and sustainability and transformation partnerships",
    ),
    Era("system", "icb", dt.date(2022, 7, 1), None, "integrated care boards"),
    Era("region", "four_regions", _BEGINNING, dt.date(2018, 3, 31), "NHS England's four regions"),
    Era("region", "seven_regions", dt.date(2018, 4, 1), None, "NHS England's seven regions"),
)


def era_of(level: str, day: dt.date) -> Era:
    return next(e for e in ERAS if e.level == level and e.contains(day))


def era_case_sql(level: str, column: str) -> str:
    """SQL CASE giving the era key of the date in `column` for `level`."""
    parts = [
        f"WHEN {column} <= DATE '{e.end}' THEN '{e.key}'"
        for e in ERAS
        if e.level == level and e.end is not None
    ]
    last = next(e.key for e in ERAS if e.level == level and e.end is None)
    return f"CASE {' '.join(parts)} ELSE '{last}' END"


def _date(text: str) -> dt.date | None:
    return dt.date.fromisoformat(text) if text.strip() else None


@cache
def org_facts() -> tuple[OrgFact, ...]:
    text = resources.files("fourhour.data").joinpath("org_facts.csv").read_text("utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return tuple(
        OrgFact(
            code=r["code"],
            name=r["name"],
            kind=r["kind"],
            parent_code=r["parent_code"] or None,
            valid_from=_date(r["valid_from"]),
            valid_to=_date(r["valid_to"]),
        )
        for r in rows
    )


def _key(name: str) -> str:
    """Match key for area team and region names: case, '&', punctuation and filler ignored."""
    text = name.lower().replace("&", " and ")
    text = re.sub(r"^\s*nhs england\s*", "", text)
    text = re.sub(r"\b(commissioning\s+)?region\b", "", text)
    text = re.sub(r"\barea team\b", "", text)
    text = re.sub(r"\(.*?\)", "", text)  # '(London)' sub-regions in 2019-20 parent names
    return re.sub(r"[^a-z]", "", text)


@cache
def _by_key() -> dict[tuple[str, str], OrgFact]:
    out = {}
    for fact in org_facts():
        out[(fact.kind, _key(fact.name))] = fact
    # Spellings files use for the four regions of 2013-2018.
    aliases = {"north": "Y54", "midlandsandeast": "Y55", "south": "Y57", "southofengland": "Y57"}
    for alias, code in aliases.items():
        out[("region", alias)] = fact_by_code(code)
    return out


@cache
def fact_by_code(code: str) -> OrgFact:
    return next(f for f in org_facts() if f.code == code)


def lookup(kind: str, name: str | None) -> OrgFact | None:
    """The area team or region of this name (any spelling files use), or None."""
    if not name or not name.strip():
        return None
    return _by_key().get((kind, _key(name)))


def name_code(name: str) -> str:
    """A stable code for an organisation known only by name: 'N' and six hex digits.

    ODS codes never take this form, so a derived code is never mistaken for a published one.
    """
    key = re.sub(r"[^a-z0-9]", "", name.lower().replace("&", "and"))
    return "N" + hashlib.sha1(key.encode()).hexdigest()[:6].upper()


def is_name_code(code: str | None) -> bool:
    return bool(code) and re.fullmatch(r"N[0-9A-F]{6}", code or "") is not None


_SMALL = frozenset({"and", "of", "the", "for", "in", "on", "at", "upon", "with"})
_UPPER = frozenset({"nhs", "nhsft", "uk", "ii"})


def ods_title(name: str) -> str:
    """ODS's upper-case names in the case NHS England's files use.

    'PETERBOROUGH AND STAMFORD HOSPITALS NHS FOUNDATION TRUST' ->
    'Peterborough and Stamford Hospitals NHS Foundation Trust'; "KING'S" -> "King's".
    """
    words = re.split(r"(\s+|-)", name.strip())
    out = []
    first = True
    for w in words:
        if not w or w.isspace() or w == "-":
            out.append(w)
            continue
        low = w.lower()
        if low in _UPPER:
            out.append(w.upper())
        elif low in _SMALL and not first:
            out.append(low)
        else:
            out.append(low[:1].upper() + low[1:])
        first = False
    return "".join(out)


def code_relations(relations: pd.DataFrame) -> tuple[pd.DataFrame, list[dict]]:
    """Give every parent a code and a name, and give each area team's trusts its region.

    Area teams and regions named without a code take their code from the table; other
    name-only parents take `name_code`. Returns the relations and the parent organisations
    to record (code, name, kind).
    """
    if relations.empty:
        return relations, []
    rows = relations.to_dict("records")
    has_region = {r["child_code"] for r in rows if r["relation"] == "region"}
    out, orgs = [], {}
    for r in rows:
        relation, code, name = r["relation"], r["parent_code"], r["parent_name"]
        code = code if isinstance(code, str) and code.strip() else None
        name = name if isinstance(name, str) and name.strip() else None
        if relation in ("area_team", "region"):
            fact = (fact_by_code(code) if code in _codes() else None) or lookup(relation, name)
            if fact is not None:
                code, name = fact.code, fact.name
            if (
                relation == "area_team"
                and fact is not None
                and fact.parent_code
                and r["child_code"] not in has_region
            ):
                region = fact_by_code(fact.parent_code)
                out.append(
                    {
                        **r,
                        "relation": "region",
                        "parent_code": region.code,
                        "parent_name": region.name,
                    }
                )
                orgs[region.code] = {"code": region.code, "name": region.name, "kind": "region"}
        if relation in ("area_team", "region", "system") and code is None and name:
            code = name_code(name)
        if relation in ("area_team", "region", "system") and code is not None:
            kind = {"area_team": "area_team", "region": "region"}.get(relation, "system")
            if name or code not in orgs:
                orgs[code] = {"code": code, "name": name, "kind": kind}
        out.append({**r, "parent_code": code, "parent_name": name})
    frame = pd.DataFrame(out, columns=list(relations.columns))
    return frame, list(orgs.values())


@cache
def _codes() -> frozenset[str]:
    return frozenset(f.code for f in org_facts())
