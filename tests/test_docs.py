"""Every command, option and setting is documented: derived from the app, not a hard-coded list.

- Every command of the Typer app has a `### \\`fourhour ...\\`` section in docs/cli.md that
  names each of its options and arguments; the page names no command or option the app lacks.
- Every FOURHOUR_* environment variable named in src/ is documented in docs/cli.md.
- Every key of the shipped escalation and funding rules and of the capacity scenario (the
  TOML files that are read, and the dataclasses they fill) is named in its docs page, after
  its [section].
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.core import TyperArgument, TyperGroup, TyperOption

from fourhour.cli import app
from fourhour.oversight.config import FundingYear
from fourhour.oversight.config import default_text as rules_text
from fourhour.settings import SETTINGS

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CLI_DOC = DOCS / "cli.md"
HEADING = re.compile(r"^### `(fourhour(?: [a-z][a-z-]*)+)`\s*$", re.M)


def _commands() -> Iterator[tuple[str, typer.core.TyperCommand]]:
    """(`fourhour a b`, command) for every command and group under the root."""
    root = typer.main.get_command(app)

    def walk(command, path: str):
        yield path, command
        if isinstance(command, TyperGroup):
            for name, sub in command.commands.items():
                if not sub.hidden:
                    yield from walk(sub, f"{path} {name}")

    for path, command in walk(root, "fourhour"):
        if path != "fourhour":
            yield path, command


COMMANDS = dict(_commands())


def _sections() -> dict[str, str]:
    text = CLI_DOC.read_text("utf-8")
    marks = list(HEADING.finditer(text))
    out = {}
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        body = text[m.end() : end]
        out[m.group(1)] = body.split("\n## ", 1)[0]  # a section ends at the next heading
    return out


SECTIONS = _sections()


def _names(command) -> list[str]:
    """Its option names (long, short, --no- forms) and arguments (as NAME)."""
    names = []
    for p in command.params:
        if isinstance(p, TyperOption) and not p.hidden:
            names += [*p.opts, *p.secondary_opts]
        elif isinstance(p, TyperArgument):
            names.append(p.name.upper())
    return names


def test_the_app_has_commands_to_document() -> None:
    # Guards the walk itself: a Typer upgrade that hid the tree would make the rest vacuous.
    assert {"fourhour bulletin", "fourhour ingest", "fourhour warehouse info"} <= set(COMMANDS)
    assert "--week-ending" in _names(COMMANDS["fourhour bulletin"])


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_every_command_and_option_is_in_docs_cli(path: str) -> None:
    command = COMMANDS[path]
    assert path in SECTIONS, (
        f"docs/cli.md has no '### `{path}`' section; add one with its options "
        f"(`{path} --help` gives them)"
    )
    body = SECTIONS[path]
    missing = [n for n in _names(command) if not re.search(rf"`{re.escape(n)}[` ]", body)]
    assert not missing, f"docs/cli.md, section `{path}`, does not name {missing}"


def test_docs_cli_names_no_command_or_option_the_app_lacks() -> None:
    stale = sorted(set(SECTIONS) - set(COMMANDS))
    assert not stale, f"docs/cli.md documents commands the app does not have: {stale}"
    for path, body in SECTIONS.items():
        # The first cell of each table row names the command's own options and arguments.
        named = set()
        for row in re.findall(r"^\| (`[^|]*`) \|", body, re.M):
            named |= set(re.findall(r"`(-[-\w]+|[A-Z][A-Z_]*)[` ]", row))
        extra = sorted(named - set(_names(COMMANDS[path])))
        assert not extra, f"docs/cli.md, section `{path}`, names {extra}, which it does not take"


def _src_text() -> str:
    return "\n".join(p.read_text("utf-8") for p in sorted((ROOT / "src").rglob("*.py")))


def test_every_environment_variable_is_documented() -> None:
    read = set(re.findall(r"\bFOURHOUR_[A-Z_]+\b", _src_text())) | {s.env for s in SETTINGS}
    assert {"FOURHOUR_WAREHOUSE", "FOURHOUR_DEBUG"} <= read
    table = CLI_DOC.read_text("utf-8")
    missing = sorted(v for v in read if f"| `{v}` |" not in table)
    assert not missing, f"docs/cli.md's table of environment variables lacks {missing}"


def _keys(table: dict, where: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every leaf key of a TOML document as a path; a duration table is one leaf."""
    for key, value in table.items():
        if isinstance(value, dict) and "distribution" not in value:
            yield from _keys(value, (*where, key))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for item in value:  # [[beds.pools]]
                yield from _keys(item, (*where, key))
        else:
            yield (*where, key)


def _undocumented(keys: set[tuple[str, ...]], page: str) -> list[str]:
    """Keys not named in `page` (as `key`) after their section ([a.b] or [[a.b]])."""
    text = (DOCS / page).read_text("utf-8")
    missing = []
    for path in sorted(keys):
        *section, leaf = path
        start = 0
        if section:
            name = ".".join(section)
            marks = [text.find(f"[{name}]"), text.find(f"[[{name}]]")]
            found = [m for m in marks if m >= 0]
            if not found:
                missing.append(".".join(path))
                continue
            start = min(found)
        if not re.search(rf"`{re.escape(leaf)}`", text[start:]):
            missing.append(".".join(path))
    return missing


def test_every_escalation_rule_setting_is_documented() -> None:
    keys = set(_keys(tomllib.loads(rules_text("escalation.toml"))))
    assert ("rules", "below_floor", "floor_pct") in keys
    missing = _undocumented(keys, "oversight.md")
    assert not missing, f"docs/oversight.md does not document the escalation settings {missing}"


def test_every_funding_rule_setting_is_documented() -> None:
    shipped = tomllib.loads(rules_text("funding.toml"))["years"]
    table = 'years."YYYY-YY"'  # one table per financial year
    keys = {(table, k) for year in shipped.values() for k in year}
    keys |= {(table, f.name) for f in dataclasses.fields(FundingYear)} - {
        (table, "financial_year")  # the table's own name
    }
    missing = _undocumented(keys, "oversight.md")
    assert not missing, f"docs/oversight.md does not document the funding settings {missing}"


def test_every_capacity_scenario_setting_is_documented() -> None:
    from fourhour.capacity.scenario import Pool
    from fourhour.capacity.scenario import default_text as scenario_text

    keys = set(_keys(tomllib.loads(scenario_text())))
    keys |= {("beds", "pools", f.name) for f in dataclasses.fields(Pool)}
    assert ("arrivals", "per_day") in keys
    missing = _undocumented(keys, "capacity.md")
    assert not missing, f"docs/capacity.md does not document the scenario settings {missing}"
