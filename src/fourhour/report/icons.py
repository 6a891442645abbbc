"""Making Data Count icons, drawn here as our own SVG in their style, for the board report and
the web dashboard alike (both call `icon_svg`).

NHS England's "Making Data Count" guidance gives boards two icons per measure: a variation icon
(a small run chart in a circle: grey for common cause, orange for a special cause of concern,
blue for improvement, purple where neither direction is better, with H or L for a high or low
special cause) and an assurance icon (a circle with P, F or ? and a dotted target line: the
process will consistently pass, consistently fail, or hit and miss the target). The drawings
below follow that convention; the geometry and the code are ours.

Every icon is an inline `<svg role="img">` with a `<title>` and an `aria-label`, so that its
meaning is available as text wherever it is drawn. No ids are used, so any number of icons can
share a page.
"""

from __future__ import annotations

from html import escape

# Making Data Count colours (fills and rings) and darker shades for letters, which must read
# against white (WCAG 3:1 for graphics at least).
COMMON = "#7B7D7D"  # common cause
CONCERN = "#ED8B00"  # special cause of concern
IMPROVEMENT = "#41B6E6"  # special cause of improvement (points on charts)
IMPROVEMENT_DARK = "#005EB8"  # improvement (icons) and assurance: pass
NEITHER = "#490092"  # special cause, no improvement direction
MID_GREY = "#AEB7BD"  # no icon: too few points or no target

LETTER_COLOURS = {COMMON: "#4C4D4D", CONCERN: "#A85B00", IMPROVEMENT_DARK: "#003D7A"}
TINTS = {
    COMMON: "#F1F2F2",
    CONCERN: "#FDF0DE",
    IMPROVEMENT_DARK: "#E3EEF8",
    NEITHER: "#EEE6F5",
    MID_GREY: "#FFFFFF",
}

_XS = (12, 16, 20, 24, 28, 32, 36)  # the seven points of the little run chart
_FLAT = (26, 22, 27, 23, 26, 21, 25)
_RISING = (31, 32, 30, 31, 25, 20, 15)
_FALLING = (17, 16, 18, 17, 23, 28, 33)
_FONT = "Arial, Helvetica, 'Liberation Sans', sans-serif"


def variation_colour(key: str | None) -> str:
    if not key:
        return MID_GREY
    if key == "common_cause":
        return COMMON
    kind = key.removeprefix("special_cause_").split("_")[0]
    return {"improvement": IMPROVEMENT_DARK, "concern": CONCERN, "neither": NEITHER}.get(
        kind, COMMON
    )


def assurance_colour(key: str | None) -> str:
    if not key:
        return MID_GREY
    return {"pass": IMPROVEMENT_DARK, "fail": CONCERN, "hit_and_miss": COMMON}.get(key, COMMON)


def _open(label: str, size: int, css_class: str) -> str:
    text = escape(label, quote=True)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 48 48" width="{size}" '
        f'height="{size}" role="img" aria-label="{text}" class="{css_class}" '
        f'focusable="false"><title>{text}</title>'
    )


def _ring(colour: str, dashed: bool = False) -> str:
    dash = ' stroke-dasharray="4 3"' if dashed else ""
    return (
        f'<circle cx="24" cy="24" r="21" fill="{TINTS.get(colour, "#FFFFFF")}" '
        f'stroke="{colour}" stroke-width="3"{dash}/>'
    )


def _letter(text: str, x: float, y: float, colour: str, size: int = 13) -> str:
    return (
        f'<text x="{x}" y="{y}" font-family="{_FONT}" font-size="{size}" font-weight="bold" '
        f'text-anchor="middle" fill="{LETTER_COLOURS.get(colour, colour)}">{escape(text)}</text>'
    )


def _run_chart(ys: tuple[int, ...], colour: str, special: int) -> str:
    """A line through seven points, the last `special` of them in the special-cause colour."""
    points = " ".join(f"{x},{y}" for x, y in zip(_XS, ys, strict=True))
    dots = "".join(
        f'<circle cx="{x}" cy="{y}" r="2.6" fill="{colour if k >= 7 - special else COMMON}"/>'
        for k, (x, y) in enumerate(zip(_XS, ys, strict=True))
    )
    return f'<polyline points="{points}" fill="none" stroke="{COMMON}" stroke-width="1.4"/>' + dots


def variation_svg(key: str | None, label: str, size: int = 28) -> str:
    """The variation icon for an SPC summary's `variation_icon` key (None: too few points)."""
    colour = variation_colour(key)
    parts = [_open(f"Variation: {label}", size, "mdc-icon mdc-icon--variation")]
    if not key:
        parts += [_ring(MID_GREY, dashed=True), _letter("–", 24, 29, "#4C6272", 14)]
    elif key == "common_cause":
        parts += [_ring(colour), _run_chart(_FLAT, COMMON, 0)]
    else:
        side = key.rsplit("_", 1)[-1]
        if side == "low":
            parts += [
                _ring(colour),
                _run_chart(_FALLING, colour, 3),
                _letter("L", 15, 38, colour, 15),
            ]
        else:
            parts += [
                _ring(colour),
                _run_chart(_RISING, colour, 3),
                _letter("H", 15, 20, colour, 15),
            ]
    parts.append("</svg>")
    return "".join(parts)


def _target(y: float) -> str:
    return (
        f'<line x1="9" y1="{y}" x2="39" y2="{y}" stroke="#212B32" stroke-width="1.6" '
        'stroke-dasharray="1.5 2.5" stroke-linecap="round"/>'
    )


def _process(ys: tuple[int, ...], colour: str) -> str:
    points = " ".join(f"{x},{y}" for x, y in zip(_XS, ys, strict=True))
    return f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>'


def assurance_svg(key: str | None, label: str, size: int = 28) -> str:
    """The assurance icon for an SPC summary's `assurance_icon` key (None: no target or too
    few points): the letter, the process as a line and the target as a dotted line, above,
    below or through it."""
    colour = assurance_colour(key)
    parts = [_open(f"Assurance: {label}", size, "mdc-icon mdc-icon--assurance")]
    if key == "pass":  # the process runs above the target
        parts += [
            _ring(colour),
            _letter("P", 24, 21, colour, 18),
            _process((29, 27, 29, 28, 27, 29, 28), colour),
            _target(36),
        ]
    elif key == "fail":  # the process runs below the target
        parts += [
            _ring(colour),
            _letter("F", 24, 22, colour, 18),
            _target(27),
            _process((34, 36, 34, 35, 36, 34, 35), colour),
        ]
    elif key == "hit_and_miss":  # the target runs through the process
        parts += [
            _ring(colour),
            _letter("?", 24, 21, colour, 18),
            _process((27, 36, 28, 35, 27, 36, 29), colour),
            _target(31.5),
        ]
    else:
        parts += [_ring(MID_GREY, dashed=True), _letter("–", 24, 29, "#4C6272", 14)]
    parts.append("</svg>")
    return "".join(parts)


def icon_svg(kind: str, key: str | None, label: str, size: int = 28) -> str:
    """`kind` 'variation' or 'assurance'; `key` the SPC engine's icon key; `label` the words
    (the text alternative)."""
    if kind == "variation":
        return variation_svg(key, label, size)
    if kind == "assurance":
        return assurance_svg(key, label, size)
    raise ValueError(f"unknown icon kind {kind!r}; expected variation or assurance")
