"""The web dashboard and API through FastAPI's test client: every page, its tables as CSV, the
parameters validated, the error shape, the security headers, tokens, roles and the audit log."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fourhour.cli import main
from fourhour.measures import measure_table
from fourhour.periods import week_ending
from fourhour.report.bulletin import build_bulletin
from fourhour.warehouse import open_warehouse
from fourhour.web.security.headers import CSP
from fourhour.web.tokens import create_token, digest, list_tokens
from tests.web_world import LAST, PROVIDERS, app_for

WEEK = LAST.isoformat()


# The tests open the warehouse read-write, as the server does: DuckDB refuses a second
# configuration of one file in one process.
@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, web_world) -> tuple[Path, Path]:
    return web_world(tmp_path_factory.mktemp("web"))


@pytest.fixture(scope="module")
def client(world: tuple[Path, Path]):
    with TestClient(app_for(*world)) as c:
        yield c


class Page(HTMLParser):
    """What a reader sees: headings, tables (caption and rows), links, scripts and styles."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.headings: list[str] = []
        self.tables: dict[str, list[list[str]]] = {}
        self.captions: list[str] = []
        self.links: list[str] = []
        self.scripts: list[dict] = []
        self.inline_styles = 0
        self.style_elements = 0
        self.figures: list[dict] = []
        self.ids: list[str] = []
        self._heading: list[str] | None = None
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._caption: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if "style" in a:
            self.inline_styles += 1
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "style":
            self.style_elements += 1
        elif tag == "script":
            self.scripts.append(a)
        elif tag == "a" and "href" in a:
            self.links.append(a["href"])
        elif tag == "figure":
            self.figures.append({"id": a.get("id"), "svg": None})
        elif tag == "svg" and self.figures and self.figures[-1]["svg"] is None:
            self.figures[-1]["svg"] = a
        elif tag in ("h1", "h2", "h3"):
            self._heading = []
        elif tag == "table":
            self._table = a.get("id", "")
            self.tables[self._table] = []
        elif tag == "caption":
            self._caption = []
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h1", "h2", "h3") and self._heading is not None:
            self.headings.append(" ".join("".join(self._heading).split()))
            self._heading = None
        elif tag == "caption" and self._caption is not None:
            self.captions.append(" ".join("".join(self._caption).split()))
            self._caption = None
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            self.tables[self._table].append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        for part in (self._heading, self._cell, self._caption):
            if part is not None:
                part.append(data)


def first_code(world: tuple[Path, Path], level: str = "provider") -> str:
    with open_warehouse(world[0]) as wh:
        return measure_table(wh, week_ending(LAST), level)["code"].iloc[0]


PAGES = [
    "/",
    "/providers",
    "/systems",
    "/regions",
    "/oversight",
    "/oversight/funding",
    "/oversight/escalations/1",
    "/capacity",
    "/capacity/evidence",
    "/api",
]


# ------------------------------------------------------------------------------- pages


@pytest.mark.parametrize("path", PAGES)
def test_every_page_loads_with_security_headers_and_no_inline_code(client, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200, r.text[:500]
    assert r.headers["content-security-policy"] == CSP
    assert "'unsafe-inline'" not in CSP and "script-src 'self'" in CSP
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"
    page = Page(r.text)
    assert page.headings, path
    assert page.inline_styles == 0 and page.style_elements == 0
    assert all(s.get("src", "").startswith("/static/") for s in page.scripts), page.scripts
    assert not any(link.startswith("http") for link in page.links if "nhs.uk" in link)
    assert len(page.ids) == len(set(page.ids)), "duplicate ids"


def test_england_page_shows_the_week_against_the_standard(client, world) -> None:
    page = Page(client.get("/").text)
    assert "Week ending 30 March 2025" in page.headings
    with open_warehouse(world[0]) as wh:
        b = build_bulletin(wh, week_ending(LAST))
    types = page.tables["table-week-types"]
    assert types[1][0] == "All types"
    assert types[1][4] == f"{b['england']['all_types']['performance_pct']:.1f}%"
    assert types[2][5] == f"{b['same_period_last_year']['type1']['performance_pct']:.1f}%"
    assert len(page.figures) == 1
    svg = page.figures[0]["svg"]
    assert svg["role"] == "img" and svg["aria-describedby"].endswith("-desc")
    assert "Text alternative" in client.get("/").text


def test_league_table_ranks_every_provider_lowest_first_with_spc_icons(client, world) -> None:
    page = Page(client.get(f"/providers?week={WEEK}").text)
    rows = page.tables["table-providers"][1:]
    assert len(rows) == PROVIDERS
    pcts = [float(r[6].rstrip("%")) for r in rows]
    assert pcts == sorted(pcts)
    assert all(r[9] and r[10] for r in rows), "SPC icons for every provider"
    with open_warehouse(world[0]) as wh:
        table = measure_table(wh, week_ending(LAST), "provider")
    worst = table.sort_values("all_types_performance_pct").iloc[0]
    assert rows[0][1] == worst["code"]


def test_spc_icons_are_making_data_count_svg_with_text_alternatives(client, world) -> None:
    """The icons were letters in coloured circles; they are the report's SVG icons now."""
    html = client.get(f"/providers?week={WEEK}").text
    icons = re.findall(r'<svg [^>]*class="mdc-icon mdc-icon--(variation|assurance)"[^>]*>', html)
    assert icons.count("variation") == PROVIDERS and icons.count("assurance") == PROVIDERS
    labels = re.findall(r'<svg [^>]*aria-label="((?:Variation|Assurance): [^"]+)"', html)
    assert len(labels) == 2 * PROVIDERS and all(
        'role="img"' in t for t in re.findall(r'<svg [^>]*class="mdc-icon[^>]*>', html)
    )
    assert "fh-icon__letter" not in html
    page = client.get(f"/providers/{first_code(world)}").text
    big = re.findall(r'<svg [^>]*width="40"[^>]*aria-label="(Variation|Assurance): ', page)
    assert sorted(big) == ["Assurance", "Variation"]  # the organisation's own two icons
    assert re.search(r'<svg [^>]*aria-label="Assurance: [^"]+"', page)


def test_league_filters_by_region_and_system_without_javascript(client) -> None:
    data = client.get("/api/v1/providers").json()["organisations"]
    region = data[0]["region_code"]
    system = data[0]["system_code"]
    page = Page(client.get(f"/providers?region={region}").text)
    rows = page.tables["table-providers"][1:]
    assert len(rows) == sum(1 for d in data if d["region_code"] == region) < PROVIDERS
    page = Page(client.get(f"/providers?system={system}").text)
    assert {r[1] for r in page.tables["table-providers"][1:]} == {
        d["code"] for d in data if d["system_code"] == system
    }


def test_provider_page_has_spc_types_trolley_waits_trajectory_funding_leaders(client, world):
    code = first_code(world)
    r = client.get(f"/providers/{code}")
    assert r.status_code == 200
    page = Page(r.text)
    for heading in (
        "Statistical process control",
        "Department types",
        "Trolley waits",
        "Trajectory and funding",
        "Accountable leaders",
    ):
        assert heading in page.headings
    assert page.tables["table-trajectory"][1:], "the year's trajectory"
    assert "(synthetic)" in r.text  # the leaders' names
    assert any(f["id"] == "fig-spc" for f in page.figures)
    assert "2024-25Q4" in r.text  # the funding quarter assessed


def test_system_and_region_pages_roll_up_their_members(client) -> None:
    systems = client.get("/api/v1/systems").json()["organisations"]
    code = systems[0]["code"]
    page = Page(client.get(f"/systems/{code}").text)
    members = page.tables["table-members"][1:]
    assert len(members) == systems[0]["providers"]
    region = client.get("/api/v1/regions").json()["organisations"][0]
    page = Page(client.get(f"/regions/{region['code']}").text)
    assert page.tables["table-members"][1:]


def test_oversight_shows_the_summons_list_without_recording_it(client, world) -> None:
    with open_warehouse(world[0]) as wh:
        before = wh.con.execute("SELECT count(*) FROM escalation_runs").fetchone()[0]
    earlier = week_ending(LAST).end.replace(day=LAST.day - 7)
    page = Page(client.get(f"/oversight?week={earlier}").text)
    assert page.tables["table-summons"][1:]
    assert "Escalations" in page.headings
    payload = client.get(f"/api/v1/oversight/summons?week={earlier}").json()
    assert payload["week_ending"] == earlier.isoformat()
    time.sleep(0.4)  # the server releases the file when idle
    with open_warehouse(world[0]) as wh:
        after = wh.con.execute("SELECT count(*) FROM escalation_runs").fetchone()[0]
    assert after == before


def test_funding_ledger_by_quarter(client) -> None:
    r = client.get("/oversight/funding?quarter=2024-25Q3")
    assert r.status_code == 200
    page = Page(r.text)
    assert page.tables["table-ledger"][1:]
    assert client.get("/oversight/funding?quarter=2016-17Q2").status_code == 404
    assert client.get("/api/v1/oversight/funding?quarter=2024-25Q3").json()["quarter"] == (
        "2024-25Q3"
    )


def test_capacity_form_runs_a_scenario_against_the_baseline(client) -> None:
    r = client.get("/capacity?beds=650&discharge_from=8&discharge_to=20")
    assert r.status_code == 200
    page = Page(r.text)
    assert "Results" in page.headings
    results = page.tables["table-results"]
    assert results[1][0] == "four-hour performance, type 1"
    assert page.figures and page.figures[0]["id"] == "fig-capacity"
    bad = client.get("/capacity?discharge_from=20&discharge_to=8")
    assert bad.status_code == 400 and "There is a problem" in bad.text


# ------------------------------------------------------------------------------- CSV


@pytest.mark.parametrize("path", ["/", "/providers", "/oversight", "/oversight/funding"])
def test_every_table_downloads_as_csv(client, path: str) -> None:
    page = Page(client.get(path).text)
    downloads = [link for link in page.links if "download=" in link]
    assert downloads
    for link in downloads:
        r = client.get(path + link)
        assert r.status_code == 200, link
        assert r.headers["content-type"].startswith("text/csv")
        assert r.headers["content-disposition"].startswith("attachment;")
        rows = list(csv.reader(io.StringIO(r.text)))
        assert rows[0] and all(re.match(r"^[a-z0-9_]+$", h) for h in rows[0])


def test_csv_matches_the_table_and_quotes_nothing_as_a_formula(client) -> None:
    r = client.get(f"/providers?week={WEEK}&download=providers")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == PROVIDERS
    assert float(rows[0]["performance_pct"]) <= float(rows[-1]["performance_pct"])
    assert not any(v.startswith(("=", "+", "@")) for row in rows for v in row.values())
    bad = client.get("/providers?download=nope")
    assert bad.status_code == 400 and "not a table on this page" in bad.text


# ------------------------------------------------------------------------- parameters


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/api/v1/england?week=2025-3-30", 400, "is not a date"),
        ("/api/v1/england?week=2025-02-30", 400, "not a date in the calendar"),
        ("/api/v1/england?week=2025-03-29", 400, "is a Saturday"),
        ("/api/v1/england?week=2019-01-06", 404, "holds no weekly returns"),
        ("/api/v1/england?month=2025-13", 400, "not a month in the calendar"),
        ("/api/v1/england?month=2025-01", 404, "no returns for January 2025"),
        ("/api/v1/england?week=2025-03-30&month=2025-03", 400, "not both"),
        ("/api/v1/providers?region=NO-PE", 404, "no region with the code or name 'NO-PE'"),
        ("/api/v1/providers?region=" + "x" * 41, 400, "at most 40 characters"),
        ("/api/v1/providers/ZZZ99", 404, "no provider with code 'ZZZ99'"),
        ("/api/v1/oversight/funding?quarter=2024Q5", 400, "not a quarter"),
        ("/api/v1/oversight/escalations/0", 400, "expected a positive whole number"),
        ("/api/v1/oversight/escalations/99999999999999999999", 400, "not an id"),
        ("/api/v1/england?month=9999-12", 400, "outside the years"),
        ("/api/v1/england?week=9999-12-31", 400, "outside the years"),
        ("/api/v1/oversight/funding?quarter=0000-01Q1", 400, "outside the years"),
        ("/api/v1/providers?colour=red&zz=1", 400, "unknown query parameters 'colour', 'zz'"),
        ("/api/v1/oversight/escalations/999", 404, "no escalation 999"),
        ("/api/v1/capacity?beds=5", 400, "out of range"),
        ("/api/v1/capacity?los_days=nan", 400, "out of range"),
        ("/api/v1/patients/measures?level=ward", 400, "not one of"),
        ("/api/v1/providers?spc_preset=excel", 400, "'excel' is not one of making-data-count"),
        ("/api/v1/nope", 404, "no such page"),
    ],
)
def test_parameters_are_validated_with_a_clear_message(client, path, status, message) -> None:
    r = client.get(path)
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"status", "message", "hint"}
    assert body["error"]["status"] == status
    assert message in body["error"]["message"], body
    assert "Traceback" not in r.text


def test_spc_preset_chooses_the_rules_on_pages_and_api(client) -> None:
    import pandas as pd

    from fourhour.measures.spc import SpcOptions, xmr

    default = client.get("/api/v1/providers").json()
    chosen = client.get("/api/v1/providers?spc_preset=nhsrplotthedots").json()
    assert (default["spc_preset"], chosen["spc_preset"]) == ("making-data-count", "nhsrplotthedots")
    code = default["organisations"][0]["code"]
    by_preset = {}
    for preset in ("making-data-count", "nhsrplotthedots"):
        body = client.get(f"/api/v1/providers/{code}?spc_preset={preset}").json()
        assert body["spc"]["preset"] == preset
        by_preset[preset] = pd.DataFrame(body["spc"]["points"])
    # The API's points are the engine's under the preset asked for.
    series = by_preset["making-data-count"][["period_end", "value"]].assign(code=code)
    series["period_end"] = pd.to_datetime(series["period_end"])
    for preset, points in by_preset.items():
        own = xmr(series, freq="W-SUN", options=SpcOptions(preset=preset), target=95.0).points
        assert points["ucl"].tolist() == pytest.approx(own["ucl"].tolist(), nan_ok=True)
        assert points["special_cause"].tolist() == own["special_cause"].tolist()
    page = client.get("/providers?spc_preset=nhsrplotthedots")
    assert page.status_code == 200 and "NHSRplotthedots 0.2.2" in page.text
    assert "spc_preset=nhsrplotthedots" in page.text  # the table downloads keep the choice
    bad = client.get(f"/providers/{code}?spc_preset=excel")
    assert bad.status_code == 400 and "spc_preset" in bad.text


def test_pages_answer_bad_parameters_with_an_html_error_page(client) -> None:
    r = client.get("/providers?week=yesterday")
    assert r.status_code == 400
    assert "text/html" in r.headers["content-type"]
    assert "is not a date" in r.text and "Traceback" not in r.text


def test_an_unexpected_error_is_a_500_without_a_stack_trace(world, monkeypatch) -> None:
    from fourhour.web import views

    def boom(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(views, "england", boom)
    with TestClient(app_for(*world), raise_server_exceptions=False) as c:
        for path in ("/api/v1/england", "/"):
            r = c.get(path)
            assert r.status_code == 500
            assert "secret internal detail" not in r.text and "Traceback" not in r.text
            assert r.headers["x-frame-options"] == "DENY"
        assert c.get("/api/v1/england").json()["error"]["message"].startswith("something went")


# ------------------------------------------------------------------------------ API


def test_api_england_is_the_bulletin_contract(client, world) -> None:
    data = client.get(f"/api/v1/england?week={WEEK}").json()
    with open_warehouse(world[0]) as wh:
        b = build_bulletin(wh, week_ending(LAST))
    assert data["bulletin"] == b
    assert len(data["trend"]) == 52


def test_api_covers_the_pages(client, world) -> None:
    code = first_code(world)
    d = client.get(f"/api/v1/providers/{code}").json()
    assert d["code"] == code and d["types"] and d["trolley_waits"] and d["leaders"]
    assert d["spc"]["points"] and d["spc"]["description"].startswith("Statistical process")
    assert d["funding"]["quarter"] == "2024-25Q4"
    assert client.get("/api/v1/oversight/escalations").json()["escalations"]
    assert client.get("/api/v1/oversight/escalations/1").json()["history"]
    periods = client.get("/api/v1/periods").json()
    assert periods["weeks"]["latest"] == WEEK and periods["synthetic"] is True
    cap = client.get("/api/v1/capacity?beds=620").json()
    assert cap["levers"]["beds"] == 620 and cap["results"]


def test_openapi_describes_every_api_route(client) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    paths = set(schema["paths"])
    for p in ("/api/v1/england", "/api/v1/providers/{code}", "/api/v1/oversight/summons",
              "/api/v1/capacity", "/api/v1/patients/measures"):  # fmt: skip
        assert p in paths
    assert not any(p.startswith("/providers") for p in paths), "pages stay out of the API doc"
    assert client.get("/docs").status_code == 404  # no CDN-loaded docs
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert {"bearer": []} in schema["security"]
    for path, ops in schema["paths"].items():
        responses = ops["get"]["responses"]
        assert "422" not in responses, path  # parameter errors are 400s
        ok = responses["200"]["content"]["application/json"]["schema"]
        assert ok.get("$ref", "").startswith("#/components/schemas/"), path
    league = schema["components"]["schemas"]["LeagueOut"]
    assert {"period", "level", "count", "organisations"} <= set(league["required"])


def test_head_is_answered_like_get_without_a_body(client) -> None:
    for path in ("/", "/providers", "/api/v1/periods"):
        get, head = client.get(path), client.head(path)
        assert head.status_code == get.status_code == 200
        assert head.content == b""
        assert head.headers["content-type"] == get.headers["content-type"]


def test_unknown_query_parameters_are_refused_by_name(client) -> None:
    r = client.get(f"/providers?wek={WEEK}")
    assert r.status_code == 400 and "unknown query parameter" in r.text and "wek" in r.text
    assert client.get("/capacity?bedz=3").status_code == 400
    assert client.get(f"/providers?week={WEEK}&region=").status_code == 200


def test_organisations_named_in_old_links_redirect_to_their_code(client) -> None:
    row = client.get("/api/v1/providers").json()["organisations"][0]
    region = client.get(f"/api/v1/regions/{row['region_code']}").json()["name"]
    for old, new in (
        (f"/regions/{region}", f"/regions/{row['region_code']}"),
        (f"/regions/{region.upper()}?week={WEEK}", f"/regions/{row['region_code']}?week={WEEK}"),
        (f"/providers?region={region}", f"/providers?region={row['region_code']}"),
        (f"/api/v1/regions/{region}", f"/api/v1/regions/{row['region_code']}"),
    ):
        r = client.get(old, follow_redirects=False)
        assert r.status_code == 301 and r.headers["location"] == new.replace(" ", "%20"), old
    assert client.get("/regions/No Such Place").status_code == 404


def test_links_keep_the_period_and_csv_is_keyed_by_it(client) -> None:
    earlier = (LAST - dt.timedelta(weeks=10)).isoformat()
    page = Page(client.get(f"/providers?week={earlier}").text)
    period_pages = [
        link
        for link in page.links
        if link.startswith(("/providers", "/systems", "/regions", "/oversight?", "/?"))
        or link in ("/", "/oversight")
    ]
    assert period_pages and all(f"week={earlier}" in link for link in period_pages), period_pages
    r = client.get(f"/providers?week={earlier}&download=providers")
    assert f"providers-week-ending-{earlier}.csv" in r.headers["content-disposition"]
    header, first = r.text.splitlines()[:2]
    assert header.startswith("period,period_start,period_end,") and "breaches" in header
    assert first.startswith(f"week,{(LAST - dt.timedelta(weeks=10, days=6)).isoformat()},{earlier}")


def test_the_league_chart_renders(client) -> None:
    page = Page(client.get(f"/providers?week={WEEK}").text)
    assert page.figures and page.figures[0]["svg"], "the league chart is drawn"


def test_dates_outside_the_service_years_are_400_not_500(client) -> None:
    for path in (
        "/?month=9999-12",
        "/providers?week=9999-12-31",
        "/oversight/funding?quarter=0000-01Q1",
    ):
        assert client.get(path).status_code == 400, path


# ---------------------------------------------------------------------- tokens, roles


def run_cli(args: list[str], monkeypatch, capsys) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["fourhour", *args])
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().out


def test_tokens_are_created_listed_revoked_and_stored_hashed(world, monkeypatch, capsys) -> None:
    path = str(world[0])
    code, out = run_cli(["tokens", "create", "--name", "jo", "--role", "analyst", "-w", path],
                        monkeypatch, capsys)  # fmt: skip
    assert code == 0
    token = out.strip().splitlines()[-1]
    assert token.startswith("fh_")
    with open_warehouse(world[0]) as wh:
        stored = wh.con.execute("SELECT sha256, name, role FROM api_tokens").fetchall()
    assert (digest(token), "jo", "analyst") in stored
    assert not any(token in str(row) for row in stored)
    code, out = run_cli(["tokens", "list", "-w", path], monkeypatch, capsys)
    assert "jo" in out and token not in out
    code, _ = run_cli(["tokens", "create", "--name", "x", "--role", "admin", "-w", path],
                      monkeypatch, capsys)  # fmt: skip
    assert code == 2  # an unknown role is invalid input


def test_exact_patient_figures_need_an_analyst_token_and_requests_are_audited(world) -> None:
    with open_warehouse(world[0]) as wh:
        _, analyst = create_token(wh, "analyst-a", "analyst")
        _, viewer = create_token(wh, "viewer-v", "viewer")
        revoked_token, revoked = create_token(wh, "gone", "analyst")
        from fourhour.web.tokens import revoke_token

        revoke_token(wh, revoked_token.id)
    app = app_for(*world)
    with TestClient(app) as c:
        url = "/api/v1/patients/measures?level=provider&period=week"
        public = c.get(url).json()
        assert public["disclosure"].startswith("protected")
        assert c.get(url + "&exact=true").status_code == 403
        who = {"authorization": f"Bearer {viewer}"}
        assert c.get(url + "&exact=true", headers=who).status_code == 403
        exact = c.get(url + "&exact=true", headers={"authorization": f"Bearer {analyst}"})
        assert exact.status_code == 200
        assert exact.headers["cache-control"] == "no-store"
        rows = exact.json()["rows"]
        assert exact.json()["disclosure"].startswith("exact")
        assert all(isinstance(r["attendances"], int) for r in rows)
        assert any(r["attendances"] % 5 for r in rows)  # not rounded
        assert all(r["attendances"] == "*" or r["attendances"] % 5 == 0 for r in public["rows"])
        patient_columns = {"attendance_id", "arrival", "departure", "decision_to_admit"}
        assert all(not patient_columns & set(r) and r["level"] == "provider" for r in rows)
        for bad in (f"Bearer {revoked}", "Bearer fh_nope-nope-nope-nope-nope", "Basic abc"):
            r = c.get("/api/v1/whoami", headers={"authorization": bad})
            assert r.status_code == 401 and r.json()["error"]["status"] == 401
        assert c.get("/api/v1/whoami", headers=who).json()["token"]["name"] == "viewer-v"
        app.state.site.audit.flush()
    time.sleep(0.5)
    with open_warehouse(world[0]) as wh:
        log = wh.con.execute(
            'SELECT token_id, method, path, query, status FROM audit_log ORDER BY "at"'
        ).fetchall()
    ids = {t.name: t.id for t in list_tokens_of(world[0])}
    assert (ids["analyst-a"], "GET", "/api/v1/patients/measures",
            "level=provider&period=week&exact=true", 200) in log  # fmt: skip
    assert (ids["viewer-v"], "GET", "/api/v1/patients/measures",
            "level=provider&period=week&exact=true", 403) in log  # fmt: skip
    assert sum(1 for row in log if row[0] is None and row[4] == 401) >= 3
    assert not any(row[2] == "/api/v1/patients/measures" and row[0] is None and row[4] == 200
                   for row in log)  # fmt: skip


def list_tokens_of(path: Path):
    with open_warehouse(path) as wh:
        return list_tokens(wh)


# --------------------------------------------------------------- the warehouse, caching


def test_new_data_is_seen_after_an_ingest_and_a_busy_warehouse_is_a_503(
    tmp_path, web_world
) -> None:
    path, rules = web_world(tmp_path, patients=False)
    app = app_for(path, rules, idle_release_s=0.2)
    with TestClient(app) as c:
        before = c.get("/api/v1/periods").json()
        assert before["weeks"]["latest"] == WEEK
        time.sleep(0.8)  # idle: the server lets go of the file
        holder = subprocess.Popen(
            [sys.executable, "-c",
             "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', "
             "flush=True); time.sleep(3)", str(path)],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert holder.stdout.readline().strip() == "held"
        r = c.get("/api/v1/england?week=2025-03-23")
        assert r.status_code == 503, r.text
        assert r.headers["retry-after"] == "5"
        assert "busy" in r.json()["error"]["message"]
        holder.wait(timeout=10)
        with open_warehouse(path) as wh:
            wh.con.execute(
                "INSERT INTO ingest_log (ingest_id, file, sha256, layout, rows_read, "
                "rows_inserted, rows_replaced) VALUES (nextval('ingest_id_seq'), 'x', 'y', "
                "'z', 0, 0, 0)"
            )
            wh.con.execute(
                "INSERT INTO provider_returns (granularity, period_start, period_end, org_code, "
                "att_type1, br_type1, ingest_id) VALUES ('week', DATE '2025-03-31', "
                "DATE '2025-04-06', 'ZS001', 100, 10, currval('ingest_id_seq'))"
            )
        after = c.get("/api/v1/periods").json()
        assert after["weeks"]["latest"] == "2025-04-06"


def test_serve_binds_to_loopback_by_default_and_needs_a_warehouse(tmp_path, monkeypatch, capsys):
    import inspect

    from fourhour.cli.serve_cmd import _is_loopback, serve

    assert inspect.signature(serve).parameters["host"].default == "127.0.0.1"
    assert _is_loopback("127.0.0.1") and _is_loopback("::1") and _is_loopback("localhost")
    assert not _is_loopback("0.0.0.0")
    code, _ = run_cli(["serve", "-w", str(tmp_path / "none.duckdb")], monkeypatch, capsys)
    assert code == 4  # WarehouseError: no warehouse there (docs/cli.md)


def test_migration_0005_adds_the_token_and_audit_tables(tmp_path) -> None:
    with open_warehouse(tmp_path / "w.duckdb") as wh:
        assert "0005_web" in wh.applied_migrations()
        tables = wh.table_counts()
    assert tables["api_tokens"] == 0 and tables["audit_log"] == 0
