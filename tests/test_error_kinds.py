"""Errors by kind: invalid input, not found, and rules or configuration errors are distinct
classes, each with its own exit status on the command line and its own HTTP status on the
web. Everything runs for real: the command line's entry point, and the web app over HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fourhour.capacity.calibrate import CalibrationError
from fourhour.capacity.evidence import EvidenceError
from fourhour.capacity.scenario import ScenarioError
from fourhour.cli import main
from fourhour.errors import EXIT_CODES, ConfigError, InvalidInputError, QueryError
from fourhour.forecast import ForecastError
from fourhour.measures.spc import SpcInputError
from fourhour.oversight.config import RulesError
from fourhour.web.app import CONFIG_MESSAGE
from fourhour.web.errors import STATUS_BY_KIND, BadParameter, NotFound
from tests.web_world import LAST, app_for

KINDS = ((InvalidInputError, 2, 400), (QueryError, 5, 404), (ConfigError, 8, 500))
SUNDAY = LAST.isoformat()
SATURDAY = "2025-03-29"
BAD_RULES = "[rules.below_standard]\nenabled = true\nwieght = 2.0\n"  # a typo: 'wieght'


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, web_world) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("kinds")
    path, funding_rules = web_world(root, patients=False)  # built once a run, shared
    bad = root / "bad-rules.toml"
    bad.write_text(BAD_RULES, encoding="utf-8")
    return path, funding_rules, bad


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.startswith("error: "), err
    return int(info.value.code or 0), " ".join(err.split())


def test_the_kinds_are_distinct_with_their_own_codes() -> None:
    for kind, code, _ in KINDS:
        assert kind.exit_code == code and code in EXIT_CODES
        assert not any(issubclass(kind, other) for other, _, _ in KINDS if other is not kind)
    web = dict(STATUS_BY_KIND)
    assert [web[kind] for kind, _, _ in KINDS] == [status for _, _, status in KINDS]
    for sub, kind in (
        (SpcInputError, InvalidInputError),
        (BadParameter, InvalidInputError),
        (NotFound, QueryError),
        (ForecastError, QueryError),
        (CalibrationError, QueryError),
        (EvidenceError, QueryError),
        (RulesError, ConfigError),
        (ScenarioError, ConfigError),
    ):
        assert issubclass(sub, kind) and sub.exit_code == kind.exit_code, sub


@pytest.mark.parametrize(
    ("args", "kind", "message"),
    [
        (["bulletin", "--week-ending", SATURDAY], InvalidInputError, "is a Saturday"),
        (["escalate", "--week-ending", SUNDAY, "--level", "ward"], InvalidInputError, "'ward'"),
        (["funding", "--quarter", "2016Q2"], InvalidInputError, "2016-17Q2"),
        (["bulletin", "--month", "2019-01"], QueryError, "no returns"),
        (["escalations", "show", "999"], QueryError, "no escalation 999"),
    ],
)
def test_the_command_line_exits_by_kind(world, capsys, args, kind, message) -> None:
    code, err = run([*args, "-w", str(world[0])], capsys)
    assert code == kind.exit_code, err
    assert message in err


def test_a_bad_rules_file_is_a_configuration_error(world, capsys) -> None:
    path, _, bad = world
    for args in (
        ["escalate", "--week-ending", SUNDAY, "--no-record", "--rules", str(bad)],
        ["funding", "--quarter", "2024-25Q4", "--rules", str(bad)],
    ):
        code, err = run([*args, "-w", str(path)], capsys)
        assert code == ConfigError.exit_code == 8, err
        assert "bad-rules.toml" in err


def test_a_bad_scenario_file_is_a_configuration_error(tmp_path, capsys) -> None:
    scenario = tmp_path / "scenario.toml"
    scenario.write_text('[arrivals]\nper_day = "many"\n', encoding="utf-8")
    code, err = run(["simulate", str(scenario), "--replications", "1"], capsys)
    assert code == ConfigError.exit_code, err
    assert "per_day" in err


@pytest.mark.parametrize(
    ("query", "page", "kind", "message"),
    [
        (f"england?week={SATURDAY}", f"?week={SATURDAY}", InvalidInputError, "Saturday"),
        ("providers?spc_preset=excel", "providers?spc_preset=excel", InvalidInputError, "excel"),
        ("england?month=2019-01", "?month=2019-01", QueryError, "no returns for January 2019"),
        ("oversight/escalations/999", "oversight/escalations/999", QueryError, "escalation 999"),
    ],
)
def test_the_web_answers_by_kind(world, query, page, kind, message) -> None:
    status = dict(STATUS_BY_KIND)[kind]
    with TestClient(app_for(world[0], world[1])) as client:
        r = client.get(f"/api/v1/{query}")
        assert r.status_code == status, r.text
        assert r.json()["error"]["status"] == status
        assert message in r.json()["error"]["message"]
        html = client.get(f"/{page}")
        assert html.status_code == status and "text/html" in html.headers["content-type"]
        assert message in html.text


def test_a_bad_rules_file_on_the_server_is_a_500_logged_for_its_operator(world, caplog) -> None:
    path, _, bad = world
    with TestClient(app_for(path, bad), raise_server_exceptions=False) as client:
        r = client.get("/api/v1/oversight/funding?quarter=2024-25Q4")
        assert r.status_code == 500, r.text
        assert r.json()["error"]["message"] == CONFIG_MESSAGE
        page = client.get("/oversight/funding?quarter=2024-25Q4")
        assert page.status_code == 500 and "server log says why" in page.text
    for answer in (r.text, page.text):  # the server's paths stay on the server
        assert "bad-rules.toml" not in answer and "Traceback" not in answer
    logged = [rec.getMessage() for rec in caplog.records if rec.name == "fourhour.web"]
    assert any("bad-rules.toml" in m and "/oversight/funding" in m for m in logged), logged
