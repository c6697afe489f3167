"""SOQL text -> Query: every construct, operator and literal format the sandbox org accepts."""

import datetime as dt
from decimal import Decimal

import pytest

from salesforce_sandbox.soql import (
    And,
    Comparison,
    CountAll,
    DateLiteral,
    FieldRef,
    Not,
    Or,
    OrderItem,
    SObjectRef,
    SoqlError,
    parse,
)

UTC = dt.UTC


PREFIX = "SELECT Id FROM Contact WHERE "


def where(condition: str):
    return parse(PREFIX + condition).where


def value(literal: str):
    return where(f"F = {literal}").value


def test_select_list_with_relationship_paths_keeps_case_and_positions():
    query = parse("SELECT Id, name, Account.Name, Account.Owner.Email FROM Contact")
    assert query.select == [
        FieldRef(("Id",)),
        FieldRef(("name",)),
        FieldRef(("Account", "Name")),
        FieldRef(("Account", "Owner", "Email")),
    ]
    assert [(f.line, f.column) for f in query.select] == [(1, 8), (1, 12), (1, 18), (1, 32)]
    assert query.sobject == SObjectRef("Contact")
    assert (query.sobject.line, query.sobject.column) == (1, 57)
    assert query.where is None and query.order_by == [] and query.limit is None and query.offset is None
    assert query.text == "SELECT Id, name, Account.Name, Account.Owner.Email FROM Contact"


def test_count_and_keywords_are_case_insensitive():
    query = parse("select COUNT() from contact where name != NULL order by NAME desc limit 5 offset 10")
    assert query.select == [CountAll()]
    assert query.is_count
    assert query.sobject.name == "contact"
    assert query.where == Comparison(FieldRef(("name",)), "!=", None)
    assert query.order_by == [OrderItem(FieldRef(("NAME",)), descending=True, nulls_last=True)]
    assert (query.limit, query.offset) == (5, 10)


def test_whitespace_and_newlines_anywhere():
    query = parse("SELECT\n  Id,\n  Name\nFROM\tContact\r\nWHERE Name = 'x'")
    assert query.select[1] == FieldRef(("Name",))
    assert (query.select[1].line, query.select[1].column) == (3, 3)
    assert (query.where.field.line, query.where.field.column) == (5, 7)


@pytest.mark.parametrize(
    ("written", "op"),
    [("=", "="), ("!=", "!="), ("<>", "!="), ("<", "<"), ("<=", "<="), (">", ">"), (">=", ">="),
     ("LIKE", "LIKE"), ("like", "LIKE")],
)  # fmt: skip
def test_scalar_operators(written, op):
    assert where(f"Name {written} 'a'") == Comparison(FieldRef(("Name",)), op, "a")


@pytest.mark.parametrize(
    ("written", "op"),
    [("IN", "IN"), ("in", "IN"), ("NOT IN", "NOT IN"), ("not  in", "NOT IN"), ("INCLUDES", "INCLUDES"),
     ("excludes", "EXCLUDES")],
)  # fmt: skip
def test_list_operators(written, op):
    assert where(f"Tags__c {written} ('a;b', 'c')") == Comparison(FieldRef(("Tags__c",)), op, ["a;b", "c"])


def test_in_list_of_mixed_literals():
    assert where("X IN (1, -2.5, null, true, 2024-01-31, 'z')").value == [
        1, Decimal("-2.5"), None, True, dt.date(2024, 1, 31), "z",
    ]  # fmt: skip


def test_and_or_not_precedence_and_parentheses():
    a = Comparison(FieldRef(("A",)), "=", 1)
    b = Comparison(FieldRef(("B",)), "=", 2)
    c = Comparison(FieldRef(("C",)), "=", 3)
    assert where("A = 1 AND B = 2 AND C = 3") == And([a, b, c])
    assert where("A = 1 OR B = 2 OR C = 3") == Or([a, b, c])
    assert where("(A = 1 OR B = 2) AND C = 3") == And([Or([a, b]), c])
    assert where("A = 1 OR (B = 2 AND C = 3)") == Or([a, And([b, c])])
    assert where("NOT A = 1 AND B = 2") == And([Not(a), b])  # NOT binds tighter than AND
    assert where("NOT (A = 1 OR B = 2)") == Not(Or([a, b]))
    assert where("((A = 1))") == a


def test_mixing_and_with_or_needs_parentheses_like_salesforce():
    with pytest.raises(SoqlError) as error:
        parse("SELECT Id FROM Contact WHERE A = 1 AND B = 2 OR C = 3")
    assert error.value.error_code == "MALFORMED_QUERY"
    assert error.value.message == (
        "\nSELECT Id FROM Contact WHERE A = 1 AND B = 2 OR C = 3\n"
        "                                             ^\n"
        "ERROR at Row:1:Column:46\n"
        "unexpected token: 'OR'"
    )
    with pytest.raises(SoqlError, match="unexpected token: 'AND'"):
        parse("SELECT Id FROM Contact WHERE A = 1 OR B = 2 AND C = 3")


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        ("NULL", None), ("null", None), ("TRUE", True), ("false", False),
        ("42", 42), ("-7", -7), ("+3", 3), ("0", 0), ("3.25", Decimal("3.25")), ("-0.5", Decimal("-0.5")),
        (".5", Decimal("0.5")), ("12345678901234567890", Decimal("12345678901234567890")),
        ("2024-02-29", dt.date(2024, 2, 29)),
    ],
)  # fmt: skip
def test_scalar_literals(literal, expected):
    parsed = value(literal)
    assert parsed == expected
    assert type(parsed) is type(expected)


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        # Singer tap-salesforce: config start_date verbatim, then 6-digit microseconds + Z.
        ("2021-01-01T00:00:00Z", dt.datetime(2021, 1, 1, tzinfo=UTC)),
        ("2021-01-16T00:00:00.000000Z", dt.datetime(2021, 1, 16, tzinfo=UTC)),
        ("2021-01-16T12:34:56.123456Z", dt.datetime(2021, 1, 16, 12, 34, 56, 123456, tzinfo=UTC)),
        # Airbyte: isoformat(timespec="milliseconds") with +00:00.
        ("2021-01-31T00:00:00.000+00:00", dt.datetime(2021, 1, 31, tzinfo=UTC)),
        ("1999-01-01T23:01:01+01:00", dt.datetime(1999, 1, 1, 22, 1, 1, tzinfo=UTC)),
        ("1999-01-01T23:01:01-08:00", dt.datetime(1999, 1, 2, 7, 1, 1, tzinfo=UTC)),
        ("1999-01-01T23:01:01-0800", dt.datetime(1999, 1, 2, 7, 1, 1, tzinfo=UTC)),
        ("2024-01-31T17:05:00.1Z", dt.datetime(2024, 1, 31, 17, 5, 0, 100000, tzinfo=UTC)),
        ("2024-01-31T17:05:00.123456789Z", dt.datetime(2024, 1, 31, 17, 5, 0, 123456, tzinfo=UTC)),
        ("2024-01-31t17:05:00z", dt.datetime(2024, 1, 31, 17, 5, tzinfo=UTC)),
    ],
)
def test_datetime_literals_are_aware_utc(literal, expected):
    parsed = value(literal)
    assert parsed == expected
    assert parsed.tzinfo == UTC


def test_exact_where_clauses_of_the_clients():
    tap = parse(
        "SELECT Id,Name,SystemModstamp FROM Contact WHERE SystemModstamp >= 2021-01-01T00:00:00Z "
        "ORDER BY SystemModstamp ASC"
    )
    assert tap.where == Comparison(FieldRef(("SystemModstamp",)), ">=", dt.datetime(2021, 1, 1, tzinfo=UTC))
    assert tap.order_by == [OrderItem(FieldRef(("SystemModstamp",)), descending=False, nulls_last=False)]

    window = parse(
        "SELECT Id FROM Contact WHERE SystemModstamp >= 2021-01-01T00:00:00.000000Z "
        "AND SystemModstamp < 2021-01-16T00:00:00.000000Z"
    )
    assert window.where == And([
        Comparison(FieldRef(("SystemModstamp",)), ">=", dt.datetime(2021, 1, 1, tzinfo=UTC)),
        Comparison(FieldRef(("SystemModstamp",)), "<", dt.datetime(2021, 1, 16, tzinfo=UTC)),
    ])  # fmt: skip

    airbyte = parse(
        "SELECT Id,Email FROM Contact WHERE SystemModstamp >= 2021-01-01T00:00:00.000+00:00 "
        "AND SystemModstamp < 2021-01-31T00:00:00.000+00:00"
    )
    assert airbyte.where == And([
        Comparison(FieldRef(("SystemModstamp",)), ">=", dt.datetime(2021, 1, 1, tzinfo=UTC)),
        Comparison(FieldRef(("SystemModstamp",)), "<", dt.datetime(2021, 1, 31, tzinfo=UTC)),
    ])  # fmt: skip
    full_refresh = parse("SELECT Id,Email FROM Contact ORDER BY Id ASC")
    assert full_refresh.order_by == [OrderItem(FieldRef(("Id",)))]

    # simple-salesforce callers and our own integration.
    mine = parse(
        "SELECT Id, Email FROM Contact WHERE SystemModstamp > 2024-05-01T10:00:00.000Z "
        "OR (SystemModstamp = 2024-05-01T10:00:00.000Z AND Id > '003000000000001AAA') "
        "ORDER BY SystemModstamp, Id LIMIT 2000"
    )
    assert isinstance(mine.where, Or) and mine.limit == 2000 and len(mine.order_by) == 2


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        ("'plain'", "plain"), ("''", ""), (r"'Bob\'s BBQ'", "Bob's BBQ"), (r"'say \"hi\"'", 'say "hi"'),
        (r"'back\\slash'", "back\\slash"), (r"'a\nb\Nc'", "a\nb\nc"), (r"'\r\R\t\T\b\B\f\F'", "\r\r\t\t\b\b\f\f"),
        (r"'caf\u00e9'", "café"), (r"'\uD83D\uDE00'", "\U0001f600"), ("'multi\nline'", "multi\nline"),
        ("'ünïcödé ✓'", "ünïcödé ✓"), ("'(not) a paren'", "(not) a paren"),
    ],
)  # fmt: skip
def test_string_escapes(literal, expected):
    assert value(literal) == expected


def test_like_keeps_its_own_escapes_for_the_matcher():
    assert where(r"Name LIKE 'Ter\%%'").value == "Ter\\%%"
    assert where(r"Name LIKE 'a\_b\\c'").value == "a\\_b\\\\c"


@pytest.mark.parametrize(
    ("literal", "name", "n"),
    [
        ("TODAY", "TODAY", None), ("yesterday", "YESTERDAY", None), ("Tomorrow", "TOMORROW", None),
        ("LAST_WEEK", "LAST_WEEK", None), ("THIS_QUARTER", "THIS_QUARTER", None), ("NEXT_YEAR", "NEXT_YEAR", None),
        ("LAST_90_DAYS", "LAST_90_DAYS", None), ("LAST_N_DAYS:30", "LAST_N_DAYS", 30),
        ("next_n_days:7", "NEXT_N_DAYS", 7), ("N_DAYS_AGO:2", "N_DAYS_AGO", 2),
        ("LAST_N_WEEKS:3", "LAST_N_WEEKS", 3), ("NEXT_N_MONTHS:12", "NEXT_N_MONTHS", 12),
        ("THIS_FISCAL_YEAR", "THIS_FISCAL_YEAR", None),
    ],
)  # fmt: skip
def test_date_literals(literal, name, n):
    assert value(literal) == DateLiteral(name, n)


def test_order_by_defaults_and_explicit_nulls():
    query = parse(
        "SELECT Id FROM Contact ORDER BY LastName, FirstName DESC, Email ASC NULLS LAST, "
        "Phone DESC NULLS FIRST, Account.Name NULLS first"
    )
    assert query.order_by == [
        OrderItem(FieldRef(("LastName",)), descending=False, nulls_last=False),
        OrderItem(FieldRef(("FirstName",)), descending=True, nulls_last=True),
        OrderItem(FieldRef(("Email",)), descending=False, nulls_last=True),
        OrderItem(FieldRef(("Phone",)), descending=True, nulls_last=False),
        OrderItem(FieldRef(("Account", "Name")), descending=False, nulls_last=False),
    ]


def test_limit_and_offset_alone():
    assert parse("SELECT Id FROM Lead LIMIT 0").limit == 0
    assert parse("SELECT Id FROM Lead OFFSET 2000").offset == 2000


def test_field_names_that_start_like_keywords():
    query = parse(
        "SELECT Notes__c, Selected__c, Order__c, Limit__c FROM Account WHERE Notes__c = 'x' AND Or__c = 1"
    )
    assert [f.path[0] for f in query.select] == ["Notes__c", "Selected__c", "Order__c", "Limit__c"]
    assert conjunct_names(query.where) == ["Notes__c", "Or__c"]


def conjunct_names(expr):
    return [item.field.path[0] for item in expr.items]


def test_comparison_remembers_where_its_value_starts():
    comparison = where("Name = 'x'")
    assert (comparison.line, comparison.column) == (1, 37)


def test_referenced_fields_in_text_order():
    query = parse(
        "SELECT Id, Account.Name FROM Contact WHERE (Email = null OR NOT Phone LIKE '1%') AND Id > '003' "
        "ORDER BY LastName, Id"
    )
    assert [field.name for field in query.referenced_fields()] == [
        "Id", "Account.Name", "Email", "Phone", "Id", "LastName", "Id",
    ]  # fmt: skip
    assert parse("SELECT COUNT() FROM Contact").referenced_fields() == []
