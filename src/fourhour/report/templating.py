"""The Jinja2 environment every report template renders in, with fourhour's number filters."""

from __future__ import annotations

import functools

from jinja2 import Environment, PackageLoader, StrictUndefined


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}%"


def count(value: int | float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def points(value: float) -> str:
    return f"{abs(value):.1f} point{'s' if round(abs(value), 1) != 1 else ''}"


def gbp(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"£{value:,.0f}"


def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("fourhour.report", "templates"),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
    )
    env.filters["pct"] = pct
    env.filters["count"] = count
    env.filters["points"] = points
    env.filters["gbp"] = gbp
    return env


@functools.cache
def shared_environment() -> Environment:
    """One environment for the report's own templates, so that each is compiled once per
    process (a report renders its parts template a dozen times). Not to be changed: callers
    that add filters or globals take their own `environment()`."""
    return environment()
