"""The crawler: from the home page, follow internal links and form options in every era, on the
demo's synthetic warehouse and on a warehouse of the real data; every page answers 200 (or a
deliberate redirect to one that does), no link is broken, no figure is empty; then axe-core in
headless Chromium on one page of each type.

Bounded: links are grouped by page type (the path with codes as placeholders, the parameter
names, and the era of the period) and at most SAMPLE of each group are followed; of a period
select, the first, middle and last options are tried. On 2 cores the real crawl takes a few
minutes, mostly computing pages cold.
"""

from __future__ import annotations

import re
import shutil
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
from starlette.testclient import TestClient

from tests.browser.conftest import require_browser, serve
from tests.web_world import app_for

pytestmark = pytest.mark.slow

SAMPLE = 2  # links followed per page type and era
MAX_PAGES = 160  # a bound on the whole crawl of one warehouse
SKIP = ("/static/", "/assets/", "/api/v1/openapi.json")


class Links(HTMLParser):
    """hrefs, and the GET forms' selects (name -> option values) with their hidden inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.forms: list[dict] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"])
        elif tag == "form" and a.get("method", "get").lower() == "get":
            self.forms.append({"action": a.get("action", ""), "hidden": {}, "selects": {}})
        elif tag == "input" and self.forms and a.get("type") == "hidden" and a.get("name"):
            self.forms[-1]["hidden"][a["name"]] = a.get("value", "")
        elif tag == "select" and self.forms and a.get("name"):
            self._select = a["name"]
            self.forms[-1]["selects"][self._select] = []
        elif tag == "option" and self._select and a.get("value"):
            self.forms[-1]["selects"][self._select].append(a["value"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def era(query: dict[str, str]) -> str:
    if "week" in query:
        return "weekly-" + ("2010-15" if query["week"] < "2016" else "later")
    if "month" in query:
        m = query["month"]
        return "monthly-" + (
            "2010-16"
            if m < "2016-04"
            else "2016-19"
            if m < "2019-05"
            else "2019-23"  # the field test: some trusts left out of the four-hour figures
            if m < "2023-06"
            else "2023-25"
            if m < "2025-04"
            else "2025+"
        )
    return "default"


def page_type(url: str) -> tuple:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    segments = parts.path.strip("/").split("/")
    shape = "/".join(segments[:1] + ["{code}" for _ in segments[1:]])
    if parts.path.startswith("/oversight"):
        shape = parts.path if "escalations" not in parts.path else "/oversight/escalations/{id}"
    return shape, tuple(sorted(k for k in query if k not in ("week", "month"))), era(query)


def candidates(base: str, html: str) -> list[str]:
    found = Links()
    found.feed(html)
    urls = [urljoin(base, h) for h in found.hrefs if not h.startswith(("#", "mailto:"))]
    for form in found.forms:
        action = urljoin(base, form["action"] or urlsplit(base).path)
        for name, values in form["selects"].items():
            picks = {values[0], values[len(values) // 2], values[-1]} if values else set()
            for value in sorted(picks):
                query = {**form["hidden"], name: value}
                urls.append(f"{action}?{urlencode(query)}")
    return [
        u
        for u in urls
        if urlsplit(u).netloc in ("", "testserver") and not urlsplit(u).path.startswith(SKIP)
    ]


def crawl(client: TestClient, seeds: tuple[str, ...] = ()) -> tuple[dict[tuple, str], set[tuple]]:
    """Crawl from / (and from `seeds`, home pages of other periods), asserting as it goes;
    returns one visited URL per page type (for axe) and the (page type, era) pairs visited."""
    seen: set[str] = set()
    per_type: dict[tuple, int] = defaultdict(int)
    examples: dict[tuple, str] = {}
    queue = ["http://testserver/", *(f"http://testserver{s}" for s in seeds)]
    problems: list[str] = []
    while queue and len(seen) < MAX_PAGES:
        # Page types and eras not yet visited first, so that the bound never hides one.
        fresh = next((i for i, u in enumerate(queue) if per_type[page_type(u)] == 0), 0)
        url = queue.pop(fresh)
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if path in seen:
            continue
        kind = page_type(url)
        if per_type[kind] >= SAMPLE:
            continue
        seen.add(path)
        per_type[kind] += 1
        r = client.get(path, follow_redirects=False)
        hops = 0
        while r.status_code in (301, 302, 307, 308) and hops < 3:
            path = r.headers["location"]
            r = client.get(path, follow_redirects=False)
            hops += 1
        if r.status_code != 200:
            problems.append(f"{r.status_code} {url}")
            continue
        content = r.headers.get("content-type", "")
        if "download=" in url:
            if "text/csv" not in content or "period" not in r.text.splitlines()[0]:
                problems.append(f"not a CSV keyed by period: {url}")
            continue
        if "text/html" not in content:
            continue
        for figure in re.findall(r'<figure class="fh-chart".*?</figure>', r.text, re.S):
            if "<svg" not in figure:
                problems.append(f"empty figure on {url}")
        examples.setdefault(kind[:1], path)
        queue.extend(
            u
            for u in candidates(f"http://testserver{path}", r.text)
            if per_type[page_type(u)] < SAMPLE and u not in queue
        )
    assert not problems, "\n".join(problems[:20])
    return examples, {(k[0], k[2]) for k in per_type}


def axe_pass(browser, base_url: str, paths: list[str]) -> list[str]:  # type: ignore[no-untyped-def]
    """axe on each page, in the session's Chromium (one Playwright per process: a second
    sync_playwright() inside the first one's loop is refused)."""
    from tests.browser.test_pages import axe_violations

    failures = []
    context = browser.new_context(base_url=base_url)
    page = context.new_page()
    for path in paths:
        page.goto(path)
        if violations := axe_violations(page):
            failures.append(f"{path}: {violations}")
    context.close()
    return failures


# Every level, as a league and as one organisation's page, must be visited in every era.
SHAPES = ("", "providers", "providers/{code}", "systems", "systems/{code}", "regions",
          "regions/{code}")  # fmt: skip


def check(browser, app, eras: set[str], seeds: tuple[str, ...] = ()) -> None:  # type: ignore[no-untyped-def]
    with TestClient(app) as client:
        examples, visited = crawl(client, seeds)
    assert len(examples) >= 10, examples  # England, leagues, organisations, oversight...
    for shape in SHAPES:
        assert eras <= {e for s, e in visited if s == shape}, (shape, sorted(visited))
    with serve(app) as base_url:
        assert axe_pass(browser, base_url, sorted(examples.values())) == []


def test_crawl_the_demo_warehouse(browser, tmp_path: Path, web_world) -> None:
    require_browser()
    path, rules = web_world(tmp_path, patients=False)
    check(browser, app_for(path, rules), {"weekly-later"})


@pytest.mark.realdata
def test_crawl_the_real_warehouse(browser, real_warehouse: Path, tmp_path: Path) -> None:
    require_browser()
    eras = {"weekly-2010-15", "monthly-2016-19", "monthly-2019-23", "monthly-2025+"}
    # The home page leads with the latest month; a period of each era seeds the rest (the
    # period forms' first, middle and last options need not fall in every era).
    seeds = ("/?week=2015-01-04", "/?month=2017-06", "/?month=2021-06", "/?month=2026-01")
    copy = tmp_path / "real.duckdb"  # the server opens it for writing; the session's is shared
    shutil.copy(real_warehouse, copy)
    app = app_for(copy, None, version_ttl_s=5.0, idle_release_s=30.0)
    check(browser, app, eras, seeds)
