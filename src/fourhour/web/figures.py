"""Charts as inline SVG, rendered on the server by vl-convert from the report's Altair charts:
no script, no CDN, and a text alternative (the chart's Vega-Lite description) on every one."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from fourhour.report import charts

_ID = re.compile(r'\bid="([^"]+)"')
_REF = re.compile(r'(url\(#|href="#)([^")]+)')
_ROLE = re.compile(r'\s(?:role|aria-roledescription|aria-label)="[^"]*"')


@dataclass(frozen=True)
class Figure:
    key: str  # unique on its page: the id of the <figure>
    svg: Markup
    description: str
    title: str
    # The same chart drawn for a phone (fourhour.web.svgcharts): the page shows one of the two.
    narrow: Markup | None = None


def _unique_ids(svg: str, key: str) -> str:
    """Prefix the SVG's own ids (clip paths, gradients) so that two charts on a page never
    share one."""
    ids = set(_ID.findall(svg))
    if not ids:
        return svg
    svg = _ID.sub(lambda m: f'id="{key}-{m.group(1)}"', svg)
    return _REF.sub(
        lambda m: m.group(1) + (f"{key}-{m.group(2)}" if m.group(2) in ids else m.group(2)), svg
    )


def render(chart: Any, key: str, title: str = "") -> Figure:
    """The chart as an accessible inline SVG: role img, labelled by its title, described by its
    text alternative; the marks inside are hidden from assistive technology (the description
    and the table beside each chart carry the figures)."""
    spec = chart if isinstance(chart, dict) else chart.to_dict()
    description = str(spec.get("description", "") or title)
    svg = charts.to_svg(spec)
    svg = _ROLE.sub("", _unique_ids(svg, key))
    heading = title or description.split(":")[0]
    root = re.match(r"<svg[^>]*>", svg)
    if root is None:  # pragma: no cover - vl-convert always writes an <svg> root
        raise ValueError("vl-convert returned no SVG")
    tag = re.sub(r'\s(width|height)="[^"]*"', "", root.group(0))
    tag = tag.replace(
        "<svg ",
        f'<svg role="img" aria-labelledby="{key}-title" aria-describedby="{key}-desc" '
        'focusable="false" class="fh-chart__svg" ',
        1,
    )
    inner = (
        f'<title id="{key}-title">{escape(heading)}</title>'
        f'<desc id="{key}-desc">{escape(description)}</desc>'
    )
    svg = tag + inner + svg[root.end() :]
    return Figure(key, Markup(svg), description, heading)
