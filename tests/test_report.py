"""The board report: HTML from a small synthetic warehouse holds the bulletin, every chart as
inline SVG with its text alternative, and an icon row for every provider; the PDF has pages; the
command line fails cleanly for a period without data or an unknown provider or system."""

from __future__ import annotations

import datetime as dt
import re
import sys
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from fourhour.cli import main
from fourhour.errors import FourhourError, InvalidInputError, QueryError
from fourhour.ingest.synthetic import generate_weekly_returns
from fourhour.measures import measure_table
from fourhour.periods import month, week_ending
from fourhour.report import board
from fourhour.report.board import (
    DEFAULT_SECTIONS,
    Section,
    build_report,
    escalation_section,
    render_html,
)
from fourhour.report.pdf import svg_as_images
from fourhour.warehouse import open_warehouse
from fourhour.warehouse.load import ingest_file

LAST = "2025-03-30"  # the synthetic data set's last week
WEEK = week_ending(dt.date.fromisoformat(LAST))
PROVIDERS = 24
WEEKS = 60


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """24 synthetic providers over 30 weeks, with their system mapping."""
    root = tmp_path_factory.mktemp("board")
    files = generate_weekly_returns(root / "data", providers=PROVIDERS, weeks=WEEKS, seed=7)
    path = root / "w.duckdb"
    with open_warehouse(path) as wh:
        for f in files:
            ingest_file(wh, f)
    SYNTHETIC_PATH[:] = [path]
    return path


def run(args: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    """The command line as a user runs it: FourhourError becomes a message and exit code."""
    monkeypatch.setattr(sys, "argv", ["fourhour", *args])
    try:
        main()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


class Page(HTMLParser):
    """What a reader of the HTML sees: headings, table rows, figures and their captions."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.headings: list[str] = []
        self.svgs = 0
        self.figures: list[dict] = []
        self.rows: dict[str, list[list[str]]] = {}
        self.text: list[str] = []
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._heading: list[str] | None = None
        self._caption: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "svg":
            self.svgs += 1
            if self.figures and self.figures[-1].get("svg") is None:
                self.figures[-1]["svg"] = a
        elif tag == "figure":
            self.figures.append({"id": a.get("id"), "svg": None, "caption": ""})
        elif tag == "figcaption":
            self._caption = []
        elif tag == "table":
            self._table = a.get("class") or ""
            self.rows.setdefault(self._table, [])
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag in ("h1", "h2", "h3"):
            self._heading = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "figcaption" and self._caption is not None:
            self.figures[-1]["caption"] = "".join(self._caption).strip()
            self._caption = None
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            self.rows[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None
        elif tag in ("h1", "h2", "h3") and self._heading is not None:
            self.headings.append("".join(self._heading).strip())
            self._heading = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        for part in (self._cell, self._heading, self._caption):
            if part is not None:
                part.append(data)


@pytest.fixture(scope="module")
def weekly_html(synthetic: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    out = tmp_path_factory.mktemp("out") / "report.html"
    with open_warehouse(synthetic, read_only=True) as wh:
        report = build_report(wh, WEEK)
    out.write_text(render_html(report), encoding="utf-8")
    return out.read_text(encoding="utf-8"), out


# ------------------------------------------------------------------------------- HTML


def test_html_report_holds_the_bulletin_and_sections(weekly_html: tuple[str, Path]) -> None:
    page = Page(weekly_html[0])
    text = " ".join(" ".join(page.text).split())
    assert "Synthetic data" in text
    assert "of attendances at all A&E types were seen within four hours" in text
    assert "providers below 80.0% (all types)" in text
    for heading in ("England", "Providers", "SPC icons for every provider", "Notes and methods"):
        assert heading in page.headings, heading
    assert "Week ending 30 March 2025" in page.headings
    # The bulletin's table by department type, rendered from its Markdown.
    figures = page.rows["figures"]
    assert figures[0][:2] == ["", "Attendances"]
    assert [r[0] for r in figures[1:5]] == ["All types", "Type 1 (major A&E)", "Type 2", "Type 3/4"]
    assert figures[5][:2] == ["Provider", "Code"]  # then the lowest performers


def test_every_chart_is_inline_svg_with_a_text_alternative(weekly_html: tuple[str, Path]) -> None:
    page = Page(weekly_html[0])
    ids = [f["id"] for f in page.figures]
    assert ids == ["fig-trend", "fig-types", "fig-spc-england", "fig-funnel", "fig-league"]
    for f in page.figures:
        assert f["svg"] is not None, f["id"]
        assert f["svg"].get("role") == "img"
        assert len(f["caption"]) > 80, f["id"]
    captions = {f["id"]: f["caption"] for f in page.figures}
    assert re.search(r"Latest \d+\.\d%, against \d+\.\d% a year earlier", captions["fig-trend"])
    assert f"Funnel plot of {len(major(WEEK))} providers" in captions["fig-funnel"]
    assert "Statistical process control (XmR) chart, England" in captions["fig-spc-england"]
    assert f"{WEEKS} weeks" in captions["fig-spc-england"]
    # Every other SVG is a Making Data Count icon, each with its words as a text alternative.
    icons = re.findall(r'<svg [^>]*class="mdc-icon[^"]*"[^>]*>', weekly_html[0])
    assert page.svgs == len(page.figures) + len(icons)
    assert all('role="img"' in i and 'aria-label="' in i for i in icons)


def test_the_pdf_takes_each_inline_svg_as_an_image_of_the_same_drawing(
    weekly_html: tuple[str, Path],
) -> None:
    html = weekly_html[0]
    page, images = svg_as_images(html)
    assert "<svg" not in page
    inline = re.findall(r"<svg\b.*?</svg>", html, flags=re.S)
    # One image per distinct drawing: the icon table repeats a few icons many times.
    assert sorted(i.decode() for i in images.values()) == sorted(set(inline))
    assert len(images) < len(inline)
    sources = re.findall(r'<img src="([^"]+)" alt="([^"]*)"', page)
    assert len(sources) == len(inline)
    assert all(images[src].decode() == svg for (src, _), svg in zip(sources, inline, strict=True))
    # The text alternative (the SVG's title) becomes the image's alt, escaped once.
    funnel = next(
        alt
        for src, alt in sources
        if images[src].startswith(b'<svg role="img" aria-labelledby="fig-funnel')
    )
    assert funnel.startswith(f"Funnel plot of {len(major(WEEK))} providers")
    # Outside the drawings, the words of the page are the same.
    assert Page(page).text == Page(re.sub(r"<svg\b.*?</svg>", "", html, flags=re.S)).text


def major(period) -> set[str]:
    """The synthetic providers with a major (type 1) A&E department in `period`."""
    with open_warehouse(SYNTHETIC_PATH[0], read_only=True) as wh:
        table = measure_table(wh, period, "provider")
    return set(table.loc[table["type1_attendances"].fillna(0) > 0, "code"])


SYNTHETIC_PATH: list[Path] = []


def test_icon_table_has_a_row_for_every_provider(
    weekly_html: tuple[str, Path], synthetic: Path
) -> None:
    page = Page(weekly_html[0])
    rows = page.rows["icons"][1:]  # after the header
    with open_warehouse(synthetic, read_only=True) as wh:
        table = measure_table(wh, WEEK, "provider")
    table = table[table["code"].isin(major(WEEK))]
    assert sorted(r[1] for r in rows) == sorted(table["code"])
    by_code = {r[1]: r for r in rows}
    for code, pct in zip(table["code"], table["all_types_performance_pct"], strict=True):
        assert by_code[code][2] == f"{pct:.1f}%"
        # The icon's text alternative (its SVG title), the letter it draws, then the words.
        variation, assurance = by_code[code][4], by_code[code][5]
        assert variation in {
            "Variation: Common cause variationCommon cause",
            "Variation: Special cause – concern (low)LConcern (low)",
            "Variation: Special cause – concern (high)HConcern (high)",
            "Variation: Special cause – improvement (low)LImprovement (low)",
            "Variation: Special cause – improvement (high)HImprovement (high)",
        }, variation
        assert assurance in {
            "Assurance: Consistently pass the targetPConsistently pass",
            "Assurance: Consistently fail the targetFConsistently fail",
            "Assurance: Hit and miss the target?Hit and miss",
        }, assurance
    # Special causes of concern come first.
    kinds = ["concern" in r[4] for r in rows]
    assert kinds == sorted(kinds, reverse=True)


def test_print_stylesheet(weekly_html: tuple[str, Path]) -> None:
    css = weekly_html[0]
    assert "size: A4" in css and "counter(page)" in css and "counter(pages)" in css
    assert "break-before: page" in css and "break-inside: avoid" in css
    assert "#005eb8" in css.lower()


# ---------------------------------------------------------------------------- sections


def test_sections_can_be_added_and_absent_ones_leave_no_trace(synthetic: Path) -> None:
    def board_notes(ctx: board.BoardContext) -> Section:
        return Section("extra", "Board notes", "<p>Chair's remarks.</p>")

    def nothing(ctx: board.BoardContext) -> None:
        return None

    with open_warehouse(synthetic, read_only=True) as wh:
        report = build_report(
            wh,
            WEEK,
            sections=[board.summary_section, nothing],
            extra_sections=[board_notes],
        )
    assert [s.key for s in report.sections] == ["summary", "extra"]
    html = render_html(report)
    assert "Chair's remarks." in html and 'href="#extra"' in html


def test_escalation_section_for_a_week_and_skipped_for_a_month_without_returns(
    synthetic: Path,
) -> None:
    with open_warehouse(synthetic, read_only=True) as wh:
        html = escalation_section(wh, WEEK)
        assert isinstance(html, str) and "summons list for the 4 weeks ending" in html
        # The synthetic world has weekly returns only: nothing to score for a month, and the
        # section says so instead of vanishing.
        skipped = escalation_section(wh, month(2025, 3))
        assert isinstance(skipped, board.Skipped) and "March 2025" in skipped.reason
    assert board.escalations_section in DEFAULT_SECTIONS


def test_focus_on_a_provider_and_a_system(synthetic: Path) -> None:
    with open_warehouse(synthetic, read_only=True) as wh:
        code = wh.con.execute("SELECT min(org_code) FROM provider_returns").fetchone()[0]
        system = wh.con.execute(
            "SELECT min(parent_code) FROM org_relations WHERE relation = 'system'"
        ).fetchone()[0]
        period = WEEK
        only = [board.focus_section]
        report = build_report(wh, period, provider=code.lower(), sections=only)
        focus = next(s for s in report.sections if s.key == "focus")
        assert code in focus.title and 'id="fig-spc-focus"' in focus.html
        assert "lowest of" in focus.html
        report = build_report(wh, period, system=system, sections=only)
        focus = next(s for s in report.sections if s.key == "focus")
        assert system in focus.title and '<table class="members">' in focus.html


def test_month_with_two_providers_reports_too_few_points(
    tmp_path: Path, provider_csv: Path
) -> None:
    path = tmp_path / "m.duckdb"
    with open_warehouse(path) as wh:
        ingest_file(wh, provider_csv)
    with open_warehouse(path, read_only=True) as wh:
        report = build_report(wh, month(2025, 1))
    html = render_html(report)
    assert "None of the 2 providers" in html and "13 monthly points" in html
    # What the warehouse holds, from the data: one month of returns in the 36 to January 2025.
    assert "holds returns for 1 of the 36 months to January 2025 (January 2025)" in html
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 48 48"') == 2
    assert html.count("<svg") == 5 + 2  # five charts and England's two icons


# ----------------------------------------------------------------------------- CLI


def test_cli_writes_html_to_the_default_name(
    synthetic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run(["report", "--week-ending", LAST, "-w", str(synthetic)], monkeypatch) == 0
    out = tmp_path / f"report-{LAST}.html"
    assert out.exists() and "<svg" in out.read_text(encoding="utf-8")
    assert f"wrote report-{LAST}.html" in capsys.readouterr().out


def test_cli_period_without_data(synthetic: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    code = run(["report", "--week-ending", "2019-01-06", "-w", str(synthetic)], monkeypatch)
    err = capsys.readouterr().err
    assert code == QueryError.exit_code
    assert "no returns for the week ending 6 January 2019" in err
    assert "the warehouse holds weeks ending from" in err


@pytest.mark.parametrize(
    ("args", "message", "kind"),
    [
        (["--provider", "NOPE"], "no provider with code 'NOPE'", QueryError),
        (["--system", "NOPE"], "no system with code 'NOPE'", QueryError),
        (["--provider", "A", "--system", "B"], "at most one of --provider", InvalidInputError),
        (["--out", "report.docx"], "expected a file ending .html or .pdf", InvalidInputError),
    ],
)
def test_cli_refuses_bad_requests(
    synthetic: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys,
    args: list[str],
    message: str,
    kind: type[FourhourError],
) -> None:
    code = run(["report", "--week-ending", LAST, "-w", str(synthetic), *args], monkeypatch)
    assert code == kind.exit_code
    assert message in " ".join(capsys.readouterr().err.split())


def test_cli_chooses_the_spc_preset(
    synthetic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    out = tmp_path / "r.html"
    args = ["report", "--week-ending", LAST, "-w", str(synthetic), "-o", str(out)]
    assert run([*args, "--spc-preset", "nhsrplotthedots"], monkeypatch) == 0
    assert "follows the R package NHSRplotthedots 0.2.2" in out.read_text(encoding="utf-8")
    code = run([*args, "--spc-preset", "excel"], monkeypatch)
    err = " ".join(capsys.readouterr().err.split())
    assert code == InvalidInputError.exit_code == 2  # a usage error, not a missing result
    assert "preset must be one of making-data-count, nhsrplotthedots, not 'excel'" in err


def test_cli_refuses_a_day_that_is_not_a_sunday(
    synthetic: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    code = run(["report", "--week-ending", "2025-03-29", "-w", str(synthetic)], monkeypatch)
    err = capsys.readouterr().err
    assert code == InvalidInputError.exit_code and "Saturday" in err and "2025-03-30" in err


# ------------------------------------------------------------------------------- PDF


def pdf_pages(data: bytes) -> int:
    """Page objects in a PDF, looking inside compressed object streams too."""
    text = data
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, flags=re.S):
        try:
            text += zlib.decompress(stream)
        except zlib.error:
            continue
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", text))


@pytest.mark.slow
def test_pdf_report_has_pages_and_vector_charts(
    synthetic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    out = tmp_path / "board.pdf"
    code = run(
        ["report", "--week-ending", LAST, "-w", str(synthetic), "--out", str(out)], monkeypatch
    )
    assert code == 0
    assert "pages" in capsys.readouterr().out
    data = out.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert pdf_pages(data) > 1
    assert b"/Subtype /Image" not in data  # charts are vector, not pictures


# --------------------------------------------------------------------------- real data


@pytest.mark.slow
@pytest.mark.realdata
def test_real_winter_week_is_type_1_only(real_warehouse: Path) -> None:
    with open_warehouse(real_warehouse, read_only=True) as wh:
        report = build_report(wh, week_ending(dt.date(2015, 1, 4)))
    assert report.basis == "type1"
    html = render_html(report)
    page = Page(html)
    text = " ".join(" ".join(page.text).split())
    assert "All-types figures are not held" in text
    assert "79.8% of attendances at major (type 1) A&E" in text
    captions = {f["id"]: f["caption"] for f in page.figures}
    assert "type 1 (major A&E) latest 79.8%" in captions["fig-types"]
    assert "All-types figures are not published" in captions["fig-types"]
    # Every provider of the weekly returns has a major A&E, and the text says so.
    assert len(page.rows["icons"]) - 1 == report.bulletin["meta"]["providers_reporting"]
    assert "have a major (type 1) A&E department and are compared" in text


# ------------------------------------------------- issue 12: the board report, fixed


def test_board_text_drops_command_hints_and_long_decimals() -> None:
    text = (
        "SPC special cause of concern: below lower limit 82.88. No accountable leaders are "
        "recorded for this system (fourhour leaders import). 74.8% of 22,047 attendances; "
        "week ending 2015-01-04; φ 349.4; and 3 more (`fourhour escalate` lists them all). "
        "36 providers were not scored: AC008, ATQ02 (import a mapping with fourhour orgs "
        "import)"
    )
    out = board.board_text(text)
    assert "fourhour" not in out and "`" not in out
    assert "below lower limit 82.9." in out
    assert "74.8% of 22,047 attendances; week ending 2015-01-04; φ 349.4; and 3 more." in out
    assert out.endswith("not scored: AC008, ATQ02")


def test_chosen_provider_is_highlighted_and_minor_units_are_left_out(synthetic: Path) -> None:
    chosen = sorted(major(WEEK))[0]
    others = {p for p in all_providers(WEEK) if p not in major(WEEK)}
    assert others, "the synthetic world should hold providers without a major A&E"
    with open_warehouse(synthetic, read_only=True) as wh:
        report = build_report(wh, WEEK, provider=chosen)
    html = render_html(report)
    page = Page(html)
    svgs = dict(re.findall(r'<figure id="([^"]+)">\s*<div class="chart">(.*?)</div>', html, re.S))
    funnel, league = svgs["fig-funnel"], svgs["fig-league"]
    assert f"{chosen} (chosen)" in funnel  # ringed and named in the funnel plot
    bold = re.findall(r'<text[^>]*font-weight="bold"[^>]*>([^<]*)</text>', league)
    assert any(f"({chosen})" in b for b in bold)  # its row's label in bold
    for code in others:  # minor units are in neither chart nor the icon table
        assert f"({code})" not in league and f">{code}<" not in funnel
    assert not [r for r in page.rows["icons"] if r[1] in others]
    chosen_rows = re.findall(r'<tr class="chosen"><td class="name">[^<]*</td><td>([^<]+)<', html)
    assert chosen_rows == [chosen]
    text = " ".join(" ".join(page.text).split())
    reporting = report.bulletin["meta"]["providers_reporting"]
    assert (
        f"{reporting} providers reported for the week ending 30 March 2025. The funnel plot, "
        f"league table and SPC icons compare the {len(major(WEEK))} with a major (type 1) A&E "
        f"department; {len(others)} without one"
    ) in text
    assert "is ringed in the funnel plot and set in bold, ringed, in the league table" in text
    captions = {f["id"]: f["caption"] for f in page.figures}
    assert "providers with a major A&E" in captions["fig-league"]
    assert "Highlighted: " in captions["fig-league"] and f"({chosen})" in captions["fig-league"]
    assert "Ringed: " in captions["fig-funnel"]


def all_providers(period) -> set[str]:
    with open_warehouse(SYNTHETIC_PATH[0], read_only=True) as wh:
        return set(measure_table(wh, period, "provider")["code"])


def test_long_league_tables_are_split_into_readable_pages() -> None:
    import pandas as pd

    from fourhour.report import charts

    frame = pd.DataFrame(
        {
            "code": [f"R{k:02d}" for k in range(120)],
            "name": [f"Trust {k}" for k in range(120)],
            "performance_pct": [60 + k * 0.3 for k in range(120)],
        }
    )
    pages = charts.league_pages(frame, per_page=50, highlight="R07")
    assert len(pages) == 3
    seen = []
    for chart in pages:
        spec = chart.to_dict()
        (panel,) = spec["hconcat"]  # one column per page
        rows = spec["datasets"][panel["layer"][0]["data"]["name"]]
        assert len(rows) <= 50
        axis = panel["layer"][0]["encoding"]["y"]["axis"]
        assert axis["labelFontSize"] >= 10
        seen += [r["code"] for r in rows]
    assert seen == list(frame["code"])  # every provider once, lowest first
    assert "ranks 1-40 of 120" in pages[0].to_dict()["title"]["subtitle"]
    assert "Highlighted: Trust 7 (R07)" in pages[0].to_dict()["description"]
    assert "Highlighted" not in pages[1].to_dict()["description"]


@pytest.mark.slow
@pytest.mark.realdata
def test_real_december_2018_report_for_rxw(real_warehouse: Path) -> None:
    """RXW's December 2018 board report: the month on its month, RXW highlighted, acute trusts
    only in the league table, counts explained, one decimal place throughout."""
    with open_warehouse(real_warehouse, read_only=True) as wh:
        report = build_report(wh, month(2018, 12), provider="RXW")
    html = render_html(report)
    page = Page(html)
    text = " ".join(" ".join(page.text).split())
    assert "65.5% of 11,464 attendances were within four hours" in text
    assert "RXW (chosen)" in html
    c = report.sections[0]  # the summary states how reporting providers become compared ones
    m = re.search(
        r"(\d+) providers reported for December 2018\. The funnel plot, league table and SPC "
        r"icons compare the (\d+) with a major \(type 1\) A&E department; (\d+) without one",
        text,
    )
    assert m and int(m[1]) == int(m[2]) + int(m[3]) + int(
        re.search(r"as (?:is|are) (\d+) with no", text)[1] if "with no" in text else 0
    ), c.title
    league = [f for f in page.figures if f["id"].startswith("fig-league")]
    assert len(league) >= 3  # 134 trusts, at most 50 a page
    assert "Walk-in" not in html.split('id="fig-league"')[1].split("</figure>")[0]
    focus = {f["id"]: f["caption"] for f in page.figures}["fig-spc-focus"]
    assert "33 months, April 2016 to December 2018" in focus
    # One decimal place for every percentage and limit in the text.
    assert not re.findall(r"\d\.\d{2,}%", text)
    assert "fourhour leaders" not in text and "fourhour escalate" not in text


@pytest.mark.slow
@pytest.mark.realdata
def test_real_january_2026_report_explains_its_counts_and_history(real_warehouse: Path) -> None:
    with open_warehouse(real_warehouse, read_only=True) as wh:
        report = build_report(wh, month(2026, 1))
    page = Page(render_html(report))
    text = " ".join(" ".join(page.text).split())
    captions = {f["id"]: f["caption"] for f in page.figures}
    # Captions give the months that hold data, not the window asked for: the chart's 24
    # months from February 2024 (the 2023-24 workbooks end then; March 2024 is not held).
    assert "February 2024 to January 2026" in captions["fig-types"]
    assert "2023" not in captions["fig-types"]
    assert "reported for January 2026. The funnel plot" in text
    if "None of the" in text:  # too few months of provider returns for icons: said from data
        assert re.search(r"holds returns for \d+ of the 36 months to January 2026", text)
