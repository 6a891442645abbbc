"""Every query and path parameter validated once, with a message that names the parameter and
says what was expected (BadParameter: 400), or that the warehouse does not hold it (404)."""

from __future__ import annotations

import datetime as dt
import math
import re

from fourhour.errors import InvalidInputError
from fourhour.periods import Period, month, parse_quarter, week_ending
from fourhour.web.data.periods import Held
from fourhour.web.errors import BadParameter, NotFound

CODE = re.compile(r"^[A-Za-z0-9]{2,12}$")
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
MONTH_PATTERN = r"^\d{4}-\d{2}$"
MAX_TEXT = 40  # no parameter needs more; longer values are refused before parsing
# The years a date, week, month or quarter may name: A&E returns began in 2010 and nothing is
# forecast beyond a few years; outside this range a period is refused (400), never computed.
FIRST_YEAR, LAST_YEAR = 2000, 2099
MAX_ID = 2**31 - 1  # escalation ids and the like: a positive 32-bit number


def _check_year(name: str, text: str, year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise BadParameter(
            name, f"{text!r} is outside the years {FIRST_YEAR}-{LAST_YEAR} this service covers"
        )


def _text(name: str, value: str) -> str:
    if len(value) > MAX_TEXT:
        raise BadParameter(name, f"too long ({len(value)} characters; at most {MAX_TEXT})")
    return value.strip()


def parse_day(name: str, value: str) -> dt.date:
    text = _text(name, value)
    if not re.match(DATE_PATTERN, text):
        raise BadParameter(name, f"{text!r} is not a date; expected YYYY-MM-DD, e.g. 2025-03-30")
    _check_year(name, text, int(text[:4]))
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise BadParameter(name, f"{text!r} is not a date in the calendar") from None


def parse_week(name: str, value: str) -> Period:
    day = parse_day(name, value)
    if day.weekday() != 6:
        sunday = day + dt.timedelta(days=6 - day.weekday())
        raise BadParameter(
            name,
            f"{day.isoformat()} is a {day:%A}; weeks end on a Sunday",
            hint=f"try {name}={sunday.isoformat()}",
        )
    return week_ending(day)


def parse_month_param(name: str, value: str) -> Period:
    text = _text(name, value)
    if not re.match(MONTH_PATTERN, text):
        raise BadParameter(name, f"{text!r} is not a month; expected YYYY-MM, e.g. 2025-03")
    year, number = int(text[:4]), int(text[5:])
    if not 1 <= number <= 12:
        raise BadParameter(name, f"{text!r} is not a month in the calendar")
    _check_year(name, text, year)
    return month(year, number)


def choose_period(
    held: Held, week: str | None, month_text: str | None, *, weekly_only: bool = False
) -> Period:
    """The period asked for (week= or month=), else the latest held; 404 if not held."""
    if week and month_text:
        raise BadParameter("week", "give week or month, not both")
    if month_text and weekly_only:
        raise BadParameter("month", "this view is weekly; give week=YYYY-MM-DD")
    if week:
        period = parse_week("week", week)
        if not held.holds(period):
            raise NotFound(
                f"the warehouse holds no weekly returns for the {period.label}",
                hint=_weeks_hint(held),
            )
        return period
    if month_text:
        period = parse_month_param("month", month_text)
        if not held.holds(period):
            raise NotFound(
                f"the warehouse holds no returns for {period.label}",
                hint=_months_hint(held),
            )
        return period
    latest = held.latest_week if weekly_only else held.latest
    if latest is None:
        raise NotFound(
            "the warehouse holds no " + ("weekly " if weekly_only else "") + "returns yet",
            hint="ingest some files: fourhour ingest FILE...",
        )
    return latest


def _weeks_hint(held: Held) -> str:
    if not held.weeks:
        return "no weekly returns are held"
    return f"weeks held end from {held.weeks[0]} to {held.weeks[-1]}"


def _months_hint(held: Held) -> str:
    if not held.months:
        return "no monthly returns are held"
    return f"months held run from {held.months[0]:%Y-%m} to {held.months[-1]:%Y-%m}"


def parse_int(name: str, value: str | int | None, low: int, high: int, default: int) -> int:
    if value is None or value == "":
        return default
    text = _text(name, str(value))
    if not re.match(r"^[+-]?\d+$", text):
        raise BadParameter(name, f"{text!r} is not a whole number")
    number = int(text)
    if not low <= number <= high:
        raise BadParameter(name, f"{number} is out of range; expected {low} to {high}")
    return number


def parse_float(
    name: str, value: str | float | None, low: float, high: float, default: float
) -> float:
    if value is None or value == "":
        return default
    text = _text(name, str(value))
    try:
        number = float(text)
    except ValueError:
        raise BadParameter(name, f"{text!r} is not a number") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise BadParameter(name, f"{text} is out of range; expected {low:g} to {high:g}")
    return number


def parse_choice(name: str, value: str | None, choices: tuple[str, ...], default: str) -> str:
    if value is None or value == "":
        return default
    text = _text(name, value)
    if text not in choices:
        raise BadParameter(name, f"{text!r} is not one of {', '.join(choices)}")
    return text


def parse_quarter_param(name: str, value: str) -> Period:
    text = _text(name, value).upper().replace(" ", "")
    found = re.match(r"^(\d{4})-(\d{2})Q[1-4]$", text)
    if not found or int(found.group(2)) != (int(found.group(1)) + 1) % 100:
        raise BadParameter(
            name,
            f"{text!r} is not a quarter; expected a financial year and quarter, e.g. 2024-25Q4",
        )
    _check_year(name, text, int(found.group(1)))
    try:
        return parse_quarter(text)
    except InvalidInputError as exc:  # pragma: no cover - the pattern admits only valid quarters
        raise BadParameter(name, exc.message) from None


def parse_id(name: str, value: str | int) -> int:
    text = _text(name, str(value))
    if not re.match(r"^\d{1,10}$", text) or not 1 <= int(text) <= MAX_ID:
        raise BadParameter(name, f"{text!r} is not an id; expected a positive whole number")
    return int(text)
