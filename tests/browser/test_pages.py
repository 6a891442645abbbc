"""Headless Chromium through every page: load, accessibility (axe-core), sort, filter,
download, run a capacity scenario; screenshots go to tests/browser/screenshots/."""

from __future__ import annotations

import csv
import io

import pytest

from tests.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.slow

PAGES = {
    "england": "/",
    "providers": "/providers",
    "provider": "/providers/{provider}",
    "systems": "/systems",
    "system": "/systems/{system}",
    "regions": "/regions",
    "region": "/regions/{region}",
    "oversight": "/oversight",
    "escalation": "/oversight/escalations/1",
    "funding": "/oversight/funding",
    "capacity": "/capacity",
    "capacity-run": "/capacity?beds=650&los_days=3.5",
    "evidence": "/capacity/evidence",
    "api": "/api",
    "not-found": "/providers/NOPE1",
}


def codes(page) -> dict[str, str]:
    first = page.request.get("/api/v1/providers").json()["organisations"][0]
    return {
        "provider": first["code"],
        "system": first["system_code"],
        "region": first["region_code"],
    }


def axe_violations(page) -> list[dict]:
    """axe-core's violations (WCAG 2.x A and AA, best practices), injected from the copy
    `make assets` serves (a same-origin script file, so the page's CSP allows it)."""
    page.add_script_tag(url="/static/vendor/axe.min.js")
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"][:3]]}
        for v in result["violations"]
    ]


@pytest.mark.parametrize("name", list(PAGES))
def test_page_loads_passes_axe_and_is_screenshotted(page, name: str) -> None:
    url = PAGES[name].format(**codes(page)) if "{" in PAGES[name] else PAGES[name]
    response = page.goto(url)
    assert response is not None
    assert response.status == (404 if name == "not-found" else 200)
    assert page.locator("h1").count() == 1
    assert page.evaluate("document.body.classList.contains('js-enabled')")
    # No CSP violations, no failed loads (the 404 page's own status is logged as one).
    errors = [e for e in page.console_errors if not (name == "not-found" and "404" in e)]
    assert errors == [], page.console_errors
    violations = axe_violations(page)
    assert violations == [], violations
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def column(page, table: str, index: int) -> list[str]:
    return page.locator(
        f"#table-{table} tbody tr:not([hidden]) td:nth-child({index})"
    ).all_inner_texts()


def test_league_table_sorts_when_a_header_is_pressed(page) -> None:
    page.goto("/providers")
    button = page.locator("#table-providers th button", has_text="Attendances")
    button.click()
    values = [int(v.replace(",", "")) for v in column(page, "providers", 6)]
    assert values == sorted(values)
    assert page.locator("#table-providers th[aria-sort='ascending']").count() == 1
    button.click()
    values = [int(v.replace(",", "")) for v in column(page, "providers", 6)]
    assert values == sorted(values, reverse=True)
    page.locator("#table-providers th button", has_text="Provider").click()
    names = column(page, "providers", 3)
    assert names == sorted(names, key=str.lower)
    page.screenshot(path=SCREENSHOTS / "providers-sorted.png")


def test_league_table_filters_by_region_and_system_at_once(page) -> None:
    page.goto("/providers")
    total = len(column(page, "providers", 2))
    page.select_option("#filter-region", index=1)
    region = page.locator("#filter-region option:checked").inner_text()
    shown = column(page, "providers", 5)
    assert 0 < len(shown) < total and set(shown) == {region}
    assert f"Showing {len(shown)} of {total}" in page.locator("[data-fh-count]").inner_text()
    assert "region=" in page.url
    page.select_option("#filter-region", index=0)
    page.select_option("#filter-system", index=1)
    system = page.locator("#filter-system option:checked").inner_text()
    assert set(column(page, "providers", 4)) == {system}
    page.screenshot(path=SCREENSHOTS / "providers-filtered.png")
    with page.expect_download() as info:
        page.locator("#table-providers").locator("xpath=../..").locator("a.fh-download").click()
    rows = list(csv.DictReader(io.StringIO(info.value.path().read_text(encoding="utf-8"))))
    assert rows and {r["system"] for r in rows} == {system}


@pytest.mark.parametrize("path", ["/", "/oversight/funding", "/oversight"])
def test_tables_download_as_csv(page, path: str) -> None:
    page.goto(path)
    link = page.locator("a.fh-download").first
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    text = download.path().read_text(encoding="utf-8")
    assert text.splitlines()[0].count(",") >= 1


def test_table_filters_above_other_tables(page) -> None:
    page.goto("/oversight/funding")
    select = page.locator("select[data-fh-column='status']")
    select.select_option(index=1)
    status = select.locator("option:checked").inner_text()
    assert set(column(page, "ledger", 4)) == {status}


def test_run_a_capacity_scenario(page) -> None:
    page.goto("/capacity")
    page.fill("#beds", "560")
    page.fill("#discharge_from", "8")
    page.click("#run-scenario")
    page.wait_for_selector("#table-results")
    assert "beds=560" in page.url
    assert page.locator("#fig-capacity svg").count() == 1
    assert page.locator("#table-results tbody tr").count() >= 5
    assert page.console_errors == []
    page.screenshot(path=SCREENSHOTS / "capacity-scenario.png", full_page=True)
    page.fill("#beds", "lots")
    page.click("#run-scenario")
    assert page.locator(".nhsuk-error-summary").is_visible()
    assert page.locator("#beds.nhsuk-input--error").count() == 1
    assert axe_violations(page) == []
    page.screenshot(path=SCREENSHOTS / "capacity-error.png", full_page=True)


CHART_PAGES = ["england", "providers", "provider", "systems", "system", "regions", "region"]
SHOWN_CHARTS = """() => [...document.querySelectorAll('figure.fh-chart')].map(f => {
    const shown = [...f.querySelectorAll('svg.fh-chart__svg')]
        .filter(s => getComputedStyle(s).display !== 'none');
    return shown.map(s => ({
        kind: s.classList.contains('fh-chart__svg--narrow') ? 'narrow' : 'wide',
        width: s.getBoundingClientRect().width,
        // rendered px per viewBox unit: the charts' text is 10-13 units
        scale: s.getBoundingClientRect().width / s.viewBox.baseVal.width,
        scrolls: f.scrollWidth > f.clientWidth + 1,
    }));
})"""


@pytest.mark.parametrize("name", CHART_PAGES)
def test_charts_are_redrawn_for_a_phone(browser, live_server: str, name: str) -> None:
    """At 390 px each chart shows its phone drawing, whole and at about its own size (text
    at least 9 px, no sideways scrolling); at 1280 px the wide one. One drawing at a time."""
    for width, kind in ((390, "narrow"), (1280, "wide")):
        context = browser.new_context(
            base_url=live_server, viewport={"width": width, "height": 900}
        )
        page = context.new_page()
        url = PAGES[name].format(**codes(page)) if "{" in PAGES[name] else PAGES[name]
        assert page.goto(url).status == 200
        charts = page.evaluate(SHOWN_CHARTS)
        assert charts, f"{url}: no chart"
        for shown in charts:
            assert len(shown) == 1, f"{url} at {width} px: {len(shown)} drawings shown"
            (chart,) = shown
            assert chart["kind"] == kind, (url, width, chart)
            assert not chart["scrolls"] and chart["width"] <= width, (url, width, chart)
            assert chart["scale"] >= 0.9, (url, width, chart)  # 10-unit text >= 9 px
        if width == 390:
            SCREENSHOTS.mkdir(exist_ok=True)
            page.screenshot(path=SCREENSHOTS / f"{name}-390.png", full_page=True)
        context.close()
