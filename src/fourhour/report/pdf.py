"""The report's HTML as a PDF, by WeasyPrint.

The HTML report carries its charts and icons as inline SVG. WeasyPrint would parse each of
those SVG elements as HTML (its pure-Python HTML parser reads every attribute of every mark) and
match the stylesheet against each; given as images, the same SVG is parsed by the XML parser,
once for each distinct drawing (the icon table repeats a handful of icons a hundred times), and
drawn exactly as before. So the PDF is made from HTML in which each inline SVG becomes an
`<img>` whose source WeasyPrint fetches from memory; the HTML report is unchanged.
"""

from __future__ import annotations

import html as html_lib
import re
from pathlib import Path
from typing import Any

_SVG = re.compile(r"<svg\b[^>]*>.*?</svg>", re.S)
_TITLE = re.compile(r"<title\b[^>]*>(.*?)</title>", re.S)
_CLASS = re.compile(r'\sclass="([^"]*)"')
SCHEME = "fourhour-svg"


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


def write_pdf(html: str, path: Path) -> int:
    """HTML to PDF with WeasyPrint, honouring the report's @page print stylesheet. Returns the
    number of pages."""
    from weasyprint import HTML  # imported late: it loads Pango

    page, images = svg_as_images(html)
    document = HTML(string=page, base_url=str(path.parent), url_fetcher=_fetcher(images)).render()
    document.write_pdf(path)
    return len(document.pages)
