"""Which weeks and months the warehouse holds, and the period a page looks at."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from fourhour.periods import Period, month, week_ending
from fourhour.report.bulletin import is_synthetic
from fourhour.warehouse import Warehouse

BASIS_LABELS = {"all_types": "all types", "type1": "type 1 (major A&E)"}


@dataclass(frozen=True)
class Held:
    weeks: tuple[dt.date, ...]  # weeks ending, oldest first (provider returns)
    months: tuple[dt.date, ...]  # first days of months (provider returns or national totals)
    synthetic: bool

    @property
    def latest_week(self) -> Period | None:
        return week_ending(self.weeks[-1]) if self.weeks else None

    @property
    def latest_month(self) -> Period | None:
        return month(self.months[-1].year, self.months[-1].month) if self.months else None

    @property
    def latest(self) -> Period | None:
        """The period pages show by default: the one that ends last, of any granularity (a
        warehouse whose weeks stop in 2015 and months run to 2026 opens on the latest month);
        on a tie, the week (the finer view)."""
        week, month_ = self.latest_week, self.latest_month
        if week is None or month_ is None:
            return week or month_
        return week if week.end >= month_.end else month_

    def nearest(self, period: Period, among: tuple[dt.date, ...] | None = None) -> list[Period]:
        """Up to two periods of `period`'s granularity that the warehouse holds (or of those
        `among`, e.g. an organisation's own): the nearest before and the nearest after."""
        make: Callable[[dt.date], Period]
        if period.granularity == "week":
            days, make, key = self.weeks, week_ending, period.end
        else:
            days, make, key = self.months, (lambda d: month(d.year, d.month)), period.start
        if among is not None:
            days = tuple(sorted(among))
        before = [d for d in days if d < key]
        after = [d for d in days if d > key]
        return [make(d) for d in (before[-1:] + after[:1])]

    def holds(self, period: Period) -> bool:
        if period.granularity == "week":
            return period.end in set(self.weeks)
        if period.granularity == "month":
            return period.start in set(self.months)
        return False

    def as_dict(self) -> dict:
        return {
            "weeks": {
                "count": len(self.weeks),
                "first": self.weeks[0].isoformat() if self.weeks else None,
                "latest": self.weeks[-1].isoformat() if self.weeks else None,
            },
            "months": {
                "count": len(self.months),
                "first": self.months[0].strftime("%Y-%m") if self.months else None,
                "latest": self.months[-1].strftime("%Y-%m") if self.months else None,
            },
            "synthetic": self.synthetic,
        }


def held(wh: Warehouse) -> Held:
    weeks = [
        r[0]
        for r in wh.con.execute(
            "SELECT DISTINCT period_end FROM provider_returns WHERE granularity = 'week' ORDER BY 1"
        ).fetchall()
    ]
    months = [
        r[0]
        for r in wh.con.execute(
            "SELECT DISTINCT period_start FROM provider_returns WHERE granularity = 'month' "
            "UNION SELECT DISTINCT period_start FROM published_totals "
            "WHERE granularity = 'month' AND area = 'ENGLAND' ORDER BY 1"
        ).fetchall()
    ]
    return Held(tuple(weeks), tuple(months), is_synthetic(wh))


def period_key(period: Period) -> str:
    """The period as a query parameter value: week=2025-03-30 or month=2025-03."""
    if period.granularity == "week":
        return f"week={period.end.isoformat()}"
    return f"month={period.start:%Y-%m}"
