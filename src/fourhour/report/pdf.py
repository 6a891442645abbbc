"""The report's HTML as a PDF, by WeasyPrint.

The HTML report carries its charts and icons as inline SVG. WeasyPrint would parse each of
those SVG elements as HTML (its pure-Python HTML parser reads every attribute of every mark) and
match the stylesheet against each; given as images, the same SVG is parsed by the XML parser,
once for each distinct drawing (the icon table repeats a handful of icons a hundred times), and
drawn exactly as before. So the PDF is made from HTML in which each inline SVG becomes an
`<img>` whose source WeasyPrint fetches from memory; the HTML report is unchanged.

WeasyPrint (70) lays out and draws SVG text one character at a time, so that positions given
character by character can apply; the report's charts hold some 9,000 characters of text, and
that was a quarter of the time WeasyPrint took. `whole_text_runs` lays out and draws a text
element with one position, no spacing and no rotation as one run instead, with kerning and
ligatures off so that each glyph lands where WeasyPrint puts it; anything else is drawn by
WeasyPrint's own code. It is installed for the WeasyPrint version whose code it follows.
"""

from __future__ import annotations

import html as html_lib
import importlib
import re
import threading
from math import inf
from pathlib import Path
from typing import Any

_SVG = re.compile(r"<svg\b[^>]*>.*?</svg>", re.S)
_TITLE = re.compile(r"<title\b[^>]*>(.*?)</title>", re.S)
_CLASS = re.compile(r'\sclass="([^"]*)"')
SCHEME = "fourhour-svg"
WEASYPRINT = "70.0"  # the version whose SVG text drawing `whole_text_runs` follows


def svg_as_images(html: str) -> tuple[str, dict[str, bytes]]:
    """The HTML with each inline `<svg>` replaced by an `<img>` of the same drawing, and the
    drawings by their address (`fourhour-svg:N`). The image's `alt` is the SVG's title (its
    text alternative) and its class the SVG's class, so that the stylesheet and any reader
    find the same."""
    images: dict[str, bytes] = {}
    addresses: dict[str, str] = {}

    def image(match: re.Match[str]) -> str:
        svg = match.group(0)
        address = addresses.get(svg)
        if address is None:
            address = addresses[svg] = f"{SCHEME}:{len(addresses)}"
            images[address] = svg.encode()
        opening = svg[: svg.index(">") + 1]
        title = _TITLE.search(svg)
        alt = html_lib.unescape(title.group(1)) if title else ""
        css = _CLASS.search(opening)
        css_class = f' class="{css.group(1)}"' if css else ""
        return f'<img src="{address}" alt="{html_lib.escape(alt)}"{css_class}>'

    return _SVG.sub(image, html), images


def _fetcher(images: dict[str, bytes]) -> Any:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class MemoryFetcher(URLFetcher):
        """Serves the report's drawings from memory; anything else as WeasyPrint would."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            if url in images:
                return URLFetcherResponse(
                    url, images[url], headers={"Content-Type": "image/svg+xml"}
                )
            return super().fetch(url, headers)

    return MemoryFetcher()


_PER_GLYPH = ("rotate", "textLength")
_POSITIONS = ("x", "y", "dx", "dy")


def _values(node: Any, name: str) -> list[str]:
    from weasyprint.svg.utils import normalize

    value = node.attrib.get(name)
    return [] if value is None else normalize(value).strip().split(" ")


def _one_run(svg: Any, node: Any, font_size: float) -> bool:
    """Whether WeasyPrint's character-by-character layout of this text would place each
    character just after the one before: one position, no spacing, no rotation, left to
    right, no emoji (drawn apart)."""
    text = node.text
    return bool(
        text
        and not any(node.get(name) for name in _PER_GLYPH)
        and not svg.length(node.get("letter-spacing"), font_size)
        and node.get("direction") != "rtl"
        and all(len(_values(node, name)) <= 1 for name in _POSITIONS)
        and all(ord(c) < 0x2190 for c in text)
    )


def whole_text_runs(original: Any) -> Any:
    """WeasyPrint's SVG `text` drawing (`original`), laying out and drawing a text with one
    position as a single run. Follows weasyprint/svg/text.py of WeasyPrint 70.0 line by line
    for that case: the same style, the same position, bounding box and cursor."""
    from weasyprint.css.properties import INITIAL_VALUES
    from weasyprint.draw.text import draw_emojis, draw_first_line
    from weasyprint.matrix import Matrix
    from weasyprint.svg.bounding_box import extend_bounding_box
    from weasyprint.svg.utils import size
    from weasyprint.text.line_break import split_first_line

    module = importlib.import_module("weasyprint.svg.text")

    def text(svg: Any, node: Any, font_size: float) -> None:
        if not _one_run(svg, node, font_size):
            original(svg, node, font_size)
            return
        style = module.Style()
        style.update(INITIAL_VALUES)
        style.font_config = svg.font_config
        style["font_family"] = [
            font.strip("\"'") for font in node.get("font-family", "sans-serif").split(",")
        ]
        style["font_style"] = node.get("font-style", "normal")
        weight = node.get("font-weight", 400)
        if weight == "normal":
            weight = 400
        elif weight == "bold":
            weight = 700
        else:
            try:
                weight = int(weight)
            except ValueError:
                weight = 400
        style["font_weight"] = weight
        style["font_size"] = font_size
        if node.get("direction") == "ltr":
            style["direction"] = "ltr"
        # Character by character, WeasyPrint neither kerns nor joins glyphs: nor does this.
        style["font_kerning"] = "none"
        style["font_variant_ligatures"] = "none"
        layout, _, _, width, height, baseline = split_first_line(
            node.text, style, svg.context, inf, 0
        )

        def first(name: str, reference: float) -> float | None:
            values = _values(node, name)
            return size(values[0], font_size, reference) if values else None

        x, y = first("x", svg.inner_width), first("y", svg.inner_height)
        dx, dy = first("dx", svg.inner_width), first("dy", svg.inner_height)
        ascent, descent = font_size * 0.8, font_size * 0.2
        y_align = 0.0
        display_anchor = node.get("display-anchor")
        alignment_baseline = node.get("dominant-baseline", node.get("alignment-baseline"))
        if display_anchor == "middle":
            y_align = -height / 2
        elif display_anchor == "top":
            pass
        elif display_anchor == "bottom":
            y_align = -height
        elif alignment_baseline in ("central", "middle"):
            y_align = (ascent + descent) / 2 - descent
        elif alignment_baseline in (
            "text-before-edge",
            "before_edge",
            "top",
            "hanging",
            "text-top",
        ):
            y_align = ascent
        elif alignment_baseline in ("text-after-edge", "after_edge", "bottom", "text-bottom"):
            y_align = -descent
        if x:  # as WeasyPrint: a position of 0 keeps the shift
            svg.cursor_d_position[0] = 0
        if y:
            svg.cursor_d_position[1] = 0
        svg.cursor_d_position[0] += dx or 0
        svg.cursor_d_position[1] += dy or 0
        x = svg.cursor_position[0] if x is None else x
        y = svg.cursor_position[1] if y is None else y
        svg.cursor_position = x + width, y
        x_position = x + svg.cursor_d_position[0]
        y_position = y + svg.cursor_d_position[1] + y_align
        node.text_bounding_box = extend_bounding_box(
            node.text_bounding_box,
            (
                (x_position, y_position - baseline),
                (x_position + width, y_position - baseline + height),
            ),
        )
        svg.stream.push_state()
        fill, stroke = svg.set_graphical_state(node, font_size)
        svg.stream.begin_text()
        layout.reactivate(style)
        svg.fill_stroke(fill, stroke, text=True)
        box = module.TextBox(layout, style)
        box.baseline = baseline
        emojis = draw_first_line(
            svg.stream, box, "none", "none", Matrix(a=1, d=-1, e=x_position, f=y_position)
        )
        svg.stream.end_text()
        svg.stream.pop_state()
        draw_emojis(svg.stream, style, x, y, emojis)

    text.original = original  # type: ignore[attr-defined]
    return text


_INSTALL = threading.Lock()


def install_whole_text_runs() -> bool:
    """Draw SVG text by runs in every WeasyPrint document of this process, where WeasyPrint is
    the version `whole_text_runs` follows; whether it is installed."""
    import weasyprint
    import weasyprint.svg as weasy_svg

    with _INSTALL:
        original = weasy_svg.text
        if hasattr(original, "original"):
            return True
        if weasyprint.__version__ != WEASYPRINT:
            return False
        runs = whole_text_runs(original)
        # draw_node recognises text elements by this function: both change together.
        weasy_svg.text = runs
        for tag, draw in list(weasy_svg.TAGS.items()):
            if draw is original:
                weasy_svg.TAGS[tag] = runs
        return True


def write_pdf(html: str, path: Path) -> int:
    """HTML to PDF with WeasyPrint, honouring the report's @page print stylesheet. Returns the
    number of pages."""
    from weasyprint import HTML  # imported late: it loads Pango

    install_whole_text_runs()
    page, images = svg_as_images(html)
    document = HTML(string=page, base_url=str(path.parent), url_fetcher=_fetcher(images)).render()
    document.write_pdf(path)
    return len(document.pages)
