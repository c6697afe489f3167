"""Date literals resolve to half-open UTC ranges (demo user: UTC, en_US weeks from Sunday, calendar fiscal year)."""

import datetime as dt

import pytest

from salesforce_sandbox.soql import DateLiteral, parse

UTC = dt.UTC
# A Wednesday; its week (en_US) runs Sunday 2024-05-12 .. Saturday 2024-05-18.
NOW = dt.datetime(2024, 5, 15, 13, 45, 7, tzinfo=UTC)


def day(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("literal", "start", "end"),
    [
        ("YESTERDAY", "2024-05-14", "2024-05-15"),
        ("TODAY", "2024-05-15", "2024-05-16"),
        ("TOMORROW", "2024-05-16", "2024-05-17"),
        ("LAST_WEEK", "2024-05-05", "2024-05-12"),
        ("THIS_WEEK", "2024-05-12", "2024-05-19"),
        ("NEXT_WEEK", "2024-05-19", "2024-05-26"),
        ("LAST_MONTH", "2024-04-01", "2024-05-01"),
        ("THIS_MONTH", "2024-05-01", "2024-06-01"),
        ("NEXT_MONTH", "2024-06-01", "2024-07-01"),
        ("LAST_90_DAYS", "2024-02-15", "2024-05-16"),  # includes today: 91 days
        ("NEXT_90_DAYS", "2024-05-16", "2024-08-14"),
        ("LAST_N_DAYS:7", "2024-05-08", "2024-05-16"),
        ("LAST_N_DAYS:1", "2024-05-14", "2024-05-16"),  # "LAST_N_DAYS:1 includes yesterday and today"
        ("NEXT_N_DAYS:7", "2024-05-16", "2024-05-23"),
        ("N_DAYS_AGO:3", "2024-05-12", "2024-05-13"),
        ("LAST_N_WEEKS:2", "2024-04-28", "2024-05-12"),
        ("NEXT_N_WEEKS:2", "2024-05-19", "2024-06-02"),
        ("N_WEEKS_AGO:1", "2024-05-05", "2024-05-12"),
        ("THIS_QUARTER", "2024-04-01", "2024-07-01"),
        ("LAST_QUARTER", "2024-01-01", "2024-04-01"),
        ("NEXT_QUARTER", "2024-07-01", "2024-10-01"),
        ("THIS_YEAR", "2024-01-01", "2025-01-01"),
        ("LAST_YEAR", "2023-01-01", "2024-01-01"),
        ("NEXT_YEAR", "2025-01-01", "2026-01-01"),
        ("LAST_N_MONTHS:3", "2024-02-01", "2024-05-01"),
        ("NEXT_N_MONTHS:2", "2024-06-01", "2024-08-01"),
        ("N_MONTHS_AGO:13", "2023-04-01", "2023-05-01"),
        ("LAST_N_QUARTERS:2", "2023-10-01", "2024-04-01"),
        ("NEXT_N_YEARS:2", "2025-01-01", "2027-01-01"),
        ("THIS_FISCAL_QUARTER", "2024-04-01", "2024-07-01"),
        ("LAST_FISCAL_YEAR", "2023-01-01", "2024-01-01"),
    ],
)
def test_each_literal_range(literal, start, end):
    parsed = parse(" ".join(["SELECT Id FROM Opportunity WHERE CloseDate =", literal])).where.value
    assert isinstance(parsed, DateLiteral)
    assert parsed.range(NOW) == (day(start), day(end))


@pytest.mark.parametrize(
    ("now", "literal", "start", "end"),
    [
        # Year and month boundaries.
        ("2024-01-03T00:00:00", "LAST_MONTH", "2023-12-01", "2024-01-01"),
        ("2024-01-03T00:00:00", "LAST_QUARTER", "2023-10-01", "2024-01-01"),
        ("2024-01-03T00:00:00", "LAST_WEEK", "2023-12-24", "2023-12-31"),
        ("2024-11-20T23:59:59", "NEXT_QUARTER", "2025-01-01", "2025-04-01"),
        ("2024-12-31T12:00:00", "NEXT_MONTH", "2025-01-01", "2025-02-01"),
        ("2024-03-01T00:00:00", "YESTERDAY", "2024-02-29", "2024-03-01"),
        # A Sunday starts its own week; a Saturday ends it.
        ("2024-05-12T00:00:00", "THIS_WEEK", "2024-05-12", "2024-05-19"),
        ("2024-05-18T23:59:59", "THIS_WEEK", "2024-05-12", "2024-05-19"),
    ],
)
def test_boundaries(now, literal, start, end):
    literal = parse(" ".join(["SELECT Id FROM Task WHERE ActivityDate =", literal])).where.value
    assert literal.range(dt.datetime.fromisoformat(now).replace(tzinfo=UTC)) == (day(start), day(end))


def test_now_in_another_zone_and_naive_now_are_read_as_utc():
    evening_in_chicago = dt.datetime(2024, 5, 15, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert DateLiteral("TODAY").range(evening_in_chicago) == (day("2024-05-16"), day("2024-05-17"))
    assert DateLiteral("TODAY").range(dt.datetime(2024, 5, 15, 23, 30)) == (
        day("2024-05-15"),
        day("2024-05-16"),
    )


def test_huge_n_runs_to_the_end_of_time_instead_of_overflowing():
    start, end = DateLiteral("LAST_N_YEARS", 100_000).range(NOW)
    assert start == dt.datetime.min.replace(tzinfo=UTC) and end == day("2024-01-01")
    start, end = DateLiteral("NEXT_N_DAYS", 999_999_999).range(NOW)
    assert start == day("2024-05-16") and end == dt.datetime.max.replace(tzinfo=UTC)
    assert DateLiteral("N_YEARS_AGO", 5000).range(NOW) == (
        dt.datetime.min.replace(tzinfo=UTC),
        dt.datetime.min.replace(tzinfo=UTC),
    )


def test_str_is_the_soql_spelling():
    assert str(DateLiteral("LAST_N_DAYS", 30)) == "LAST_N_DAYS:30"
    assert str(DateLiteral("TODAY")) == "TODAY"
