"""The board report: the bulletin, charts, SPC icons for every provider and, where the oversight
engine is present, the summons list, as one HTML document with a print stylesheet, or a PDF.

A report is a list of sections. Each section builder takes the `BoardContext` (the warehouse,
the period, and series read once and shared) and returns a `Section` or None (nothing to say,
so no heading and no placeholder). `DEFAULT_SECTIONS` is the standard order; `build_report`
takes `extra_sections` to append more, and `escalation_section(wh, period)` is the hook for the
oversight engine's summons list.

Charts are embedded as inline SVG, so the PDF (made by WeasyPrint) is vector throughout.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from markdown_it import MarkdownIt
from markupsafe import Markup

from fourhour.errors import FourhourError, QueryError
from fourhour.measures import STANDARD_PCT, THRESHOLD_PCT, measure_table
from fourhour.measures.spc import SpcOptions, SpcResult, xmr
from fourhour.periods import Period
from fourhour.report import charts
from fourhour.report.bulletin import build_bulletin, is_synthetic, render
from fourhour.report.occupancy import occupancy_section
from fourhour.report.series import (
    HISTORY,
    SPC_FREQ,
    TREND,
    england_series,
    last_year_values,
    org_series,
    periods_back,
)
from fourhour.report.templating import environment
from fourhour.warehouse import Warehouse
from fourhour.warehouse.hierarchy import parents_sql, provider_parents

BASIS_LABELS = {"all_types": "all types", "type1": "type 1 (major A&E)"}
REPORT_FORMATS = (".html", ".pdf")
VARIATION_ORDER = ("concern", "neither", "common_cause", "improvement", None)

Progress = Callable[[str], None]


# -------------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Figure:
    key: str
    svg: str
    description: str


@dataclass
class Section:
    """One part of the report: a heading, its HTML, and whether it starts a new page."""

    key: str
    title: str
    html: str
    page_break: bool = True


@dataclass(frozen=True)
class Focus:
    """The provider or system the report looks at closely."""

    level: str  # provider | system
    code: str
    name: str

    @property
    def label(self) -> str:
        """The name, with the code where it says something the name does not."""
        return self.name if self.name.upper() == self.code.upper() else f"{self.name} ({self.code})"


@dataclass
class BoardReport:
    period: Period
    title: str
    basis: str
    synthetic: bool
    bulletin: dict
    sections: list[Section]
    notes: list[str] = field(default_factory=list)
    focus: Focus | None = None
    timings: dict[str, float] = field(default_factory=dict)
    pages: int | None = None  # set once written as a PDF


def _svg(chart: Any, key: str) -> Figure:
    spec = chart.to_dict()
    description = spec.get("description", "")
    svg = charts.to_svg(spec)
    # A text alternative on the SVG itself, for readers that meet it outside the figure.
    svg = re.sub(
        r"^<svg ",
        f'<svg role="img" aria-labelledby="{key}-title" ',
        svg,
        count=1,
    )
    title = f'<title id="{key}-title">{Markup.escape(description)}</title>'
    svg = re.sub(r"(<svg[^>]*>)", lambda m: m.group(1) + title, svg, count=1)
    return Figure(key, svg, description)


# ------------------------------------------------------------------------------ context


@dataclass
class BoardContext:
    """What every section reads: the warehouse, the period and series read once."""

    wh: Warehouse
    period: Period
    bulletin: dict
    focus: Focus | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def granularity(self) -> str:
        return self.period.granularity

    @property
    def unit(self) -> str:
        return self.period.granularity  # week | month

    @cached_property
    def basis(self) -> str:
        """All types where England's all-types figure exists for the period, else type 1."""
        return "all_types" if self.bulletin["england"]["all_types"]["attendances"] else "type1"

    @property
    def when(self) -> str:
        """The period as a phrase: 'the week ending 4 January 2015', 'December 2025'."""
        return charts.the(self.period.label)

    @property
    def basis_label(self) -> str:
        return BASIS_LABELS[self.basis]

    @property
    def value_column(self) -> str:
        return f"{self.basis}_performance_pct"

    @cached_property
    def england(self) -> pd.DataFrame:
        return england_series(self.wh, self.period, HISTORY[self.granularity])

    @cached_property
    def providers_now(self) -> pd.DataFrame:
        """Every provider with a figure on the report's basis for the period."""
        table = measure_table(self.wh, self.period, "provider")
        return table[table[self.value_column].notna()].reset_index(drop=True)

    @cached_property
    def provider_history(self) -> pd.DataFrame:
        return org_series(self.wh, self.period, HISTORY[self.granularity])

    def spc(self, frame: pd.DataFrame) -> SpcResult:
        series = frame[["code", "period_end", self.value_column]].rename(
            columns={self.value_column: "value"}
        )
        series = series.assign(value=charts.as_float(series["value"]))
        series = series[np.isfinite(series["value"].to_numpy())]
        return xmr(
            series,
            freq=SPC_FREQ[self.granularity],
            options=SpcOptions(improvement="up"),
            target=STANDARD_PCT,
        )

    @cached_property
    def provider_spc(self) -> SpcResult:
        codes = set(self.providers_now["code"])
        history = self.provider_history
        return self.spc(history[history["code"].isin(codes)])

    @cached_property
    def england_spc(self) -> SpcResult:
        return self.spc(self.england.assign(code="ENGLAND"))


# ---------------------------------------------------------------------------- sections

SectionBuilder = Callable[[BoardContext], Section | None]


def _parts() -> Any:
    return environment().get_template("board_parts.html.j2").module


def bulletin_fragment(b: dict) -> str:
    """The bulletin (its Markdown rendering) as an HTML fragment without its own title."""
    text = render(b, "markdown")
    lines = [
        line
        for line in text.splitlines()
        if not line.startswith("# ") and not line.startswith("> **Synthetic")
    ]
    md = "\n".join(lines).replace("\n## ", "\n### ")
    html = MarkdownIt("commonmark", {"html": False}).enable("table").render(md)
    return html.replace("<table>", '<table class="figures">')


def summary_section(ctx: BoardContext) -> Section:
    return Section(
        "summary",
        "Summary",
        _parts().summary(
            b=ctx.bulletin, bulletin_html=Markup(bulletin_fragment(ctx.bulletin)), when=ctx.when
        ),
        page_break=False,
    )


def _recent(ctx: BoardContext, count: int) -> pd.DataFrame:
    """England's rows for the last `count` periods, one per period (NaN where none held)."""
    ends = [pd.Timestamp(p.end) for p in periods_back(ctx.period, count)]
    eng = ctx.england.set_index("period_end")
    return eng.reindex(ends).rename_axis("period_end").reset_index()


def _trend_frame(ctx: BoardContext) -> pd.DataFrame:
    eng = ctx.england
    recent = _recent(ctx, TREND[ctx.granularity])
    return pd.DataFrame(
        {
            "period_end": recent["period_end"],
            "value": charts.as_float(recent[ctx.value_column]),
            "last_year_value": charts.as_float(
                last_year_values(recent, eng, ctx.value_column, ctx.granularity)
            ),
        }
    )


def england_section(ctx: BoardContext) -> Section:
    figures = []
    figures.append(
        _svg(
            charts.national_trend_chart(
                _trend_frame(ctx), label=ctx.basis_label, unit_name=ctx.unit
            ),
            "fig-trend",
        )
    )
    recent = _recent(ctx, TREND[ctx.granularity] * 2)
    types = pd.DataFrame(
        {
            "period_end": recent["period_end"],
            "type1_pct": recent["type1_performance_pct"],
            "all_types_pct": recent["all_types_performance_pct"],
        }
    )
    figures.append(_svg(charts.types_chart(types, unit_name=ctx.unit), "fig-types"))
    spc = ctx.england_spc
    figures.append(
        _svg(
            charts.spc_chart(
                spc.points,
                spc.summary.iloc[0],
                title=f"England: {ctx.unit}ly SPC chart, {ctx.basis_label}",
            ),
            "fig-spc-england",
        )
    )
    all_types_missing = ctx.england["all_types_performance_pct"].isna().all()
    return Section(
        "england",
        "England",
        _parts().england(figures=figures, all_types_missing=all_types_missing, ctx=ctx),
    )


def providers_section(ctx: BoardContext) -> Section | None:
    table = ctx.providers_now
    if table.empty:
        return None
    basis = ctx.basis
    funnel_input = pd.DataFrame(
        {
            "code": table["code"],
            "name": table["name"],
            "attendances": table[f"{basis}_attendances"],
            "breaches": table[f"{basis}_breaches"],
        }
    )
    od = charts.funnel_data(funnel_input)[3]
    ctx.notes.append(
        f"Funnel plot: over-dispersion factor φ = {od.phi:,.1f} across {od.k} providers"
        + (
            f"; limits widened by a between-provider standard deviation of "
            f"{od.tau_points:.1f} points."
            if od.tau2 > 0
            else "; no significant over-dispersion, so plain binomial limits."
        )
    )
    label = ctx.basis_label
    figures = [
        _svg(
            charts.funnel_chart(funnel_input, label=label, period_label=ctx.period.label),
            "fig-funnel",
        ),
        _svg(
            charts.league_chart(
                table[["code", "name", f"{basis}_performance_pct"]].rename(
                    columns={f"{basis}_performance_pct": "performance_pct"}
                ),
                label=label,
                period_label=ctx.period.label,
            ),
            "fig-league",
        ),
    ]
    return Section("providers", "Providers", _parts().providers(figures=figures, ctx=ctx))


def _icon_rows(ctx: BoardContext) -> list[dict]:
    summary = ctx.provider_spc.summary.set_index("code")
    rows = []
    for r in ctx.providers_now.itertuples(index=False):
        s = summary.loc[r.code] if r.code in summary.index else None
        v_key = None if s is None else s["variation_icon"]
        a_key = None if s is None else s["assurance_icon"]
        kind = None
        if v_key:
            kind = "common_cause" if v_key == "common_cause" else v_key.split("_")[2]
        rows.append(
            {
                "code": r.code,
                "name": r.name if isinstance(r.name, str) else r.code,
                "latest": float(getattr(r, ctx.value_column)),
                "mean": None if s is None or pd.isna(s["mean"]) else float(s["mean"]),
                "lcl": None if s is None or pd.isna(s["lcl"]) else float(s["lcl"]),
                "ucl": None if s is None or pd.isna(s["ucl"]) else float(s["ucl"]),
                "points": 0 if s is None else int(s["n_points"]),
                "variation": charts.variation_icon(v_key),
                "assurance": charts.assurance_icon(a_key),
                "kind": kind,
                "note": None if s is None else s["note"],
            }
        )
    rows.sort(key=lambda r: (VARIATION_ORDER.index(r["kind"]), r["latest"], r["code"]))
    return rows


def icons_section(ctx: BoardContext) -> Section | None:
    if ctx.providers_now.empty:
        return None
    rows = _icon_rows(ctx)
    if not any(r["kind"] for r in rows):
        return Section(
            "icons",
            "SPC icons for every provider",
            _parts().no_icons(
                n=len(rows),
                most=max(r["points"] for r in rows),
                needed=ctx.provider_spc.options.min_points,
                ctx=ctx,
            ),
        )
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["variation"].label] = counts.get(r["variation"].label, 0) + 1
    assurance: dict[str, int] = {}
    for r in rows:
        assurance[r["assurance"].label] = assurance.get(r["assurance"].label, 0) + 1
    return Section(
        "icons",
        "SPC icons for every provider",
        _parts().icons(
            rows=rows,
            counts=counts,
            assurance=assurance,
            ctx=ctx,
            history=HISTORY[ctx.granularity],
            target=STANDARD_PCT,
        ),
    )


def focus_section(ctx: BoardContext) -> Section | None:
    focus = ctx.focus
    if focus is None:
        return None
    history = org_series(
        ctx.wh, ctx.period, HISTORY[ctx.granularity], level=focus.level, codes=[focus.code]
    )
    spc = ctx.spc(history)
    if spc.points.empty:
        raise QueryError(
            f"{focus.level} {focus.code} has no {ctx.basis_label} figures in the "
            f"{HISTORY[ctx.granularity]} {ctx.unit}s to {ctx.when}"
        )
    figure = _svg(
        charts.spc_chart(
            spc.points,
            spc.summary.iloc[0],
            title=f"{focus.label}: {ctx.unit}ly SPC chart",
        ),
        "fig-spc-focus",
    )
    last = history[history["period_end"] == pd.Timestamp(ctx.period.end)]
    members: list[dict] = []
    if focus.level == "system":
        table = ctx.providers_now
        parents = provider_parents(ctx.wh, list(table["code"]), ctx.period.end)
        inside = set(parents.loc[parents["system_code"] == focus.code, "code"])
        for r in table[table["code"].isin(inside)].itertuples(index=False):
            members.append(
                {
                    "code": r.code,
                    "name": r.name if isinstance(r.name, str) else r.code,
                    "attendances": charts.as_float([getattr(r, f"{ctx.basis}_attendances")])[0],
                    "pct": float(getattr(r, ctx.value_column)),
                }
            )
        members.sort(key=lambda m: m["pct"])
    rank = None
    if focus.level == "provider" and focus.code in set(ctx.providers_now["code"]):
        ordered = ctx.providers_now.sort_values(ctx.value_column).reset_index(drop=True)
        rank = int(ordered.index[ordered["code"] == focus.code][0]) + 1
    now = None if last.empty else charts.as_float(last[ctx.value_column])[0]
    attendances = None if last.empty else charts.as_float(last[f"{ctx.basis}_attendances"])[0]
    return Section(
        "focus",
        focus.label,
        _parts().focus(
            focus=focus,
            fig=figure,
            now=None if now is None or np.isnan(now) else now,
            attendances=attendances,
            rank=rank,
            of=len(ctx.providers_now),
            members=members,
            ctx=ctx,
        ),
    )


def escalation_section(wh: Warehouse, period: Period) -> str | None:
    """The oversight engine's summons list for the week as an HTML fragment, or None where the
    engine is not installed (ImportError), for a month, or where it has nothing to say."""
    try:
        from fourhour.oversight.config import load_escalation_rules
        from fourhour.oversight.escalation import evaluate
    except ImportError:
        return None
    if period.granularity != "week":
        return None
    try:
        result = evaluate(wh, period.end, load_escalation_rules())
    except FourhourError:
        return None
    payload = result.as_dict()
    if not payload["systems_scored"]:
        return None
    return str(_parts().escalations(d=payload))


def escalations_section(ctx: BoardContext) -> Section | None:
    html = escalation_section(ctx.wh, ctx.period)
    if html is None:
        return None
    return Section("escalations", "Escalations", html)


def methods_section(ctx: BoardContext) -> Section:
    return Section(
        "methods",
        "Notes and methods",
        _parts().methods(
            ctx=ctx,
            notes=ctx.notes,
            history=HISTORY[ctx.granularity],
            standard=STANDARD_PCT,
            threshold=THRESHOLD_PCT,
        ),
    )


DEFAULT_SECTIONS: tuple[SectionBuilder, ...] = (
    summary_section,
    england_section,
    focus_section,
    providers_section,
    icons_section,
    escalations_section,
    occupancy_section,
    methods_section,
)


# ------------------------------------------------------------------------------- focus


def resolve_focus(
    wh: Warehouse, period: Period, provider: str | None, system: str | None
) -> Focus | None:
    """The provider or system named on the command line, or a clear error."""
    if provider and system:
        raise QueryError("give at most one of --provider CODE or --system CODE")
    if provider:
        code = provider.strip().upper()
        row = wh.con.execute(
            """
            SELECT count(*) FILTER (WHERE granularity = ?),
                   (SELECT any_value(name) FROM organisations WHERE code = ?)
            FROM provider_returns WHERE org_code = ?
            """,
            [period.granularity, code, code],
        ).fetchone()
        if not row[0]:
            raise QueryError(
                f"no provider with code {code!r} has {period.granularity}ly returns in the "
                "warehouse",
                hint="`fourhour orgs list --kind provider` lists the codes it knows",
            )
        return Focus("provider", code, row[1] or code)
    if system:
        code = system.strip().upper()
        systems = wh.con.execute(
            f"SELECT DISTINCT parent_code, parent_name FROM ({parents_sql('system', period.end)})"
            " ORDER BY 1"
        ).fetchall()
        names = {c.upper(): (c, n) for c, n in systems}
        if code not in names:
            known = "; ".join(c for c, _ in systems[:8]) or "none (import a mapping)"
            raise QueryError(
                f"no system with code {code!r} in the organisation mapping for the {period.label}",
                hint=f"systems known: {known}{'; ...' if len(systems) > 8 else ''} "
                "(`fourhour orgs list` lists them; `fourhour orgs import FILE` imports a mapping)",
            )
        real_code, name = names[code]
        return Focus("system", real_code, name or real_code)
    return None


# ------------------------------------------------------------------------------ building


def build_report(
    wh: Warehouse,
    period: Period,
    *,
    provider: str | None = None,
    system: str | None = None,
    sections: Sequence[SectionBuilder] = DEFAULT_SECTIONS,
    extra_sections: Sequence[SectionBuilder] = (),
    progress: Progress | None = None,
) -> BoardReport:
    """Read the warehouse and build every section of the board report for `period`."""
    if period.granularity not in HISTORY:
        raise QueryError(f"board reports are weekly or monthly, not by {period.granularity}")
    step = progress or (lambda _: None)
    clock = _Clock()
    step("bulletin")
    bulletin = build_bulletin(wh, period)  # QueryError with a hint where the period is empty
    focus = resolve_focus(wh, period, provider, system)
    ctx = BoardContext(wh, period, bulletin, focus)
    if ctx.basis == "type1":
        ctx.notes.append(
            "All-types figures are not held for this period (the weekly returns of 2010-2015 "
            "publish major A&E only), so every figure and chart is type 1 (major A&E)."
        )
    clock.lap("bulletin")
    built: list[Section] = []
    for builder in [*sections, *extra_sections]:
        name = builder.__name__.removesuffix("_section")
        if name != "focus" or focus is not None:
            step(name)
        section = builder(ctx)
        clock.lap(name)
        if section is not None:
            built.append(section)
    where = f": {focus.name}" if focus else ""
    return BoardReport(
        period=period,
        title=f"A&E four-hour performance, {period.label}{where}",
        basis=ctx.basis,
        synthetic=is_synthetic(wh),
        bulletin=bulletin,
        sections=built,
        notes=ctx.notes,
        focus=focus,
        timings=clock.laps,
    )


class _Clock:
    def __init__(self) -> None:
        import time

        self._time = time.perf_counter
        self._last = self._time()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = self._time()
        self.laps[name] = now - self._last
        self._last = now


# ----------------------------------------------------------------------------- writing


def render_html(report: BoardReport) -> str:
    return (
        environment()
        .get_template("board.html.j2")
        .render(
            r=report,
            b=report.bulletin,
            generated=dt.date.today(),
            basis_label=BASIS_LABELS[report.basis],
            last_year_when=charts.the(report.bulletin["meta"]["same_period_last_year"]["label"]),
        )
    )


def write_pdf(html: str, path: Path) -> int:
    """HTML to PDF with WeasyPrint, honouring the report's @page print stylesheet. Returns the
    number of pages."""
    from weasyprint import HTML  # imported late: it loads Pango

    document = HTML(string=html, base_url=str(path.parent)).render()
    document.write_pdf(path)
    return len(document.pages)


def output_path(out: Path | None, period: Period) -> Path:
    """--out, or report-<period>.html; the suffix chooses HTML or PDF."""
    if out is None:
        tag = period.end.isoformat() if period.granularity == "week" else f"{period.start:%Y-%m}"
        return Path(f"report-{tag}.html")
    if out.suffix.lower() not in REPORT_FORMATS:
        raise QueryError(
            f"cannot write a report to {out.name!r}; expected a file ending .html or .pdf"
        )
    return out


def write_report(report: BoardReport, path: Path, progress: Progress | None = None) -> Path:
    step = progress or (lambda _: None)
    step("html")
    html = render_html(report)
    if path.suffix.lower() == ".pdf":
        step("pdf")
        report.pages = write_pdf(html, path)
        return path
    path.write_text(html, encoding="utf-8")
    return path
