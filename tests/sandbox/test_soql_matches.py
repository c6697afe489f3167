"""WHERE semantics (`matches`), top-level AND items (`conjuncts`) and ORDER BY keys (`sort_key`)."""

import datetime as dt
from decimal import Decimal

import pytest

from salesforce_sandbox.soql import (
    And,
    Comparison,
    FieldRef,
    Or,
    conjuncts,
    field_value,
    matches,
    parse,
    sort_key,
)

UTC = dt.UTC
NOW = dt.datetime(2024, 5, 15, 13, 45, tzinfo=UTC)
PREFIX = "SELECT Id FROM Contact WHERE "

RECORD = {
    "Id": "003000000000001AAA",
    "FirstName": "Zoë",
    "LastName": "O'Brien",
    "Email": None,
    "Phone": "",
    "Title": "VP, Sales 100%",
    "DoNotCall": False,
    "HasOptedOutOfEmail": True,
    "NumberOfEmployees": 120,
    "Lifetime_Value__c": Decimal("1999.50"),
    "Score__c": 7.25,
    "Interests__c": "Hiking;Cooking;Travel",
    "Birthdate": dt.date(1990, 2, 28),
    "CreatedDate": dt.datetime(2024, 5, 14, 23, 59, 59, tzinfo=UTC),
    "SystemModstamp": "2024-05-15T10:00:00.000+0000",  # the REST JSON form is read too
    "LastModifiedDate": dt.datetime(2024, 5, 15, 10, 0),  # naive means UTC
    "Description": "line one\nline two",
    "Account": {"Name": "Acme Corp (West)", "Owner": {"Email": "boss@acme.test"}},
    "ReportsTo": None,
    "Loan__r.Amount__c": 5000,
}


def check(condition: str, record=RECORD) -> bool:
    return matches(parse(PREFIX + condition).where, record, now=NOW)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        # Strings compare case-insensitively.
        ("FirstName = 'ZOË'", True), ("FirstName = 'zoe'", False), ("LastName = 'o\\'brien'", True),
        ("FirstName != 'zoë'", False), ("FirstName != 'Anna'", True),
        ("LastName > 'n'", True), ("LastName < 'N'", False), ("LastName >= 'O\\'BRIEN'", True),
        ("LastName <= 'o\\'brien'", True),
        # Null: = null, != null, and a null field is "not equal" to any value (unlike SQL).
        ("Email = null", True), ("Email != null", False), ("Email != 'x@y.z'", True), ("Email = 'x@y.z'", False),
        ("Email < 'z'", False), ("Email > 'a'", False), ("Phone = null", True), ("FirstName = null", False),
        ("FirstName != null", True), ("Missing__c = null", True),
        # Salesforce keeps no empty strings, so '' is null.
        ("Phone = ''", True), ("Email = ''", True), ("FirstName = ''", False), ("FirstName != ''", True),
        ("Email IN ('')", True),
        # Booleans.
        ("DoNotCall = false", True), ("DoNotCall = true", False), ("HasOptedOutOfEmail = TRUE", True),
        ("HasOptedOutOfEmail != true", False),
        # "WHERE Test__c = null is equivalent to WHERE Test__c = false" (a boolean is never null).
        ("DoNotCall = null", True), ("DoNotCall != null", False), ("HasOptedOutOfEmail = null", False),
        ("HasOptedOutOfEmail != null", True), ("Missing_Flag__c = false", True), ("Missing_Flag__c = true", False),
        # Numbers across int, Decimal and float.
        ("NumberOfEmployees = 120", True), ("NumberOfEmployees = 120.0", True), ("NumberOfEmployees > 119.99", True),
        ("NumberOfEmployees < 120", False), ("NumberOfEmployees <= 120", True), ("NumberOfEmployees >= -5", True),
        ("Lifetime_Value__c = 1999.5", True), ("Lifetime_Value__c > 2000", False), ("Score__c < 7.3", True),
        ("Score__c = 7.25", True),
        # Values of the wrong kind never match (validate refuses them before this).
        ("NumberOfEmployees = '120'", False), ("DoNotCall = 0", False), ("FirstName = 5", False),
    ],
)  # fmt: skip
def test_scalar_comparisons(condition, expected):
    assert check(condition) is expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("FirstName LIKE 'z%'", True), ("FirstName LIKE 'Z_Ë'", True), ("FirstName LIKE 'Z_'", False),
        ("FirstName LIKE '%oë'", True), ("FirstName LIKE '%'", True), ("Email LIKE '%'", False),
        ("Title LIKE '%100\\%'", True), ("Title LIKE '%10\\%'", False), ("Title LIKE 'vp, sales%'", True),
        ("Title LIKE 'VP. Sales%'", False),  # "." is not a wildcard
        ("Title LIKE 'VP,_Sales%'", True), ("Description LIKE 'line one%two'", True),
        ("Account.Name LIKE '%(west)'", True), ("Account.Name LIKE 'Acme Corp [(]West)'", False),
    ],
)  # fmt: skip
def test_like(condition, expected):
    assert check(condition) is expected


def test_like_escaped_underscore_and_backslash():
    assert check(r"Code__c LIKE 'a\_b'", {"Code__c": "a_b"}) is True
    assert check(r"Code__c LIKE 'a\_b'", {"Code__c": "axb"}) is False
    assert check(r"Code__c LIKE 'a\\%'", {"Code__c": "a\\anything"}) is True
    assert check(r"Code__c LIKE 'a\\%'", {"Code__c": "ab"}) is False


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("FirstName IN ('anna', 'zoë')", True), ("FirstName IN ('anna')", False),
        ("FirstName NOT IN ('anna')", True), ("FirstName NOT IN ('ZOË', 'x')", False),
        ("Email IN ('a@b.c')", False), ("Email NOT IN ('a@b.c')", True), ("Email IN ('a@b.c', null)", True),
        ("NumberOfEmployees IN (1, 120)", True), ("Birthdate IN (1990-02-28, 2000-01-01)", True),
        # Ids are case-sensitive (15-character Ids differ only by case); validate() canonicalises literals.
        ("Id IN ('003000000000001aaa')", False), ("Id IN ('003000000000001AAA')", True),
    ],
)  # fmt: skip
def test_in_and_not_in(condition, expected):
    assert check(condition) is expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("Interests__c INCLUDES ('hiking')", True), ("Interests__c INCLUDES ('Chess', 'Travel')", True),
        ("Interests__c INCLUDES ('Chess')", False), ("Interests__c INCLUDES ('Hiking;Travel')", True),
        ("Interests__c INCLUDES ('Hiking;Chess')", False), ("Interests__c INCLUDES ('Hik')", False),
        ("Interests__c EXCLUDES ('Chess')", True), ("Interests__c EXCLUDES ('Chess', 'cooking')", False),
        ("Interests__c EXCLUDES ('Cooking;Chess')", True),
        ("Email INCLUDES ('x')", False), ("Email EXCLUDES ('x')", True),
    ],
)  # fmt: skip
def test_includes_and_excludes(condition, expected):
    assert check(condition) is expected


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("=", "Travel;hiking;Cooking", True), ("=", "Hiking;Cooking", False), ("!=", "Hiking;Cooking", True),
        ("!=", "cooking;travel;hiking", False), ("=", None, False), ("IN", ["Chess", "Travel;Cooking;Hiking"], True),
        ("NOT IN", ["Hiking"], True),
    ],
)  # fmt: skip
def test_typed_multipicklist_equality_is_an_exact_selection(op, value, expected):
    comparison = Comparison(FieldRef(("Interests__c",), sf_type="multipicklist"), op, value)
    assert matches(comparison, RECORD, now=NOW) is expected
    assert matches(comparison, {"Interests__c": None}, now=NOW) is (op in ("!=", "NOT IN") or value is None)


def test_multipicklist_given_as_a_list():
    assert check("Tags__c INCLUDES ('b')", {"Tags__c": ["A", "B"]}) is True


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        # CreatedDate is 2024-05-14T23:59:59Z, the last second of yesterday.
        ("CreatedDate = YESTERDAY", True), ("CreatedDate = TODAY", False), ("CreatedDate < TODAY", True),
        ("CreatedDate <= YESTERDAY", True), ("CreatedDate > YESTERDAY", False), ("CreatedDate >= YESTERDAY", True),
        ("CreatedDate != TODAY", True), ("CreatedDate = THIS_WEEK", True), ("CreatedDate = LAST_N_DAYS:1", True),
        ("CreatedDate = LAST_WEEK", False), ("CreatedDate > LAST_WEEK", True),
        ("SystemModstamp = TODAY", True), ("LastModifiedDate = TODAY", True),
        # Date fields compare by day.
        ("Birthdate = LAST_N_YEARS:40", True), ("Birthdate < THIS_YEAR", True), ("Birthdate = THIS_MONTH", False),
        ("Birthdate = N_YEARS_AGO:34", True),
        ("Email = TODAY", False), ("Email != TODAY", True),
    ],
)  # fmt: skip
def test_date_literals_are_ranges(condition, expected):
    assert check(condition) is expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("CreatedDate = 2024-05-14T23:59:59Z", True), ("CreatedDate = 2024-05-15T01:59:59+02:00", True),
        ("CreatedDate = 2024-05-14T23:59:59.000000Z", True), ("CreatedDate < 2024-05-15T00:00:00.000+00:00", True),
        ("CreatedDate >= 2024-05-15T00:00:00Z", False), ("CreatedDate > 2024-05-14T18:59:58-05:00", True),
        ("SystemModstamp >= 2024-05-15T10:00:00Z", True), ("SystemModstamp > 2024-05-15T10:00:00Z", False),
        ("LastModifiedDate = 2024-05-15T10:00:00Z", True),
        ("Birthdate = 1990-02-28", True), ("Birthdate > 1990-02-27", True), ("Birthdate < 1990-02-28", False),
    ],
)  # fmt: skip
def test_datetime_and_date_values(condition, expected):
    assert check(condition) is expected


def test_datetime_values_stored_as_rest_strings_and_dates_as_iso_strings():
    record = {"D": "2024-05-15T10:00:00.123+0000", "E": "2024-05-15T10:00:00Z", "B": "1990-02-28"}
    assert check("D > 2024-05-15T10:00:00.122Z", record) is True
    assert check("D < 2024-05-15T10:00:00.124Z", record) is True
    assert check("E = 2024-05-15T10:00:00Z", record) is True
    assert check("B = 1990-02-28", record) is True
    assert check("B = TODAY", {"B": "not a date"}) is False


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("Account.Name = 'acme corp (west)'", True), ("Account.Owner.Email = 'BOSS@acme.test'", True),
        ("ReportsTo.Name = null", True), ("ReportsTo.Name != null", False), ("ReportsTo.Name != 'x'", True),
        ("Loan__r.Amount__c = 5000", True), ("Nothing__r.Name = null", True), ("account.name LIKE 'acme%'", True),
    ],
)  # fmt: skip
def test_parent_paths_nested_or_flattened(condition, expected):
    assert check(condition) is expected


def test_field_value_lookup_rules():
    assert field_value(RECORD, ("Account", "Owner", "Email")) == "boss@acme.test"
    assert field_value(RECORD, ("ACCOUNT", "name")) == "Acme Corp (West)"
    assert field_value(RECORD, ("ReportsTo", "Email")) is None
    assert field_value(RECORD, ("Loan__r", "Amount__c")) == 5000
    assert field_value(RECORD, ("FirstName", "Oops")) is None
    assert field_value({}, ("Id",)) is None


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("FirstName = 'zoë' AND DoNotCall = false", True), ("FirstName = 'zoë' AND DoNotCall = true", False),
        ("FirstName = 'x' OR DoNotCall = false", True), ("FirstName = 'x' OR DoNotCall = true", False),
        ("NOT FirstName = 'x'", True), ("NOT (FirstName = 'zoë' OR Email = 'x')", False),
        ("(FirstName = 'x' OR Email = null) AND (NumberOfEmployees > 100 AND Birthdate < 2000-01-01)", True),
        ("NOT NOT FirstName = 'zoë'", True),
    ],
)  # fmt: skip
def test_boolean_structure(condition, expected):
    assert check(condition) is expected


def test_no_where_matches_everything():
    assert matches(None, {}, now=NOW) is True


def test_injection_stays_inside_the_literal():
    # The attacker's quote is escaped, so the "OR" is text, not logic: nothing matches.
    where = parse(PREFIX + r"Name = 'x\' OR Id != null'").where
    assert where == Comparison(FieldRef(("Name",)), "=", "x' OR Id != null")
    assert matches(where, {"Name": "Bob", "Id": "003"}, now=NOW) is False


def test_conjuncts():
    a, b, c, d = (Comparison(FieldRef((name,)), "=", 1) for name in "ABCD")
    assert conjuncts(None) == []
    assert conjuncts(a) == [a]
    assert conjuncts(And([a, And([b, c]), d])) == [a, b, c, d]
    assert conjuncts(Or([a, b])) == [Or([a, b])]
    where = parse(
        PREFIX + "SystemModstamp >= 2021-01-01T00:00:00Z AND (Id > '003' OR Name = 'x') AND IsDeleted = false"
    ).where
    assert [type(item).__name__ for item in conjuncts(where)] == ["Comparison", "Or", "Comparison"]
    assert conjuncts(where)[0].field.path == ("SystemModstamp",)


def ordered(order_by: str, records):
    items = parse(" ".join(["SELECT Id FROM Contact ORDER BY", order_by])).order_by
    return [record["Id"] for record in sorted(records, key=lambda record: sort_key(items, record))]


PEOPLE = [
    {"Id": "1", "Name": "bob", "Score": 3, "Seen": dt.datetime(2024, 1, 2, tzinfo=UTC)},
    {"Id": "2", "Name": None, "Score": 1, "Seen": None},
    {"Id": "3", "Name": "Alice", "Score": None, "Seen": dt.datetime(2024, 1, 1, 23, 0)},
    {"Id": "4", "Name": "alice", "Score": 3, "Seen": dt.datetime(2024, 1, 3, tzinfo=UTC)},
    {"Id": "5", "Name": "Carol", "Score": Decimal("2.5"), "Seen": dt.datetime(2024, 1, 2, 1, tzinfo=dt.timezone(dt.timedelta(hours=2)))},
]  # fmt: skip


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        ("Name", ["2", "3", "4", "1", "5"]),  # ASC NULLS FIRST, case-insensitive, stable for ties
        ("Name ASC NULLS LAST", ["3", "4", "1", "5", "2"]),
        ("Name DESC", ["5", "1", "3", "4", "2"]),  # DESC NULLS LAST
        ("Name DESC NULLS FIRST", ["2", "5", "1", "3", "4"]),
        ("Score DESC, Name", ["4", "1", "5", "2", "3"]),
        ("Score, Id DESC", ["3", "2", "5", "4", "1"]),
        ("Score NULLS LAST, Name DESC", ["2", "5", "1", "4", "3"]),
        ("Seen", ["2", "3", "5", "1", "4"]),  # naive is UTC: 3 and 5 are the same instant, kept in order
    ],
)
def test_sort_key(order_by, expected):
    assert ordered(order_by, PEOPLE) == expected


def test_sort_key_by_parent_path_and_dates():
    records = [
        {"Id": "a", "Account": {"Name": "Zed"}, "Birthdate": dt.date(2000, 1, 1)},
        {"Id": "b", "Account": None, "Birthdate": dt.date(1999, 1, 1)},
        {"Id": "c", "Account": {"Name": "acme"}, "Birthdate": None},
    ]
    assert ordered("Account.Name", records) == ["b", "c", "a"]
    assert ordered("Birthdate DESC", records) == ["a", "b", "c"]
    assert ordered("Birthdate DESC NULLS FIRST", records) == ["c", "a", "b"]


def test_sort_keys_compare_equal_for_equal_values():
    items = parse("SELECT Id FROM Contact ORDER BY Name").order_by
    assert sort_key(items, {"Name": "ALICE"}) == sort_key(items, {"Name": "alice"})
    assert sort_key(items, {"Name": None}) == sort_key(items, {})
    assert not sort_key(items, {"Name": None}) < sort_key(items, {})


def test_ids_compare_and_sort_case_sensitively():
    # Base-62 Ids: "B" sorts before "a" as Salesforce (and the database) order them.
    records = [{"Id": "003Dw000000000aAAA"}, {"Id": "003Dw000000000BAAA"}, {"Id": "003Dw0000000009AAA"}]
    assert ordered("Id", records) == ["003Dw0000000009AAA", "003Dw000000000BAAA", "003Dw000000000aAAA"]
    assert check("Id > '003Dw000000000BAAA'", records[0]) is True
    assert check("Id = '003dw000000000aaaa'", records[0]) is False
    # A typed reference field is an Id too; a typed text field is not.
    reference = Comparison(FieldRef(("AccountId",), sf_type="reference"), "=", "001Dw000000000aAAA")
    assert matches(reference, {"AccountId": "001Dw000000000AAAA"}, now=NOW) is False
    text = Comparison(FieldRef(("Code__c",), sf_type="string"), "=", "abc")
    assert matches(text, {"Code__c": "ABC"}, now=NOW) is True
