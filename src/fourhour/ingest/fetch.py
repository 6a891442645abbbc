"""Download NHS England's published weekly and monthly A&E files for a range of periods.

NHS England's A&E statistics index (setting `fetch_base_url`) links one page per financial
year, e.g. (slugs under .../ae-waiting-times-and-activity/):

- monthly, 2017-18 onward: ``ae-attendances-and-emergency-admissions-2024-25/``
- monthly, 2015-16 and 2016-17: ``statistical-work-areasae-waiting-times-and-activityae-
  attendances-and-emergency-admissions-2015-16-monthly-3/`` (and ``...-2016-17/``)
- weekly, 2010-11 to 2014-15: ``weekly-ae-sitreps-2014-15/``; 2015-16:
  ``statistical-work-areasae-waiting-times-and-activityweekly-ae-sitreps-2015-16/``

Year pages are recognised by a financial year (2014-15) plus "attendances and emergency
admissions" or "A&E sitreps" in their address or link text, never by exact address; a page is
weekly when its address (else its link text) says "weekly". Besides the index, only the
pages of the range's financial years (and of the year after, where revised files are sometimes
linked) are read. Each year page links its files, kept under
.../statistics/wp-content/uploads/sites/2/YYYY/MM/ with a random suffix, e.g.
"June-2021-AE-by-provider-j47iI.xls" ("A&E by provider June 2021 (XLS, 300K)"), the monthly
CSV ("Monthly A&E November 2025 (CSV, 58KB)") and weekly "2014.03.30-AE-66Eue.xls"
("A&E Week Ending 30/03/2014 (XLS, 91K)"). A file's period comes from a week-ending date
(W/E dd/mm/yyyy, Week Ending dd/mm/yyyy, yyyy.mm.dd or WE-yyyy-mm-dd) or a month and year
(November 2025, Nov-2025) in its link text, else in its file name. Time series, quarterly
aggregates, supplementary analyses and guidance are skipped.

A weekly file is taken when its week ending falls in [since, until]; a monthly file when its
month overlaps [since, until]. Every matching .csv, .xls and .xlsx is taken (a month may have
both the CSV and the provider sheet). Files keep their published names in `dest`.

Idempotent: an existing file is asked for with If-Modified-Since (its modification time, set
to the server's Last-Modified when it was downloaded); on 200 the new content is compared with
the old by SHA-256 and the file is only replaced when it differs. Downloads go to a temporary
file beside the target and are renamed into place only when complete.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin, urlparse

import httpx

from fourhour import __version__
from fourhour.errors import FetchError
from fourhour.periods import Period, month, week_ending

KINDS = ("monthly", "weekly")
DATA_SUFFIXES = (".csv", ".xls", ".xlsx")
USER_AGENT = (
    f"fourhour/{__version__} (downloads NHS England A&E statistics; "
    f"python-httpx/{httpx.__version__})"
)
TIMEOUT = httpx.Timeout(60.0, connect=15.0)
_HINT = (
    "check the internet connection and the address (--base-url, or $FOURHOUR_FETCH_BASE_URL); "
    "NHS England may have moved its pages"
)

_FY = re.compile(r"(?<!\d)(20\d{2})[-_/ ](20\d{2}|\d{2})(?!\d)")
_AE_PAGE = re.compile(
    r"attendances[-_\s]+and[-_\s]+emergency[-_\s]+admissions|a(?:&|and)?e[-_\s]+sit[-_\s]?reps?",
    re.I,
)
_EXCLUDE = re.compile(
    r"time[-_\s]*series|quarter|(?<![a-z0-9])q[1-4](?![a-z0-9])|supplementary|definitions?"
    r"|guidance|press[-_\s]*notice|statistical[-_\s]*note|revisions?[-_\s]*polic"
    r"|by[-_\s]+(?:stp|icb|ccg|commissioner|region)s?(?![a-z])",
    re.I,
)
_MONTH_NAMES = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH = re.compile(
    r"(?<![a-z])(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)(?![a-z])[-_.\s]*(20\d{2})"
    r"(?!\d)",
    re.I,
)
_WE_TEXT_NUMERIC = re.compile(
    r"(?:(?<![a-z])w/?e|week[-_\s]*ending)[-_:\s]*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})(?!\d)",
    re.I,
)
_WE_TEXT_WORDS = re.compile(
    r"(?:(?<![a-z])w/?e|week[-_\s]*ending)[-_:\s]*(\d{1,2})(?:st|nd|rd|th)?[-_\s]+([a-z]{3,9})"
    r"[-_\s]+(20\d{2})(?!\d)",
    re.I,
)
_YMD = re.compile(r"(?<!\d)(20\d{2})[.\-_](\d{2})[.\-_](\d{2})(?!\d)")
_DMY = re.compile(r"(?<!\d)(\d{2})[.\-_](\d{2})[.\-_](20\d{2})(?!\d)")


@dataclass(frozen=True)
class Link:
    url: str
    text: str

    @property
    def file_name(self) -> str:
        return unquote(Path(urlparse(self.url).path).name)


@dataclass(frozen=True)
class YearPage:
    url: str
    text: str
    kind: str  # monthly | weekly
    fy_start: int  # 2014 for 2014-15


@dataclass(frozen=True)
class Skipped:
    url: str
    reason: str


@dataclass(frozen=True)
class FetchedFile:
    path: Path
    url: str
    kind: str
    period: Period
    outcome: str  # downloaded | unchanged
    size: int


@dataclass(frozen=True)
class FetchProgress:
    """What `fetch` tells its `progress` callback.

    stage "page": a listing page has been read (name = its URL); "planned": the files to get
    are known (total); "file": one file is done (name, outcome), done of total.
    """

    stage: str
    done: int = 0
    total: int = 0
    name: str = ""
    outcome: str = ""


@dataclass
class FetchReport:
    files: list[FetchedFile] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)

    @property
    def downloaded(self) -> list[Path]:
        return [f.path for f in self.files if f.outcome == "downloaded"]

    @property
    def unchanged(self) -> list[Path]:
        return [f.path for f in self.files if f.outcome == "unchanged"]


@dataclass(frozen=True)
class _Planned:
    link: Link
    kind: str
    period: Period


# ------------------------------------------------------------------------------ public API


def fetch(
    base_url: str,
    *,
    since: dt.date,
    until: dt.date,
    kinds: Iterable[str] = frozenset(KINDS),
    dest: Path,
    client: httpx.Client | None = None,
    progress: Callable[[FetchProgress], None] | None = None,
) -> FetchReport:
    """Download the weekly and/or monthly A&E files for [since, until] into `dest`.

    A supplied `client` is used as it is (its headers, timeout and redirect policy); without
    one, fourhour uses its own with a timeout, its User-Agent and redirects followed.
    Raises FetchError naming the URL on any network or HTTP error; a failed download leaves
    no partial file behind.
    """
    wanted = set(kinds)
    unknown = wanted - set(KINDS)
    if unknown or not wanted:
        raise FetchError(
            f"unknown kind(s) of file: {', '.join(sorted(unknown)) or 'none given'}",
            hint="choose from: monthly, weekly",
        )
    if since > until:
        raise FetchError(f"the range is empty: {since.isoformat()} is after {until.isoformat()}")
    notify = progress or (lambda _event: None)
    own_client = client is None
    http = client or httpx.Client(
        timeout=TIMEOUT, follow_redirects=True, headers={"User-Agent": USER_AGENT}
    )
    try:
        report = FetchReport()
        planned = _plan(http, base_url, since, until, wanted, report, notify)
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True)
        notify(FetchProgress("planned", 0, len(planned)))
        names: dict[str, str] = {}
        for done, item in enumerate(planned, start=1):
            target = dest / _local_name(item.link, names)
            outcome = _download(http, item.link.url, target)
            report.files.append(
                FetchedFile(
                    target, item.link.url, item.kind, item.period, outcome, target.stat().st_size
                )
            )
            notify(FetchProgress("file", done, len(planned), target.name, outcome))
        return report
    finally:
        if own_client:
            http.close()


def find_year_pages(index_html: str, index_url: str) -> list[YearPage]:
    """The per-financial-year A&E pages an index page links to, in the order linked."""
    pages: dict[str, YearPage] = {}
    for link in parse_links(index_html, index_url):
        if _is_data_file(link.url) or link.url.rstrip("/") == index_url.rstrip("/"):
            continue
        slug = urlparse(link.url).path.rstrip("/").rsplit("/", 1)[-1]
        both = f"{slug} {link.text}"
        if not _AE_PAGE.search(both):
            continue
        fy = _financial_year(slug) or _financial_year(link.text)
        if fy is None:
            continue
        pages.setdefault(link.url, YearPage(link.url, link.text, _page_kind(slug, link.text), fy))
    return list(pages.values())


def classify_link(link: Link, page_kind: str) -> tuple[str, Period] | str:
    """(kind, period) of a data file link on a page of `page_kind`, or why it is not one."""
    if _EXCLUDE.search(f"{link.text} {link.file_name}"):
        return "not a provider return (time series, quarterly, supplementary or guidance)"
    week = _week_of(link.text)
    if week is None and page_kind == "weekly":
        week = _week_of(link.file_name, file_name=True)
    if week is not None:
        return "weekly", week
    if page_kind == "weekly":
        return "no week-ending date in its link text or file name"
    found = _month_of(link.text) or _month_of(link.file_name)
    if found is not None:
        return "monthly", found
    week = _week_of(link.file_name, file_name=True)
    if week is not None:
        return "weekly", week
    return "no month and year (or week ending) in its link text or file name"


def parse_links(html: str, base_url: str) -> list[Link]:
    parser = _LinkParser()
    parser.feed(html)
    parser.close()
    links = []
    for href, text in parser.links:
        url = urldefrag(urljoin(base_url, href.strip()))[0]
        if urlparse(url).scheme in ("http", "https"):
            links.append(Link(url, " ".join(text.split())))
    return links


# ------------------------------------------------------------------------------- crawling


def _plan(
    http: httpx.Client,
    base_url: str,
    since: dt.date,
    until: dt.date,
    kinds: set[str],
    report: FetchReport,
    notify: Callable[[FetchProgress], None],
) -> list[_Planned]:
    index_html = _get_text(http, base_url)
    report.pages.append(base_url)
    notify(FetchProgress("page", name=base_url))
    # a week ending early in April can sit on the previous year's page, and revised files on
    # the following year's
    first_fy = _fy_of(since - dt.timedelta(days=7))
    last_fy = _fy_of(until + dt.timedelta(days=7)) + 1
    pages = [
        p
        for p in find_year_pages(index_html, base_url)
        if first_fy <= p.fy_start <= last_fy and p.kind in kinds
    ]
    listings = [(base_url, _page_kind(base_url, ""), index_html)]
    for page in pages:
        listings.append((page.url, page.kind, _get_text(http, page.url)))
        report.pages.append(page.url)
        notify(FetchProgress("page", name=page.url))

    planned: dict[str, _Planned] = {}
    for page_url, page_kind, html in listings:
        for link in parse_links(html, page_url):
            if not _is_data_file(link.url) or link.url in planned:
                continue
            found = classify_link(link, page_kind)
            if isinstance(found, str):
                report.skipped.append(Skipped(link.url, found))
                continue
            kind, period = found
            if kind not in kinds:
                report.skipped.append(Skipped(link.url, f"{kind} files not asked for"))
            elif not _in_range(kind, period, since, until):
                report.skipped.append(Skipped(link.url, "outside the range"))
            else:
                planned[link.url] = _Planned(link, kind, period)
    report.skipped = _dedupe_skipped(report.skipped, set(planned))
    return sorted(planned.values(), key=lambda p: (p.period.end, p.kind, p.link.file_name))


def _dedupe_skipped(skipped: list[Skipped], planned: set[str]) -> list[Skipped]:
    seen: set[str] = set()
    out = []
    for s in skipped:
        if s.url in planned or s.url in seen:
            continue
        seen.add(s.url)
        out.append(s)
    return out


def _in_range(kind: str, period: Period, since: dt.date, until: dt.date) -> bool:
    if kind == "weekly":
        return since <= period.end <= until
    return period.start <= until and period.end >= since


def _get_text(http: httpx.Client, url: str) -> str:
    try:
        response = http.get(url)
    except httpx.HTTPError as exc:
        raise FetchError(f"could not read {url}: {_describe(exc)}", hint=_HINT) from exc
    if response.status_code != 200:
        raise FetchError(
            f"could not read {url}: HTTP {response.status_code} {response.reason_phrase}",
            hint=_HINT,
        )
    return response.text


def _download(http: httpx.Client, url: str, target: Path) -> str:
    """'downloaded' or 'unchanged'. Writes only complete files, by renaming a temporary file."""
    headers = {}
    if target.exists():
        headers["If-Modified-Since"] = email.utils.formatdate(target.stat().st_mtime, usegmt=True)
    try:
        with http.stream("GET", url, headers=headers) as response:
            if response.status_code == 304 and headers:
                return "unchanged"
            if response.status_code != 200:
                raise FetchError(
                    f"could not download {url}: HTTP {response.status_code} "
                    f"{response.reason_phrase}"
                )
            fd, tmp_name = tempfile.mkstemp(
                dir=target.parent, prefix=f".{target.name}.", suffix=".part"
            )
            tmp = Path(tmp_name)
            try:
                digest = hashlib.sha256()
                with os.fdopen(fd, "wb") as handle:
                    for chunk in response.iter_bytes():
                        handle.write(chunk)
                        digest.update(chunk)
                if target.exists() and _sha256(target) == digest.hexdigest():
                    tmp.unlink()
                    return "unchanged"
                modified = _last_modified(response.headers.get("Last-Modified"))
                if modified is not None:
                    os.utime(tmp, (modified, modified))
                os.replace(tmp, target)
                return "downloaded"
            finally:
                tmp.unlink(missing_ok=True)
    except httpx.HTTPError as exc:
        raise FetchError(f"could not download {url}: {_describe(exc)}") from exc


# -------------------------------------------------------------------------------- helpers


class _LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._finish()
            self._href = dict(attrs).get("href")
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._finish()

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def close(self) -> None:
        super().close()
        self._finish()

    def _finish(self) -> None:
        if self._href:
            self.links.append((self._href, "".join(self._text)))
        self._href = None
        self._text = []


def _is_data_file(url: str) -> bool:
    return urlparse(url).path.lower().endswith(DATA_SUFFIXES)


def _financial_year(text: str) -> int | None:
    for m in _FY.finditer(text):
        start, end = int(m[1]), m[2]
        if int(end) == start + 1 or int(end) == (start + 1) % 100:
            return start
    return None


def _fy_of(day: dt.date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def _page_kind(slug: str, text: str) -> str:
    slug = slug.lower()
    if "weekly" in slug:
        return "weekly"
    if "monthly" in slug:
        return "monthly"
    return "weekly" if "weekly" in text.lower() else "monthly"


def _sunday(day: dt.date) -> Period | None:
    return week_ending(day) if day.weekday() == 6 else None


def _date(year: int, month_number: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month_number, day)
    except ValueError:
        return None


def _week_of(text: str, *, file_name: bool = False) -> Period | None:
    """A week ending named in link text ('W/E 07/12/2014', 'Week Ending 7 December 2014') or in
    a file name ('2014.12.07-AE-66Eue.xls', 'Weekly-AE-WE-2014-12-07.csv')."""
    candidates: list[dt.date | None] = []
    for m in _WE_TEXT_NUMERIC.finditer(text):
        year = int(m[3]) + (2000 if len(m[3]) == 2 else 0)
        candidates.append(_date(year, int(m[2]), int(m[1])))
    for m in _WE_TEXT_WORDS.finditer(text):
        number = _MONTH_NAMES.get(m[2][:3].lower())
        if number:
            candidates.append(_date(int(m[3]), number, int(m[1])))
    if file_name:
        candidates += [_date(int(m[1]), int(m[2]), int(m[3])) for m in _YMD.finditer(text)]
        candidates += [_date(int(m[3]), int(m[2]), int(m[1])) for m in _DMY.finditer(text)]
    for day in candidates:
        if day is not None and (week := _sunday(day)) is not None:
            return week
    return None


def _month_of(text: str) -> Period | None:
    for m in _MONTH.finditer(text):
        return month(int(m[2]), _MONTH_NAMES[m[1][:3].lower()])
    return None


def _local_name(link: Link, used: dict[str, str]) -> str:
    """The published file name, made safe; disambiguated if two URLs share a name."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", link.file_name).strip(".-") or "download"
    if used.get(name, link.url) != link.url:
        stem, dot, suffix = name.rpartition(".")
        tag = hashlib.sha256(link.url.encode()).hexdigest()[:8]
        name = f"{stem}-{tag}.{suffix}" if dot else f"{name}-{tag}"
    used[name] = link.url
    return name


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _last_modified(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None


def _describe(exc: httpx.HTTPError) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
