"""The board report's PDF path: SVG drawn by WeasyPrint as images, and SVG text laid out in runs
that put every character where WeasyPrint's character-by-character layout puts it."""

from __future__ import annotations

from typing import Any

import pytest

from fourhour.report.pdf import WEASYPRINT, svg_as_images, whole_text_runs

weasyprint = pytest.importorskip("weasyprint")
weasy_svg = pytest.importorskip("weasyprint.svg")

FONT = "Arial, Helvetica, 'Liberation Sans', 'DejaVu Sans', sans-serif"
SVG = f"""<svg xmlns="http://www.w3.org/2000/svg" width="400" height="220" viewBox="0 0 400 220">
<g font-family="{FONT}" font-size="10px" fill="#425563">
<text x="10" y="20">1. Lapwingvale University Hospitals NHS Founda… (ZS018)</text>
<text text-anchor="middle" transform="translate(200,40)">Within four hours (%)</text>
<text text-anchor="end" transform="translate(390,60)" font-weight="bold">£1,234 – 95.0%</text>
<text x="10" y="80" dx="4" font-size="13px">Providers ranked by four-hour performance</text>
<text transform="translate(20,200) rotate(-90)" text-anchor="middle">Attendances</text>
<text x="10" y="100" dominant-baseline="middle">AV Te Yo fi ffl</text>
<text x="10 20 30" y="120">per-character x</text>
<text x="10" y="140" rotate="15">rotated</text>
<text x="10" y="160" letter-spacing="2">spaced</text>
<text x="10" y="180">two <tspan dy="-3" font-size="8px">runs</tspan></text>
</g></svg>"""


def draws(runs: bool, monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """Each text drawn in a PDF of SVG, with its bounding box and the cursor after it."""
    stock = getattr(weasy_svg.text, "original", weasy_svg.text)
    draw = whole_text_runs(stock) if runs else stock
    seen: list[tuple[Any, ...]] = []

    def recorded(svg: Any, node: Any, font_size: float) -> None:
        draw(svg, node, font_size)
        box = getattr(node, "text_bounding_box", None)
        seen.append((node.tag, node.text, box, tuple(svg.cursor_position)))

    with monkeypatch.context() as patch:
        for tag, function in list(weasy_svg.TAGS.items()):
            if function is weasy_svg.text:
                patch.setitem(weasy_svg.TAGS, tag, recorded)
        patch.setattr(weasy_svg, "text", recorded)
        page, images = svg_as_images(f"<p>Chart</p>{SVG}")
        from fourhour.report.pdf import _fetcher

        pdf = weasyprint.HTML(string=page, url_fetcher=_fetcher(images)).write_pdf()
    assert pdf.startswith(b"%PDF-")
    return seen


@pytest.mark.skipif(weasyprint.__version__ != WEASYPRINT, reason="follows WeasyPrint 70.0")
def test_text_runs_land_where_weasyprint_puts_each_character(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stock, runs = draws(False, monkeypatch), draws(True, monkeypatch)
    assert [d[:2] for d in runs] == [d[:2] for d in stock]
    assert len(stock) == 11  # ten text elements and a tspan
    for (tag, text, box, cursor), (_, _, box_runs, cursor_runs) in zip(stock, runs, strict=True):
        assert cursor_runs == pytest.approx(cursor, abs=1e-3), text
        if box is None:
            assert box_runs is None, text
        else:
            assert box_runs == pytest.approx(box, abs=1e-3), (tag, text)


def test_runs_are_installed_for_the_version_they_follow() -> None:
    from fourhour.report.pdf import install_whole_text_runs

    installed = install_whole_text_runs()
    assert installed == (weasyprint.__version__ == WEASYPRINT)
    if installed:
        assert weasy_svg.TAGS["text"] is weasy_svg.text
        assert weasy_svg.TAGS["tspan"] is weasy_svg.text
        assert hasattr(weasy_svg.text, "original")
        assert install_whole_text_runs()  # once only
        assert not hasattr(weasy_svg.text.original, "original")
