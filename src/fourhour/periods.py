"""Reporting periods: weeks ending Sunday, calendar months, quarters and financial years."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from fourhour.errors import InvalidInputError

GRANULARITIES = ("week", "month", "quarter", "fy")


@dataclass(frozen=True)
class Period:
    granularity: str  # week | month | quarter | fy
    start: dt.date
    end: dt.date  # inclusive

    @property
    def label(self) -> str:
        if self.granularity == "week":
            return f"week ending {self.end:%-d %B %Y}"
        if self.granularity == "month":
            return f"{self.start:%B %Y}"
        if self.granularity == "quarter":
            fy = fy_start_year(self.start)
            q = (self.start.month - 4) % 12 // 3 + 1
            return f"Q{q} {fy}/{(fy + 1) % 100:02d}"
        return f"{self.start.year}/{(self.start.year + 1) % 100:02d}"

    def same_period_last_year(self) -> Period:
        """The week ending 364 days before (same weekday), else the same period a year before."""
        if self.granularity == "week":
            return week_ending(self.end - dt.timedelta(days=364))
        if self.granularity == "month":
            return month(self.start.year - 1, self.start.month)
        if self.granularity == "quarter":
            return quarter_containing(self.start.replace(year=self.start.year - 1))
        return financial_year(self.start.year - 1)


def week_ending(day: dt.date) -> Period:
    if day.weekday() != 6:
        raise InvalidInputError(
            f"{day.isoformat()} is a {day:%A}; NHS England's weekly returns end on a Sunday",
            hint=f"try --week-ending {(day + dt.timedelta(days=(6 - day.weekday()))).isoformat()}",
        )
    return Period("week", day - dt.timedelta(days=6), day)


def month(year: int, month_number: int) -> Period:
    start = dt.date(year, month_number, 1)
    nxt = dt.date(year + (month_number == 12), month_number % 12 + 1, 1)
    return Period("month", start, nxt - dt.timedelta(days=1))


def fy_start_year(day: dt.date) -> int:
    """The year in which the financial year containing `day` began (April to March)."""
    return day.year if day.month >= 4 else day.year - 1


def quarter_containing(day: dt.date) -> Period:
    offset = (day.month - 4) % 12 // 3  # 0..3 from April
    first_month = (4 + 3 * offset - 1) % 12 + 1
    year = fy_start_year(day) + (first_month < 4)
    start = dt.date(year, first_month, 1)
    last = month(year + (first_month + 2 > 12), (first_month + 2 - 1) % 12 + 1)
    return Period("quarter", start, last.end)


def financial_year(start_year: int) -> Period:
    return Period("fy", dt.date(start_year, 4, 1), dt.date(start_year + 1, 3, 31))


def parse_month(text: str) -> Period:
    try:
        day = dt.datetime.strptime(text.strip(), "%Y-%m").date()
    except ValueError:
        raise InvalidInputError(
            f"{text!r} is not a month; expected YYYY-MM, e.g. 2025-01"
        ) from None
    return month(day.year, day.month)


def parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInputError(f"{text!r} is not a date; expected YYYY-MM-DD") from None


_QUARTER = re.compile(r"^(\d{4})-(\d{2}|\d{4})Q([1-4])$")


def parse_quarter(text: str) -> Period:
    """'2016-17Q3' or '2016-17 Q3' (the financial year April 2016 to March 2017, third
    quarter). A bare year ('2016Q3') is refused: it could mean 2015-16 or 2016-17."""
    cleaned = text.strip().upper().replace(" ", "").replace("/", "-")
    found = _QUARTER.match(cleaned)
    if found is None:
        bare = re.match(r"^(\d{4})Q([1-4])$", cleaned)
        if bare:
            year, n = int(bare.group(1)), bare.group(2)
            raise InvalidInputError(
                f"{text!r} does not say which financial year: write it in full, e.g. "
                f"{year}-{(year + 1) % 100:02d}Q{n} (April {year} to March {year + 1}) or "
                f"{year - 1}-{year % 100:02d}Q{n}"
            )
        raise InvalidInputError(
            f"{text!r} is not a quarter; expected e.g. 2016-17Q3 (financial year, quarter 1-4)"
        )
    start_year, second, n = int(found.group(1)), found.group(2), int(found.group(3))
    if int(second) % 100 != (start_year + 1) % 100:
        raise InvalidInputError(
            f"{text!r} is not a financial year and quarter: {start_year}-{second} does not run "
            f"April to March; expected e.g. {start_year}-{(start_year + 1) % 100:02d}Q{n}"
        )
    month_number = (3 + 3 * (n - 1)) % 12 + 1
    return quarter_containing(dt.date(start_year + (month_number < 4), month_number, 1))


def parse_fy(text: str) -> Period:
    """'2016-17' or '2016'."""
    try:
        return financial_year(int(text.strip()[:4]))
    except ValueError:
        raise InvalidInputError(
            f"{text!r} is not a financial year; expected e.g. 2016-17"
        ) from None


# The periods an escalation or a trend steps through, and how many make a year.
PER_YEAR = {"week": 52, "month": 12, "quarter": 4}
UNIT_NAMES = {
    "week": ("week", "weeks"),
    "month": ("month", "months"),
    "quarter": ("quarter", "quarters"),
}


def shift(period: Period, k: int) -> Period:
    """The period k steps later (negative: earlier) of the same granularity."""
    if period.granularity == "week":
        return week_ending(period.end + dt.timedelta(weeks=k))
    if period.granularity == "month":
        index = period.start.year * 12 + period.start.month - 1 + k
        return month(index // 12, index % 12 + 1)
    if period.granularity == "quarter":
        index = period.start.year * 12 + period.start.month - 1 + 3 * k
        return quarter_containing(dt.date(index // 12, index % 12 + 1, 1))
    if period.granularity == "fy":
        return financial_year(period.start.year + k)
    raise ValueError(period.granularity)


def periods_ending(period: Period, n: int) -> list[Period]:
    """The n periods ending with `period`, oldest first."""
    return [shift(period, -k) for k in range(n - 1, -1, -1)]


def count_label(n: int, granularity: str) -> str:
    """'1 week', '3 months'."""
    one, many = UNIT_NAMES[granularity]
    return f"{n} {one if n == 1 else many}"


def window_label(period: Period, n: int) -> str:
    """'the 4 weeks ending 4 January 2015', 'the 3 months to January 2026', 'Q3 2025/26'."""
    if n == 1:
        return period.label
    if period.granularity == "week":
        return f"the {n} weeks ending {period.end.day} {period.end:%B %Y}"
    first = shift(period, -(n - 1))
    return f"the {count_label(n, period.granularity)} {first.label} to {period.label}"


def parse_period(
    week_ending_text: str | None = None,
    month_text: str | None = None,
    quarter_text: str | None = None,
) -> Period:
    """Exactly one of a week ending (YYYY-MM-DD), a month (YYYY-MM) or a quarter (2025-26Q3)."""
    given = [t for t in (week_ending_text, month_text, quarter_text) if t]
    if len(given) != 1:
        raise InvalidInputError("give exactly one of --week-ending, --month or --quarter")
    if week_ending_text:
        return week_ending(parse_date(week_ending_text))
    if month_text:
        return parse_month(month_text)
    return parse_quarter(quarter_text or "")
