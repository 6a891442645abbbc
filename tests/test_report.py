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
from fourhour.errors import InvalidInputError, QueryError
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
    assert f"Funnel plot of {PROVIDERS} providers" in captions["fig-funnel"]
    assert "Statistical process control (XmR) chart, England" in captions["fig-spc-england"]
    assert f"{WEEKS} periods" in captions["fig-spc-england"]
    assert page.svgs == len(page.figures)  # no other SVG: badges are plain HTML


def test_icon_table_has_a_row_for_every_provider(
    weekly_html: tuple[str, Path], synthetic: Path
) -> None:
    page = Page(weekly_html[0])
    rows = page.rows["icons"][1:]  # after the header
    with open_warehouse(synthetic, read_only=True) as wh:
        table = measure_table(wh, WEEK, "provider")
    assert sorted(r[1] for r in rows) == sorted(table["code"])
    by_code = {r[1]: r for r in rows}
    for code, pct in zip(table["code"], table["all_types_performance_pct"], strict=True):
        assert by_code[code][2] == f"{pct:.1f}%"
        variation, assurance = by_code[code][4], by_code[code][5]  # badge letter, then words
        assert (variation[0], variation[1:]) in {
            ("~", "Common cause"),
            ("L", "Concern (low)"),
            ("H", "Concern (high)"),
            ("L", "Improvement (low)"),
            ("H", "Improvement (high)"),
        }
        assert (assurance[0], assurance[1:]) in {
            ("P", "Consistently pass"),
            ("F", "Consistently fail"),
            ("?", "Hit and miss"),
        }
    # Special causes of concern come first.
    kinds = [r[4][1:].startswith("Concern") for r in rows]
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


def test_escalation_section_for_a_week_and_none_for_a_month_without_returns(
    synthetic: Path,
) -> None:
    with open_warehouse(synthetic, read_only=True) as wh:
        html = escalation_section(wh, WEEK)
        assert html is not None and "summons list for the 4 weeks ending" in html
        # The synthetic world has weekly returns only: nothing to score for a month.
        assert escalation_section(wh, month(2025, 3)) is None
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
    assert html.count("<svg") == 5


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
    ("args", "message"),
    [
        (["--provider", "NOPE"], "no provider with code 'NOPE'"),
        (["--system", "NOPE"], "no system with code 'NOPE'"),
        (["--provider", "A", "--system", "B"], "at most one of --provider"),
        (["--out", "report.docx"], "expected a file ending .html or .pdf"),
    ],
)
def test_cli_refuses_bad_requests(
    synthetic: Path, monkeypatch: pytest.MonkeyPatch, capsys, args: list[str], message: str
) -> None:
    code = run(["report", "--week-ending", LAST, "-w", str(synthetic), *args], monkeypatch)
    assert code == QueryError.exit_code
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
    assert code == QueryError.exit_code and "Saturday" in err and "2025-03-30" in err


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
    assert len(page.rows["icons"]) - 1 == report.bulletin["meta"]["providers_reporting"]
