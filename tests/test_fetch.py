"""`fourhour fetch` against a real local HTTP server that imitates NHS England's site."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fourhour.errors import FetchError
from fourhour.ingest.fetch import (
    FetchProgress,
    Link,
    classify_link,
    fetch,
    find_year_pages,
)

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
REAL_MONTHLY = SHARED_DATA / "monthly-by-provider-2025-26"
AE = "/statistics/statistical-work-areas/ae-waiting-times-and-activity/"
UPLOADS = "/statistics/wp-content/uploads/sites/2/"
MONTHS = (
    "April", "May", "June", "July", "August", "September",
    "October", "November", "December", "January", "February", "March",
)  # fmt: skip
NHS = "https://www.england.nhs.uk"


@dataclass
class Site:
    root: Path
    url: str
    requests: list[tuple[str, int]] = field(default_factory=list)
    monthly: dict[str, Path] = field(default_factory=dict)  # published name -> served file
    weekly: dict[str, Path] = field(default_factory=dict)

    def write(self, path: str, data: bytes | str) -> Path:
        target = self.root / path.lstrip("/")
        if path.endswith("/"):
            target = target / "index.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        return target

    def file_requests(self) -> list[tuple[str, int]]:
        return [(p, s) for p, s in self.requests if p.startswith((UPLOADS, "/drop/"))]


def page(title: str, links: list[tuple[str, str]]) -> str:
    """A page in the style of NHS England's WordPress statistics pages."""
    items = "\n".join(
        f'<p><a href="{html.escape(href)}">{html.escape(text)}</a></p>' for href, text in links
    )
    return f"""<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="UTF-8"><title>{html.escape(title)} | NHS England</title>
</head><body>
<nav><a href="/">Home</a> <a href="/statistics/">Statistics</a>
<a href="/statistics/statistical-work-areas/">Statistical Work Areas</a></nav>
<main id="maincontent"><article><h1>{html.escape(title)}</h1>
<p>The Monthly A&amp;E Attendances and Emergency Admissions collection collects the total
number of attendances in the calendar month for all A&amp;E types.</p>
{items}
<p><a href="/statistics/wp-content/uploads/sites/2/2025/05/AE-guidance.pdf">Guidance (PDF)</a></p>
</article></main></body></html>
"""


def suffix(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:5]


def weekly_xls(week_ending: str) -> bytes:
    import io

    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("Provider Level Data")
    sheet.write(0, 0, "Title:")
    sheet.write(0, 1, "A&E Attendances and Emergency Admissions")
    sheet.write(1, 0, "Period:")
    sheet.write(1, 1, f"Week Ending {week_ending}")
    for col, text in enumerate(("Code", "Name", "Type 1 Departments - Major A&E")):
        sheet.write(3, col, text)
    for col, value in enumerate(("ZS001", "Kestrelford Hospitals NHS Trust (synthetic)", 2400)):
        sheet.write(4, col, value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def build_site(site: Site) -> None:
    base = site.url
    index_links = [
        (f"{base}{AE}ae-attendances-and-emergency-admissions-2025-26/",
         "A&E Attendances and Emergency Admissions 2025-26"),
        (f"{base}{AE}ae-attendances-and-emergency-admissions-2024-25/",
         "A&E Attendances and Emergency Admissions 2024-25"),
        (f"{base}{AE}statistical-work-areasae-waiting-times-and-activityweekly-ae-sitreps-2015-16/",
         "Weekly A&E SitReps 2015-16"),
        (f"{base}{AE}weekly-ae-sitreps-2014-15/", "Weekly A&E SitReps 2014-15"),
        (f"{base}/statistics/statistical-work-areas/", "Statistical Work Areas"),
        (f"{base}{UPLOADS}2026/04/Monthly-AE-Time-Series-March-2026-x1y2z.xls",
         "Monthly A&E Time Series March 2026 (XLS, 120K)"),
    ]  # fmt: skip
    site.write(AE, page("A&E Attendances and Emergency Admissions", index_links))

    # monthly 2025-26: copies of the real provider sheets, published the month after
    links = []
    if REAL_MONTHLY.is_dir():
        for i, name in enumerate(MONTHS):
            year = 2025 if i < 9 else 2026
            real = REAL_MONTHLY / f"{name}-{year}-AE.csv"
            pub_year, pub_month = (year, i + 5) if i < 8 else (year + (i == 8), (i + 5) % 12)
            published = f"{name}-{year}-AE-by-provider-{suffix(name)}.csv"
            path = f"{UPLOADS}{pub_year}/{pub_month:02d}/{published}"
            site.monthly[published] = site.write(path, real.read_bytes())
            size = f"(CSV, {real.stat().st_size // 1024}KB)"
            text = (
                f"A&E by provider {name} {year} {size}",
                f"{name} {year} A&E by provider {size}",
                f"A&E by provider {size}",  # the month is only in the file name
            )[i % 3]
            links.append((f"{base}{path}", text))
        mapping = site.write(
            f"{UPLOADS}2025/06/System-Mapping-2025.csv",
            (REAL_MONTHLY / "System-Mapping-2025.csv").read_bytes(),
        )
        links.append((f"{base}{UPLOADS}2025/06/{mapping.name}", "System mapping 2025 (CSV)"))
    links.append(
        (f"{base}{UPLOADS}2025/08/Q1-2025-26-AE-by-provider-k3j4h.csv", "Quarter 1 2025-26 (CSV)")
    )
    site.write(f"{UPLOADS}2025/08/Q1-2025-26-AE-by-provider-k3j4h.csv", "Code,Name\n")
    site.write(
        f"{AE}ae-attendances-and-emergency-admissions-2025-26/",
        page("A&E Attendances and Emergency Admissions 2025-26", links),
    )
    site.write(
        f"{AE}ae-attendances-and-emergency-admissions-2024-25/",
        page("A&E Attendances and Emergency Admissions 2024-25", []),
    )

    # weekly 2014-15: a self-made XLS and CSV in range, one XLS out of range
    weekly = [
        ("2014/12/2014.12.07-AE-x7Yz1.xls", "A&E Week Ending 07/12/2014 (XLS, 20K)",
         weekly_xls("07/12/2014")),
        ("2014/12/Weekly-AE-SitReps-Provider-Qw3rT.csv",
         "Weekly A&E Sitreps 2014-15 W/E 14/12/2014 (CSV, 1K)",
         b"Code,Name,Type 1 Departments - Major A&E\nZS001,Kestrelford (synthetic),2500\n"),
        ("2015/04/2015.03.29-AE-aB9cD.xls", "A&E Week Ending 29/03/2015 (XLS, 20K)",
         weekly_xls("29/03/2015")),
        ("2015/01/Weekly-AE-Timeseries-w1e2r.xls", "Weekly A&E Timeseries (XLS, 300K)", b"x"),
    ]  # fmt: skip
    links = []
    for path, text, data in weekly:
        served = site.write(UPLOADS + path, data)
        if "Timeseries" not in path:
            site.weekly[served.name] = served
        links.append((f"{base}{UPLOADS}{path}", text))
    site.write(f"{AE}weekly-ae-sitreps-2014-15/", page("Weekly A&E SitReps 2014-15", links))
    site.write(
        f"{AE}statistical-work-areasae-waiting-times-and-activityweekly-ae-sitreps-2015-16/",
        page(
            "Weekly A&E SitReps 2015-16",
            [(f"{base}{UPLOADS}2015/07/2015.06.28-AE-p0o9i.xls", "A&E Week Ending 28/06/2015")],
        ),
    )
    site.write(f"{UPLOADS}2015/07/2015.06.28-AE-p0o9i.xls", weekly_xls("28/06/2015"))

    # a broken site: a missing file, and a file whose connection drops half way
    site.write(
        "/broken/ae-attendances-and-emergency-admissions-2025-26/",
        page(
            "A&E Attendances and Emergency Admissions 2025-26",
            [
                (
                    f"{base}{UPLOADS}2025/06/May-2025-AE-by-provider-gone1.csv",
                    "A&E by provider May 2025 (CSV, 29KB)",
                ),
                (
                    f"{base}/drop/June-2025-AE-by-provider-cut01.csv",
                    "A&E by provider June 2025 (CSV, 29KB)",
                ),
            ],
        ),
    )
    site.write(
        "/broken/",
        page(
            "A&E",
            [(f"{base}/broken/ae-attendances-and-emergency-admissions-2025-26/", "2025-26")],
        ),
    )


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    root = tmp_path / "site"
    root.mkdir()
    requests: list[tuple[str, int]] = []

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            requests.append((self.path, int(code)))

        def do_GET(self) -> None:
            if self.path.startswith("/drop/"):
                self.send_response(200)
                self.send_header("Content-Type", "text/csv")
                self.send_header("Content-Length", "100000")
                self.end_headers()
                self.wfile.write(b"Code,Region,Name\n" * 60)
                self.wfile.flush()
                self.close_connection = True
                return
            super().do_GET()

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    s = Site(root, f"http://127.0.0.1:{server.server_address[1]}", requests)
    try:
        build_site(s)
        yield s
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def real_monthly() -> Path:
    if not REAL_MONTHLY.is_dir():
        pytest.skip(f"real NHS England monthly files not found at {REAL_MONTHLY}")
    return REAL_MONTHLY


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def test_monthly_range_comes_down_byte_identical(
    site: Site, real_monthly: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "nhse"
    events: list[FetchProgress] = []
    report = fetch(
        site.url + AE,
        since=dt.date(2025, 5, 1),
        until=dt.date(2025, 7, 31),
        kinds={"monthly"},
        dest=dest,
        progress=events.append,
    )
    wanted = {n for n in site.monthly if n.startswith(("May-", "June-", "July-"))}
    assert len(wanted) == 3
    assert {p.name for p in report.downloaded} == wanted
    assert report.unchanged == []
    assert sorted(p.name for p in dest.iterdir()) == sorted(wanted)
    for name in wanted:
        assert (dest / name).read_bytes() == site.monthly[name].read_bytes()
    assert [f.period.label for f in report.files] == ["May 2025", "June 2025", "July 2025"]
    assert all(f.kind == "monthly" for f in report.files)
    # out-of-range months, quarterly files, mappings and time series were not even requested
    fetched = {p.rsplit("/", 1)[-1] for p, _ in site.file_requests()}
    assert fetched == wanted
    reasons = {s.url.rsplit("/", 1)[-1]: s.reason for s in report.skipped}
    assert reasons["April-2025-AE-by-provider-" + suffix("April") + ".csv"] == "outside the range"
    assert "not a provider return" in reasons["Q1-2025-26-AE-by-provider-k3j4h.csv"]
    assert "not a provider return" in reasons["Monthly-AE-Time-Series-March-2026-x1y2z.xls"]
    assert reasons["System-Mapping-2025.csv"].startswith("no month")
    # only this financial year's page was read (besides the index)
    assert report.pages == [
        site.url + AE,
        f"{site.url}{AE}ae-attendances-and-emergency-admissions-2025-26/",
    ]
    assert [e.stage for e in events].count("file") == 3
    assert (events[-1].stage, events[-1].done, events[-1].total) == ("file", 3, 3)
    assert events[-1].name.startswith("July-2025") and events[-1].outcome == "downloaded"


def test_second_run_downloads_nothing_and_changes_nothing(
    site: Site, real_monthly: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "nhse"
    args = {"since": dt.date(2014, 12, 1), "until": dt.date(2025, 6, 30), "dest": dest}
    first = fetch(site.url + AE, **args)
    names = {p.name for p in first.downloaded}
    assert {"2014.12.07-AE-x7Yz1.xls", "Weekly-AE-SitReps-Provider-Qw3rT.csv"} <= names
    assert "2015.06.28-AE-p0o9i.xls" in names and "2015.03.29-AE-aB9cD.xls" in names
    assert len(names) == 4 + 3  # weekly: 4 (Dec 2014 to June 2015); monthly: April to June 2025
    before = snapshot(dest)
    site.requests.clear()

    second = fetch(site.url + AE, **args)
    assert second.downloaded == []
    assert {p.name for p in second.unchanged} == names
    assert snapshot(dest) == before
    # the server was asked conditionally and sent no file again
    assert site.file_requests() and all(status == 304 for _, status in site.file_requests())

    # a revised file (same address, new content) is downloaded again, and only that one
    revised_name = next(n for n in site.monthly if n.startswith("May-"))
    revised = site.monthly[revised_name]
    revised.write_bytes(revised.read_bytes().replace(b"Bedfordshire", b"Bedfordshyre", 1))
    later = time.time() + 120
    os.utime(revised, (later, later))
    third = fetch(site.url + AE, **args)
    assert [p.name for p in third.downloaded] == [revised_name]
    assert (dest / revised_name).read_bytes() == revised.read_bytes()


def test_weekly_files_by_week_ending(site: Site, tmp_path: Path) -> None:
    dest = tmp_path / "weekly"
    report = fetch(
        site.url + AE,
        since=dt.date(2014, 12, 1),
        until=dt.date(2014, 12, 31),
        kinds={"weekly"},
        dest=dest,
    )
    assert [(f.path.name, f.period.end) for f in report.files] == [
        ("2014.12.07-AE-x7Yz1.xls", dt.date(2014, 12, 7)),
        ("Weekly-AE-SitReps-Provider-Qw3rT.csv", dt.date(2014, 12, 14)),
    ]
    for f in report.files:
        assert f.path.read_bytes() == site.weekly[f.path.name].read_bytes()
    assert sorted(p.name for p in dest.iterdir()) == [f.path.name for f in report.files]
    # monthly pages were not read when only weekly files are wanted
    assert not any("emergency-admissions-2025-26" in p for p in report.pages)


def test_missing_file_raises_and_leaves_nothing(site: Site, tmp_path: Path) -> None:
    dest = tmp_path / "nhse"
    url = f"{site.url}{UPLOADS}2025/06/May-2025-AE-by-provider-gone1.csv"
    with pytest.raises(FetchError) as caught:
        fetch(
            site.url + "/broken/",
            since=dt.date(2025, 5, 1),
            until=dt.date(2025, 5, 31),
            dest=dest,
        )
    assert url in str(caught.value) and "404" in str(caught.value)
    assert list(dest.iterdir()) == []


def test_dropped_connection_raises_and_keeps_the_old_file(site: Site, tmp_path: Path) -> None:
    dest = tmp_path / "nhse"
    dest.mkdir()
    old = dest / "June-2025-AE-by-provider-cut01.csv"
    old.write_bytes(b"the complete earlier download\n")
    os.utime(old, (0, 0))  # older than anything on the server
    with pytest.raises(FetchError) as caught:
        fetch(
            site.url + "/broken/",
            since=dt.date(2025, 6, 1),
            until=dt.date(2025, 6, 30),
            dest=dest,
        )
    assert f"{site.url}/drop/June-2025-AE-by-provider-cut01.csv" in str(caught.value)
    assert [p.name for p in dest.iterdir()] == [old.name]
    assert old.read_bytes() == b"the complete earlier download\n"


def test_missing_page_and_no_server(site: Site, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match=r"/nowhere/.*404"):
        fetch(
            site.url + "/nowhere/",
            since=dt.date(2025, 5, 1),
            until=dt.date(2025, 5, 31),
            dest=tmp_path / "a",
        )
    closed = ThreadingHTTPServer(("127.0.0.1", 0), SimpleHTTPRequestHandler)
    port = closed.server_address[1]
    closed.server_close()
    with pytest.raises(FetchError, match=rf"http://127\.0\.0\.1:{port}/"):
        fetch(
            f"http://127.0.0.1:{port}/",
            since=dt.date(2025, 5, 1),
            until=dt.date(2025, 5, 31),
            dest=tmp_path / "b",
        )
    with pytest.raises(FetchError, match="unknown kind"):
        fetch(site.url, since=dt.date(2025, 5, 1), until=dt.date(2025, 5, 31), kinds={"daily"},
              dest=tmp_path / "c")  # fmt: skip


def test_cli(
    site: Site, real_monthly: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fourhour.cli import app

    runner = CliRunner()
    dest = tmp_path / "nhse"
    args = ["fetch", "--from", "2025-05", "--to", "2025-06", "--kind", "monthly"]
    result = runner.invoke(app, [*args, "--dest", str(dest), "--base-url", site.url + AE])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in dest.iterdir()) == sorted(
        n for n in site.monthly if n.startswith(("May-", "June-"))
    )
    assert "2 downloaded, 0 already present" in result.output
    assert f"fourhour ingest {dest.as_posix()}/*" in result.output

    # the base URL from the environment; a second run changes nothing
    monkeypatch.setenv("FOURHOUR_FETCH_BASE_URL", site.url + AE)
    again = runner.invoke(app, [*args, "--dest", str(dest)])
    assert again.exit_code == 0, again.output
    assert "0 downloaded, 2 already present and unchanged" in again.output

    bad = runner.invoke(app, ["fetch", "--from", "2025-13", "--dest", str(dest)])
    assert bad.exit_code == 2 and "YYYY-MM" in bad.output


# --------------------------------------------------------------- NHS England's own naming


def test_year_pages_as_nhs_england_names_them() -> None:
    index = page(
        "A&E Attendances and Emergency Admissions",
        [
            (f"{NHS}{AE}ae-attendances-and-emergency-admissions-2025-26/",
             "A&E Attendances and Emergency Admissions 2025-26"),
            (f"{NHS}{AE}statistical-work-areasae-waiting-times-and-activityae-attendances-and-"
             "emergency-admissions-2016-17/", "A&E Attendances and Emergency Admissions 2016-17"),
            (f"{NHS}{AE}statistical-work-areasae-waiting-times-and-activityae-attendances-and-"
             "emergency-admissions-2015-16-monthly-3/",
             "A&E Attendances and Emergency Admissions 2015-16 (Monthly and Quarterly)"),
            (f"{NHS}{AE}statistical-work-areasae-waiting-times-and-activityweekly-ae-sitreps-"
             "2015-16/", "Weekly A&E SitReps 2015-16"),
            (f"{NHS}{AE}weekly-ae-sitreps-2010-11/", "Weekly A&E SitReps 2010-11"),
            (f"{NHS}/statistics/statistical-work-areas/", "Statistical Work Areas"),
            (f"{NHS}{UPLOADS}2025/12/Monthly-AE-Time-Series-November-2025.xls",
             "Monthly A&E Time Series November 2025 (XLS, 120K)"),
        ],
    )  # fmt: skip
    pages = find_year_pages(index, NHS + AE)
    assert [(p.kind, p.fy_start) for p in pages] == [
        ("monthly", 2025),
        ("monthly", 2016),
        ("monthly", 2015),
        ("weekly", 2015),
        ("weekly", 2010),
    ]


@pytest.mark.parametrize(
    ("text", "file", "page_kind", "expected"),
    [
        (
            "A&E by provider November 2025 (XLS, 310KB)",
            "November-2025-AE-by-provider-Sa9Xc.xls",
            "monthly",
            ("monthly", "2025-11-01"),
        ),
        (
            "Monthly A&E November 2025 (CSV, 58KB)",
            "Monthly-AE-November-2025.csv",
            "monthly",
            ("monthly", "2025-11-01"),
        ),
        (
            "June 2021 A&E by provider (XLS)",
            "June-2021-AE-by-provider-aq1Xz.xls",
            "monthly",
            ("monthly", "2021-06-01"),
        ),
        (
            "Monthly A&E October 2019 (revised)",
            "Monthly-October-2019-revised-210720-qm5hG.xls",
            "monthly",
            ("monthly", "2019-10-01"),
        ),
        ("Download", "Sept-2017-AE-by-provider-x.xls", "monthly", ("monthly", "2017-09-01")),
        (
            "A&E Week Ending 30/03/2014 (XLS, 91K)",
            "2014.03.30-AE-66Eue.xls",
            "weekly",
            ("weekly", "2014-03-24"),
        ),
        (
            "Weekly A&E Sitreps 2014-15 W/E 07/12/2014 (XLS, 92K)",
            "AE-sitrep-abcde.xls",
            "weekly",
            ("weekly", "2014-12-01"),
        ),
        ("Week ending 7 December 2014", "file.csv", "weekly", ("weekly", "2014-12-01")),
        ("A&E weekly data (XLS)", "2014.03.30-AE-66Eue.xls", "weekly", ("weekly", "2014-03-24")),
        (
            "Monthly A&E Time Series November 2025 (XLS)",
            "Monthly-AE-Time-Series-Nov.xls",
            "monthly",
            None,
        ),
        ("Quarterly A&E Q3 2014-15 (XLS)", "Q3-2014-15-AE-x.xls", "weekly", None),
        ("A&E Q1 2019-20 by provider (XLS)", "Q1-2019-20-AE-by-provider-x.xls", "monthly", None),
        ("A&E by provider (XLS)", "AE-by-provider-x.xls", "monthly", None),
        ("Monthly A&E November 2025 (CSV)", "Monthly-AE-November-2025.csv", "weekly", None),
    ],
)
def test_file_links_as_nhs_england_names_them(
    text: str, file: str, page_kind: str, expected: tuple[str, str] | None
) -> None:
    found = classify_link(Link(f"{NHS}{UPLOADS}2025/12/{file}", text), page_kind)
    if expected is None:
        assert isinstance(found, str)
    else:
        assert not isinstance(found, str), found
        assert (found[0], found[1].start.isoformat()) == expected
