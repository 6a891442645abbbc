"""The board report's section on bed occupancy and four-hour performance: the evidence from the
real data (capacity.evidence), whatever period the report is for. Skipped, with the reason in
the notes, when the warehouse holds no bed figures matched to returns."""

from __future__ import annotations

from typing import Any

from fourhour.capacity.evidence import REFERENCE_PCT, EvidenceError, analyse, occupancy_panel
from fourhour.report.templating import environment

TITLE = "Bed occupancy and four-hour performance"


def occupancy_section(ctx: Any):
    from fourhour.capacity.evidence_chart import evidence_chart
    from fourhour.report.board import Section, Skipped, _svg

    try:
        panel = occupancy_panel(ctx.wh.con)
    except EvidenceError as exc:
        return Skipped("occupancy", TITLE, exc.message)
    evidence = analyse(panel)
    figure = _svg(evidence_chart(evidence, within=False), "fig-occupancy")
    html = (
        environment()
        .get_template("occupancy.html.j2")
        .render(
            fig=figure,
            evidence=evidence,
            reference=REFERENCE_PCT,
            period=ctx.period,
        )
    )
    return Section("occupancy", TITLE, html)
