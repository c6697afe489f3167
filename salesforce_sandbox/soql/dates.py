"""Date literals (``TODAY``, ``LAST_N_DAYS:30``, ...) as half-open UTC ranges.

Salesforce resolves them in the querying user's locale and time zone; the sandbox org's demo user lives in
UTC with the en_US locale, so weeks start on Sunday, and the fiscal year is the calendar year (the org
default), which makes every ``*_FISCAL_*`` literal equal to its calendar twin.
Docs: developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_dateformats.htm
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .nodes import DateLiteral

UTC = dt.UTC


def _start_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=UTC)


def _add_months(day: dt.date, months: int) -> dt.date:
    """First of the month `months` after the month of `day` (callers only ever pass firsts)."""
    index = day.year * 12 + (day.month - 1) + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _week_start(day: dt.date) -> dt.date:
    # en_US: the week starts on Sunday; date.weekday() is 0 for Monday, 6 for Sunday.
    return day - dt.timedelta(days=(day.weekday() + 1) % 7)


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _days(today: dt.date, first: int, count: int) -> tuple[dt.date, dt.date]:
    start = today + dt.timedelta(days=first)
    return start, start + dt.timedelta(days=count)


def _weeks(today: dt.date, first: int, count: int) -> tuple[dt.date, dt.date]:
    start = _week_start(today) + dt.timedelta(weeks=first)
    return start, start + dt.timedelta(weeks=count)


def _months(today: dt.date, first: int, count: int) -> tuple[dt.date, dt.date]:
    start = _add_months(_month_start(today), first)
    return start, _add_months(start, count)


def _quarters(today: dt.date, first: int, count: int) -> tuple[dt.date, dt.date]:
    start = _add_months(_quarter_start(today), 3 * first)
    return start, _add_months(start, 3 * count)


def _years(today: dt.date, first: int, count: int) -> tuple[dt.date, dt.date]:
    start = dt.date(today.year + first, 1, 1)
    return start, dt.date(start.year + count, 1, 1)


# name -> (unit function, first unit relative to the current one, number of units)
_FIXED = {
    "YESTERDAY": (_days, -1, 1),
    "TODAY": (_days, 0, 1),
    "TOMORROW": (_days, 1, 1),
    "LAST_WEEK": (_weeks, -1, 1),
    "THIS_WEEK": (_weeks, 0, 1),
    "NEXT_WEEK": (_weeks, 1, 1),
    "LAST_MONTH": (_months, -1, 1),
    "THIS_MONTH": (_months, 0, 1),
    "NEXT_MONTH": (_months, 1, 1),
    # "LAST_90_DAYS ... includes today" (91 days); NEXT_90_DAYS starts tomorrow.
    "LAST_90_DAYS": (_days, -90, 91),
    "NEXT_90_DAYS": (_days, 1, 90),
    "LAST_QUARTER": (_quarters, -1, 1),
    "THIS_QUARTER": (_quarters, 0, 1),
    "NEXT_QUARTER": (_quarters, 1, 1),
    "LAST_YEAR": (_years, -1, 1),
    "THIS_YEAR": (_years, 0, 1),
    "NEXT_YEAR": (_years, 1, 1),
    "LAST_FISCAL_QUARTER": (_quarters, -1, 1),
    "THIS_FISCAL_QUARTER": (_quarters, 0, 1),
    "NEXT_FISCAL_QUARTER": (_quarters, 1, 1),
    "LAST_FISCAL_YEAR": (_years, -1, 1),
    "THIS_FISCAL_YEAR": (_years, 0, 1),
    "NEXT_FISCAL_YEAR": (_years, 1, 1),
}


def _last_n_days(today, n):
    # "starts with the current day and continues for the past n days; includes today".
    return _days(today, -n, n + 1)


# name -> function(today, n) -> (start date, end date exclusive)
_WITH_N = {
    "LAST_N_DAYS": _last_n_days,
    "NEXT_N_DAYS": lambda today, n: _days(today, 1, n),
    "N_DAYS_AGO": lambda today, n: _days(today, -n, 1),
    "LAST_N_WEEKS": lambda today, n: _weeks(today, -n, n),
    "NEXT_N_WEEKS": lambda today, n: _weeks(today, 1, n),
    "N_WEEKS_AGO": lambda today, n: _weeks(today, -n, 1),
    "LAST_N_MONTHS": lambda today, n: _months(today, -n, n),
    "NEXT_N_MONTHS": lambda today, n: _months(today, 1, n),
    "N_MONTHS_AGO": lambda today, n: _months(today, -n, 1),
    "LAST_N_QUARTERS": lambda today, n: _quarters(today, -n, n),
    "NEXT_N_QUARTERS": lambda today, n: _quarters(today, 1, n),
    "N_QUARTERS_AGO": lambda today, n: _quarters(today, -n, 1),
    "LAST_N_YEARS": lambda today, n: _years(today, -n, n),
    "NEXT_N_YEARS": lambda today, n: _years(today, 1, n),
    "N_YEARS_AGO": lambda today, n: _years(today, -n, 1),
    "LAST_N_FISCAL_QUARTERS": lambda today, n: _quarters(today, -n, n),
    "NEXT_N_FISCAL_QUARTERS": lambda today, n: _quarters(today, 1, n),
    "N_FISCAL_QUARTERS_AGO": lambda today, n: _quarters(today, -n, 1),
    "LAST_N_FISCAL_YEARS": lambda today, n: _years(today, -n, n),
    "NEXT_N_FISCAL_YEARS": lambda today, n: _years(today, 1, n),
    "N_FISCAL_YEARS_AGO": lambda today, n: _years(today, -n, 1),
}

FIXED_NAMES = frozenset(_FIXED)
N_NAMES = frozenset(_WITH_N)
_FAR_PAST = dt.datetime.min.replace(tzinfo=UTC)
_FAR_FUTURE = dt.datetime.max.replace(tzinfo=UTC)


def utc(value: dt.datetime) -> dt.datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already, as everything in the org is."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def date_literal_range(literal: DateLiteral, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    return _range(literal, utc(now).date())


@functools.lru_cache(maxsize=512)  # matches() asks once per record: the answer only changes at midnight
def _range(literal: DateLiteral, today: dt.date) -> tuple[dt.datetime, dt.datetime]:
    try:
        if literal.n is None:
            unit, first, count = _FIXED[literal.name]
            start, end = unit(today, first, count)
        else:
            start, end = _WITH_N[literal.name](today, literal.n)
    except (OverflowError, ValueError):
        # LAST_N_YEARS:100000 reaches past year 1: the range runs to the end of time on that side.
        # Only n moves the far end, so the near end is the one n=1 gives.
        start, end = _WITH_N[literal.name](today, 1)
        if literal.name.startswith("NEXT_"):
            return _start_of_day(start), _FAR_FUTURE
        if literal.name.startswith("LAST_"):
            return _FAR_PAST, _start_of_day(end)
        return _FAR_PAST, _FAR_PAST
    return _start_of_day(start), _start_of_day(end)
