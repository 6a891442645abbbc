"""The board report: the bulletin, charts, SPC icons for every provider and, where the oversight
engine is present, the summons list, as one HTML document with a print stylesheet, or a PDF.

A report is a list of sections. Each section builder takes the `BoardContext` (the warehouse,
the period, and series read once and shared) and returns a `Section` or None (nothing to say,
so no heading and no placeholder). `DEFAULT_SECTIONS` is the standard order; `build_report`
takes `extra_sections` to append more, and `escalation_section(wh, period)` is the hook for the
oversight engine's summons list.

Charts are embedded as inline SVG; the PDF (made by WeasyPrint, `report/pdf.py`) draws the same
SVG as images, so it is vector throughout.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from markdown_it import MarkdownIt
from markupsafe import Markup

from fourhour.errors import InvalidInputError, QueryError
from fourhour.measures import STANDARD_PCT, THRESHOLD_PCT, measure_table
from fourhour.measures.funnel import funnel_data
from fourhour.measures.spc import DEFAULT_PRESET, PRESET_RULES, Preset, SpcOptions, SpcResult
from fourhour.oversight.config import EscalationRules, load_escalation_rules
from fourhour.periods import Period
from fourhour.report import charts
from fourhour.report.bulletin import build_bulletin, is_synthetic, render
from fourhour.report.occupancy import occupancy_section
from fourhour.report.pdf import write_pdf
from fourhour.report.series import (
    HISTORY,
    TREND,
    england_series,
    last_year_values,
    org_series,
    performance_spc,
    periods_back,
)
from fourhour.report.svg_worker import Drawing, SvgWorker
from fourhour.report.templating import shared_environment
from fourhour.warehouse import Warehouse
from fourhour.warehouse.connection import one_row
from fourhour.warehouse.hierarchy import names_for, parents_sql, provider_parents

BASIS_LABELS = {"all_types": "all types", "type1": "type 1 (major A&E)"}
REPORT_FORMATS = (".html", ".pdf")
VARIATION_ORDER = ("concern", "neither", "common_cause", "improvement", None)

Progress = Callable[[str], None]


# -------------------------------------------------------------------------------- model


class Figure:
    """A chart in the report: its key, its SVG (drawn by vl-convert) and its text alternative.

    Inside `build_report` the SVG is drawn by the chart worker while the report goes on; until
    it is drawn, `svg` is a placeholder that `build_report` replaces in the section's HTML."""

    def __init__(self, key: str, svg: str | Drawing, description: str) -> None:
        self.key = key
        self.description = description
        self._svg = svg
        self.placeholder = f"<!--fourhour-chart:{id(self)}-->"

    @property
    def svg(self) -> str:
        return self._svg if isinstance(self._svg, str) else self.placeholder

    def resolve(self) -> str:
        """The SVG, waiting for the chart worker if it is still drawing."""
        if not isinstance(self._svg, str):
            self._svg = _label_svg(self._svg.result(), self.key, self.description)
        return self._svg


@dataclass
class Section:
    """One part of the report: a heading, its HTML, and whether it starts a new page."""

    key: str
    title: str
    html: str
    page_break: bool = True


@dataclass(frozen=True)
class Skipped:
    """A section left out of the report, and why. The report lists every skipped section and
    its reason under "Notes and methods", so that nothing disappears without a word."""

    key: str
    title: str
    reason: str


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
    skipped: list[Skipped] = field(default_factory=list)


def _label_svg(svg: str, key: str, description: str) -> str:
    # A text alternative on the SVG itself, for readers that meet it outside the figure.
    svg = re.sub(
        r"^<svg ",
        f'<svg role="img" aria-labelledby="{key}-title" ',
        svg,
        count=1,
    )
    title = f'<title id="{key}-title">{Markup.escape(description)}</title>'
    return re.sub(r"(<svg[^>]*>)", lambda m: m.group(1) + title, svg, count=1)


# The chart worker of the report being built and the figures sent to it (None outside
# build_report: charts are drawn at once).
_WORKER: ContextVar[tuple[SvgWorker, list[Figure]] | None] = ContextVar(
    "board_svg_worker", default=None
)


def _svg(chart: Any, key: str) -> Figure:
    # Not validated against the Vega-Lite schema here (the same spec, in about half the time):
    # the charts are built by fourhour's own code, and tests/test_charts.py validates each kind.
    spec = chart.to_dict(validate=False)
    description = spec.get("description", "")
    current = _WORKER.get()
    if current is None:
        return Figure(key, _label_svg(charts.to_svg(spec), key, description), description)
    worker, sent = current
    figure = Figure(key, worker.submit(spec), description)
    sent.append(figure)
    return figure


# ------------------------------------------------------------------------------ context


@dataclass
class BoardContext:
    """What every section reads: the warehouse, the period and series read once."""

    wh: Warehouse
    period: Period
    bulletin: dict
    focus: Focus | None = None
    notes: list[str] = field(default_factory=list)
    spc_preset: str = DEFAULT_PRESET
    rules: EscalationRules | None = None  # the escalation rules, read before any work
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def spc_rules(self) -> Preset:
        """The SPC preset's rule set, for the methods note."""
        return PRESET_RULES[self.spc_preset]

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
    def compared(self) -> pd.DataFrame:
        """The providers the funnel plot, league table and icon table compare: those with a
        major (type 1) A&E department in the period (type 1 attendances) and a figure on the
        report's basis. Walk-in centres, minor injury units, GP-led urgent care and
        single-specialty units meet the standard almost by construction; ranking them with
        acute trusts would mislead."""
        table = self.providers_now
        return table[charts.as_float(table["type1_attendances"]) > 0].reset_index(drop=True)

    @cached_property
    def coverage(self) -> dict[str, int]:
        """How the providers that reported become the providers compared, for the text."""
        reporting = int(self.bulletin["meta"]["providers_reporting"])
        with_figure = len(self.providers_now)
        compared = len(self.compared)
        return {
            "reporting": reporting,
            "no_figure": max(reporting - with_figure, 0),
            "no_type1": with_figure - compared,
            "compared": compared,
        }

    @property
    def highlight(self) -> str | None:
        """The chosen provider's code, highlighted in the funnel plot and league table."""
        return self.focus.code if self.focus and self.focus.level == "provider" else None

    @cached_property
    def provider_history(self) -> pd.DataFrame:
        return org_series(self.wh, self.period, HISTORY[self.granularity])

    def spc(self, frame: pd.DataFrame) -> SpcResult:
        return performance_spc(frame, self.value_column, self.granularity, self.spc_preset)

    @cached_property
    def provider_spc(self) -> SpcResult:
        codes = set(self.compared["code"])
        history = self.provider_history
        return self.spc(history[history["code"].isin(codes)])

    @cached_property
    def england_spc(self) -> SpcResult:
        return self.spc(self.england.assign(code="ENGLAND"))


# ---------------------------------------------------------------------------- sections

# A builder returns its Section, Skipped (left out, with the reason the report gives) or None
# where there is nothing to leave out (no provider chosen, an outlook for a weekly report).
SectionBuilder = Callable[[BoardContext], Section | Skipped | None]


@functools.cache
def _parts_module() -> Any:
    return shared_environment().get_template("board_parts.html.j2").module


def _parts() -> Any:
    return _parts_module()


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
            b=ctx.bulletin,
            bulletin_html=Markup(bulletin_fragment(ctx.bulletin)),
            when=ctx.when,
            ctx=ctx,
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
    summary = spc.summary.iloc[0]
    figures.append(
        _svg(
            charts.spc_chart(
                spc.points,
                summary,
                title=f"England: {ctx.unit}ly SPC chart, {ctx.basis_label}",
                period_unit=ctx.unit,
            ),
            "fig-spc-england",
        )
    )
    all_types_missing = ctx.england["all_types_performance_pct"].isna().all()
    return Section(
        "england",
        "England",
        _parts().england(
            figures=figures,
            all_types_missing=all_types_missing,
            ctx=ctx,
            icons=_icon_pair(summary),
        ),
    )


def _icon_pair(summary: Any) -> tuple[charts.Icon, charts.Icon]:
    return (
        charts.variation_icon(summary.get("variation_icon")),
        charts.assurance_icon(summary.get("assurance_icon")),
    )


LEAGUE_ROWS_PER_PAGE = 50  # a printed league table page: readable 10-point labels


def providers_section(ctx: BoardContext) -> Section | None:
    table = ctx.compared
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
    funnel = funnel_data(funnel_input)  # once, for the chart and the methods note
    od = funnel.overdispersion
    ctx.notes.append(
        f"Funnel plot: over-dispersion factor φ = {od.phi:,.1f} across {od.k} providers"
        + (
            f"; limits widened by a between-provider standard deviation of "
            f"{od.tau_points:.1f} points."
            if od.tau2 > 0
            else "; no significant over-dispersion, so plain binomial limits."
        )
    )
    label = f"{ctx.basis_label}, providers with a major A&E"
    figures = [
        _svg(
            charts.funnel_chart(
                funnel,
                label=label,
                period_label=ctx.period.label,
                highlight=ctx.highlight,
                centre="These providers",
            ),
            "fig-funnel",
        )
    ]
    ranked = table[["code", "name", f"{basis}_performance_pct"]].rename(
        columns={f"{basis}_performance_pct": "performance_pct"}
    )
    pages = charts.league_pages(
        ranked,
        per_page=LEAGUE_ROWS_PER_PAGE,
        label=label,
        period_label=ctx.period.label,
        highlight=ctx.highlight,
        name_chars=44,
    )
    for k, chart in enumerate(pages, start=1):
        figures.append(_svg(chart, "fig-league" if k == 1 else f"fig-league-{k}"))
    return Section(
        "providers",
        "Providers",
        _parts().providers(figures=figures, ctx=ctx, chosen=_chosen_text(ctx), pages=len(pages)),
    )


def _chosen_text(ctx: BoardContext) -> str | None:
    """Where the chosen provider is drawn, or why it is not."""
    focus = ctx.focus
    if focus is None or focus.level != "provider":
        return None
    if focus.code in set(ctx.compared["code"]):
        return (
            f"{focus.label} is ringed in the funnel plot and set in bold, ringed, in the league "
            "table."
        )
    if focus.code in set(ctx.providers_now["code"]):
        return (
            f"{focus.label} has no major (type 1) A&E department this {ctx.unit}, so it is not "
            "compared here."
        )
    return f"{focus.label} has no {ctx.basis_label} figure for {ctx.when}."


def _icon_rows(ctx: BoardContext) -> list[dict]:
    summary = ctx.provider_spc.summary.set_index("code")
    rows = []
    for r in ctx.compared.itertuples(index=False):
        s = summary.loc[r.code] if r.code in summary.index else None
        v_key = summary["variation_icon"].get(r.code)
        a_key = summary["assurance_icon"].get(r.code)
        kind = None
        if v_key:
            kind = "common_cause" if v_key == "common_cause" else v_key.split("_")[2]
        rows.append(
            {
                "code": r.code,
                "name": r.name if isinstance(r.name, str) else r.code,
                "latest": float(getattr(r, ctx.value_column)),
                "mean": None if s is None or pd.isna(s["mean"]) else float(s["mean"]),
                "limits": charts.pct_limits(
                    None if s is None else s["lcl"], None if s is None else s["ucl"]
                ),
                "chosen": r.code == ctx.highlight,
                "points": 0 if s is None else int(s["n_points"]),
                "variation": charts.variation_icon(v_key),
                "assurance": charts.assurance_icon(a_key),
                "kind": kind,
                "note": None if s is None else s["note"],
            }
        )
    rows.sort(key=lambda r: (VARIATION_ORDER.index(r["kind"]), r["latest"], r["code"]))
    return rows


def _history_held(ctx: BoardContext) -> dict[str, Any]:
    """What the warehouse holds behind the icons: periods with returns in the SPC window, the
    first and last of them, and the most points any compared provider has on the basis."""
    history = ctx.provider_history
    held = history["period_end"].drop_duplicates().sort_values()
    codes = set(ctx.compared["code"])
    own = history[history["code"].isin(codes)]
    with_value = own[charts.as_float(own[ctx.value_column]) >= 0]
    counts = with_value.groupby("code")["period_end"].nunique()
    return {
        "window": HISTORY[ctx.granularity],
        "held": len(held),
        "span": charts.span_text(held.iloc[0], held.iloc[-1], ctx.unit) if len(held) else "",
        "most": int(counts.max()) if len(counts) else 0,
    }


def icons_section(ctx: BoardContext) -> Section | None:
    if ctx.compared.empty:
        return None
    rows = _icon_rows(ctx)
    if not any(r["kind"] for r in rows):
        return Section(
            "icons",
            "SPC icons for every provider",
            _parts().no_icons(
                n=len(rows),
                h=_history_held(ctx),
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
            clipped=any(r["limits"].clipped for r in rows),
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
            period_unit=ctx.unit,
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
    if focus.level == "provider" and focus.code in set(ctx.compared["code"]):
        ordered = ctx.compared.sort_values([ctx.value_column, "code"]).reset_index(drop=True)
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
            of=len(ctx.compared),
            members=members,
            ctx=ctx,
            icons=_icon_pair(spc.summary.iloc[0]),
        ),
    )


ESCALATIONS_TITLE = "Escalations"


def escalation_section(
    wh: Warehouse, period: Period, rules: EscalationRules | None = None
) -> str | Skipped:
    """The oversight engine's summons list for the week or month as an HTML fragment (local
    systems, else trusts directly where no system is known for the period), or Skipped with
    the reason where there is nothing to score. `rules`: the escalation rules (the shipped
    defaults if None); a bad rules file is the caller's error, raised before this runs."""
    from fourhour.oversight.escalation import evaluate
    from fourhour.oversight.explain import RULE_PHRASES

    rules = rules or load_escalation_rules(None, period.granularity)
    try:
        result = evaluate(wh, period, rules)
    except QueryError as exc:
        # No local system is known for the period: escalate trusts directly, and say why.
        try:
            result = evaluate(wh, period, rules, "provider")
        except QueryError as direct:
            return Skipped(
                "escalations",
                ESCALATIONS_TITLE,
                f"the escalation engine could not score {charts.the(period.label)}: "
                f"{exc.message}; trusts directly: {direct.message}",
            )
        result.notes.insert(0, f"Trusts are escalated directly: {exc.message}.")
    payload = result.as_dict()
    if not payload["systems_scored"]:
        return Skipped(
            "escalations",
            ESCALATIONS_TITLE,
            f"no system or trust had the returns the escalation rules need in the "
            f"{period.granularity}s to {charts.the(period.label)}",
        )
    for system in payload["summons"]:
        system["explanation"] = board_text(system["explanation"])
    payload["notes"] = [board_text(n) for n in payload["notes"]]
    return str(_parts().escalations(d=payload, phrases=RULE_PHRASES))


_CLI_HINT = re.compile(r"\s*\([^()]*`?fourhour [a-z][^()]*\)")
_LONG_DECIMAL = re.compile(r"(?<![\d.])(\d+\.\d{2,})(?!\d|\.\d)")


def board_text(text: str) -> str:
    """Text from the oversight engine made fit for a board: no command-line hints (a board
    reads the report, it does not run fourhour) and one decimal place for every figure."""
    text = _CLI_HINT.sub("", text)
    return _LONG_DECIMAL.sub(lambda m: f"{float(m.group(1)):.1f}", text)


def escalations_section(ctx: BoardContext) -> Section | Skipped:
    html = escalation_section(ctx.wh, ctx.period, ctx.rules)
    if isinstance(html, Skipped):
        return html
    return Section("escalations", ESCALATIONS_TITLE, html)


def methods_section(ctx: BoardContext) -> Section:
    return Section(
        "methods",
        "Notes and methods",
        _parts().methods(
            ctx=ctx,
            notes=ctx.notes,
            skipped=ctx.skipped,
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
        raise InvalidInputError("give at most one of --provider CODE or --system CODE")
    if provider:
        code = provider.strip().upper()
        row = one_row(
            wh.con.execute(
                "SELECT count(*) FILTER (WHERE granularity = ?) FROM provider_returns "
                "WHERE org_code = ?",
                [period.granularity, code],
            )
        )
        if not row[0]:
            raise QueryError(
                f"no provider with code {code!r} has {period.granularity}ly returns in the "
                "warehouse",
                hint="`fourhour orgs list --kind provider` lists the codes it knows",
            )
        name = names_for(wh, [code], period.start, period.end).get(code)  # as it was then
        return Focus("provider", code, name or code)
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
    spc_preset: str = DEFAULT_PRESET,
    rules: Path | None = None,
    parallel_charts: bool | None = None,
) -> BoardReport:
    """Read the warehouse and build every section of the board report for `period`, with
    SPC charts and icons under `spc_preset` (`fourhour.measures.spc.PRESETS`) and the summons
    list under the escalation rules in `rules` (a TOML file laid over the shipped defaults).

    A bad rules file raises RulesError before any reading: it is the user's error, never a
    section quietly left out. A section left out for want of data is listed, with the reason,
    under "Notes and methods" (and in `BoardReport.skipped`). Charts are drawn in a worker
    process where there is a second core (`parallel_charts`: True or False to choose); the
    report is the same either way."""
    SpcOptions(preset=spc_preset)  # an unknown preset is an input error before any reading
    if period.granularity not in HISTORY:
        raise InvalidInputError(f"board reports are weekly or monthly, not by {period.granularity}")
    escalation_rules = load_escalation_rules(rules, period.granularity)
    step = progress or (lambda _: None)
    clock = _Clock()
    # Charts are drawn in a worker process while the sections go on reading and computing
    # (started first, so that its JavaScript runtime warms up while the bulletin is read);
    # each section's HTML holds a placeholder for its charts until they are drawn.
    worker = SvgWorker(charts.VL_VERSION, charts.LOCALE, parallel=parallel_charts)
    sent: list[Figure] = []
    token = _WORKER.set((worker, sent))
    try:
        step("bulletin")
        bulletin = build_bulletin(wh, period)  # QueryError with a hint where the period is empty
        focus = resolve_focus(wh, period, provider, system)
        ctx = BoardContext(
            wh, period, bulletin, focus, spc_preset=spc_preset, rules=escalation_rules
        )
        if ctx.basis == "type1":
            ctx.notes.append(
                "All-types figures are not held for this period (the weekly returns of "
                "2010-2015 publish major A&E only), so every figure and chart is type 1 "
                "(major A&E)."
            )
        clock.lap("bulletin")
        results = _build_sections(ctx, [*sections, *extra_sections], step, clock)
        built = [r for i, r in sorted(results.items()) if isinstance(r, Section)]
        for section in built:
            html = str(section.html)  # plain text: Markup.replace would escape the SVG
            for figure in sent:
                html = html.replace(figure.placeholder, figure.resolve())
            section.html = Markup(html) if isinstance(section.html, Markup) else html
        clock.lap("charts")
    except BaseException:
        worker.close(cancel=True)  # no report: its charts are not wanted
        raise
    finally:
        _WORKER.reset(token)
        worker.close()
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
        skipped=ctx.skipped,
    )


def _build_sections(
    ctx: BoardContext, builders: list[SectionBuilder], step: Progress, clock: _Clock
) -> dict[int, Section | Skipped | None]:
    """Each builder's result by its place in `builders`. The methods section lists what the
    others noted and skipped, so it is built last and put back in its place."""
    order = sorted(range(len(builders)), key=lambda i: builders[i] is methods_section)
    results: dict[int, Section | Skipped | None] = {}
    for i in order:
        builder = builders[i]
        name = builder.__name__.removesuffix("_section")
        if name != "focus" or ctx.focus is not None:
            step(name)
        result = results[i] = builder(ctx)
        clock.lap(name)
        if isinstance(result, Skipped):
            ctx.skipped.append(result)
    return results


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
        shared_environment()
        .get_template("board.html.j2")
        .render(
            r=report,
            b=report.bulletin,
            generated=dt.date.today(),
            basis_label=BASIS_LABELS[report.basis],
            last_year_when=charts.the(report.bulletin["meta"]["same_period_last_year"]["label"]),
        )
    )


def output_path(out: Path | None, period: Period) -> Path:
    """--out, or report-<period>.html; the suffix chooses HTML or PDF."""
    if out is None:
        tag = period.end.isoformat() if period.granularity == "week" else f"{period.start:%Y-%m}"
        return Path(f"report-{tag}.html")
    if out.suffix.lower() not in REPORT_FORMATS:
        raise InvalidInputError(
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
