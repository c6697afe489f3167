"""Every refusal: MALFORMED_QUERY, INVALID_TYPE and INVALID_FIELD with Salesforce's exact texts, and hostile input."""

# ruff: noqa: S608 - these tests build SOQL text on purpose; the parser they test is the defence.

import datetime as dt
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesforce_sandbox.soql import (
    Comparison,
    DateLiteral,
    FieldRef,
    ObjectSchema,
    OrderItem,
    SObjectRef,
    SoqlError,
    matches,
    parse,
    sort_key,
    validate,
)

NOTE_FIELD = (
    "If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. "
    "Please reference your WSDL or the describe call for the appropriate names."
)
NOTE_OBJECT = (
    "If you are attempting to use a custom object, be sure to append the '__c' after the entity name. "
    "Please reference your WSDL or the describe call for the appropriate names."
)
NOTE_RELATIONSHIP = (
    "If you are attempting to use a custom relationship, be sure to append the '__r' after the custom "
    "relationship name. Please reference your WSDL or the describe call for the appropriate names."
)


def refusal(text) -> SoqlError:
    with pytest.raises(SoqlError) as error:
        parse(text)
    return error.value


# MALFORMED_QUERY ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "SELECT Id FRM Account",
            "\nSELECT Id FRM Account\n          ^\nERROR at Row:1:Column:11\nunexpected token: 'FRM'",
        ),
        (
            "SELECT Id FROM",
            "\nSELECT Id FROM\n              ^\nERROR at Row:1:Column:15\nunexpected token: <EOF>",
        ),
        ("", "\n\n^\nERROR at Row:1:Column:1\nunexpected token: <EOF>"),
        (
            "SELECT FROM Account",
            "\nSELECT FROM Account\n       ^\nERROR at Row:1:Column:8\nunexpected token: 'FROM'",
        ),
        (
            "SELECT Id, FROM Account",
            "\nSELECT Id, FROM Account\n           ^\nERROR at Row:1:Column:12\nunexpected token: 'FROM'",
        ),
        (
            "SELECT Id FROM Account WHERE Name = foo",
            "\nSELECT Id FROM Account WHERE Name = foo\n                                    ^\n"
            "ERROR at Row:1:Column:37\nunexpected token: 'foo'",
        ),
        (
            "SELECT Id FROM Account WHERE CreatedDate = LAST_N_FORTNIGHTS:2",
            "\nSELECT Id FROM Account WHERE CreatedDate = LAST_N_FORTNIGHTS:2\n"
            "                                           ^\nERROR at Row:1:Column:44\n"
            "unexpected token: 'LAST_N_FORTNIGHTS:2'",
        ),
        (
            "SELECT Id FROM Account WHERE CreatedDate = TODAY:2",
            "\nSELECT Id FROM Account WHERE CreatedDate = TODAY:2\n                                           ^\n"
            "ERROR at Row:1:Column:44\nunexpected token: 'TODAY:2'",
        ),
        (
            "SELECT Id FROM Account WHERE Name = 'a\\qb'",
            "\nSELECT Id FROM Account WHERE Name = 'a\\qb'\n                                    ^\n"
            "ERROR at Row:1:Column:37\n"
            "Invalid string literal 'a\\qb'. Illegal character sequence '\\q' in string literal.",
        ),
        (
            "SELECT Id FROM Account WHERE Name = 'a\\%'",  # \% only means something in LIKE
            "\nSELECT Id FROM Account WHERE Name = 'a\\%'\n                                    ^\n"
            "ERROR at Row:1:Column:37\n"
            "Invalid string literal 'a\\%'. Illegal character sequence '\\%' in string literal.",
        ),
        (
            "SELECT Id FROM Account WHERE Name = 'a\\u12'",
            "\nSELECT Id FROM Account WHERE Name = 'a\\u12'\n                                    ^\n"
            "ERROR at Row:1:Column:37\n"
            "Invalid string literal 'a\\u12'. Illegal character sequence '\\u' in string literal.",
        ),
        (
            "SELECT Id FROM Account WHERE CloseDate = 2024-02-30",
            "\nSELECT Id FROM Account WHERE CloseDate = 2024-02-30\n                                         ^\n"
            "ERROR at Row:1:Column:42\nunexpected token: '2024-02-30'",
        ),
        (
            "SELECT Id FROM Account WHERE CreatedDate > 2024-01-01T24:00:00Z",
            "\nSELECT Id FROM Account WHERE CreatedDate > 2024-01-01T24:00:00Z\n"
            "                                           ^\nERROR at Row:1:Column:44\n"
            "unexpected token: '2024-01-01T24:00:00Z'",
        ),
        (
            "SELECT Id FROM Account WHERE CreatedDate > 2024-01-01T00:00:00",  # a datetime needs its zone
            "\nSELECT Id FROM Account WHERE CreatedDate > 2024-01-01T00:00:00\n"
            "                                                     ^\nERROR at Row:1:Column:54\n"
            "unexpected token: 'T00:00'",
        ),
        (
            "SELECT Id FROM Account WHERE Name IN ()",
            "\nSELECT Id FROM Account WHERE Name IN ()\n                                      ^\n"
            "ERROR at Row:1:Column:39\nunexpected token: ')'",
        ),
        (
            "SELECT Id FROM Account WHERE Name IN 'a'",
            "\nSELECT Id FROM Account WHERE Name IN 'a'\n                                     ^\n"
            "ERROR at Row:1:Column:38\nunexpected token: ''a''",
        ),
        (
            "SELECT Id FROM Account LIMIT -1",
            "\nSELECT Id FROM Account LIMIT -1\n                             ^\nERROR at Row:1:Column:30\n"
            "unexpected token: '-1'",
        ),
        (
            "SELECT Id FROM Account LIMIT 1 LIMIT 2",
            "\nSELECT Id FROM Account LIMIT 1 LIMIT 2\n                               ^\n"
            "ERROR at Row:1:Column:32\nunexpected token: 'LIMIT'",
        ),
        (
            "SELECT Id FROM Account OFFSET 1 LIMIT 2",  # LIMIT comes before OFFSET
            "\nSELECT Id FROM Account OFFSET 1 LIMIT 2\n                                ^\n"
            "ERROR at Row:1:Column:33\nunexpected token: 'LIMIT'",
        ),
        (
            "SELECT Id FROM Account ORDER BY Name NULLS",
            "\nSELECT Id FROM Account ORDER BY Name NULLS\n                                          ^\n"
            "ERROR at Row:1:Column:43\nunexpected token: <EOF>",
        ),
        (
            "SELECT Id, (SELECT Id FROM Contacts) FROM Account",
            "\nSELECT Id, (SELECT Id FROM Contacts) FROM Account\n           ^\n"
            "ERROR at Row:1:Column:12\nunexpected token: '('",
        ),
        (
            "SELECT Id FROM Account LIMIT 1234567890123456789",
            "\nSELECT Id FROM Account LIMIT 1234567890123456789\n                             ^\n"
            "ERROR at Row:1:Column:30\nunexpected token: '1234567890123456789'",
        ),
    ],
)
def test_malformed_query_caret_messages(text, message):
    error = refusal(text)
    assert error.error_code == "MALFORMED_QUERY"
    assert error.message == message


@pytest.mark.parametrize(
    ("text", "column"), [("SELECT Id, COUNT() FROM Account", 12), ("SELECT count(), Id FROM Account", 8)]
)
def test_count_stands_alone(text, column):
    error = refusal(text)
    assert error.error_code == "MALFORMED_QUERY"
    assert error.message == (
        f"\n{text}\n{' ' * (column - 1)}^\nERROR at Row:1:Column:{column}\nCOUNT() must be the only element in the SELECT list."
    )


def test_offset_beyond_2000_is_out_of_range():
    assert parse("SELECT Id FROM Account OFFSET 2000").offset == 2000
    error = refusal("SELECT Id FROM Account LIMIT 10 OFFSET 2001")
    assert (error.error_code, error.message) == (
        "NUMBER_OUTSIDE_VALID_RANGE",
        "Maximum SOQL offset allowed is 2000",
    )


def test_mixing_and_or_without_parentheses():
    error = refusal("SELECT Id FROM Lead WHERE IsConverted = false AND Email != null OR Phone != null")
    assert error.message.endswith("ERROR at Row:1:Column:65\nunexpected token: 'OR'")


def test_rows_and_columns_count_lines():
    error = refusal("SELECT Id,\n  Name\nFRM Contact")
    assert error.message == "\nFRM Contact\n^\nERROR at Row:3:Column:1\nunexpected token: 'FRM'"


def test_a_long_line_is_quoted_as_a_window_around_the_error():
    text = "SELECT " + "Name, " * 100 + "FROM Account"
    error = refusal(text)
    column = text.index("FROM") + 1
    window = text[column - 1 - 80 : column - 1 + 80]
    assert (
        error.message == f"\n{window}\n{' ' * 80}^\nERROR at Row:1:Column:{column}\nunexpected token: 'FROM'"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # Salesforce's lexer errors carry a 0-based column and no caret block.
        ("SELECT Id FROM Account WHERE Name = 'abc", "line 1:40 mismatched character '<EOF>' expecting '''"),
        ('SELECT Id FROM Account WHERE Name = "abc"', "line 1:36 no viable alternative at character '\"'"),
        ("SELECT Id FROM Account; DELETE FROM Account", "line 1:22 no viable alternative at character ';'"),
        (
            "SELECT Id FROM Account WHERE Name = 'a' -- comment",
            "line 1:40 no viable alternative at character '-'",
        ),
        (
            "SELECT Id FROM Account WHERE\nName = 'a\u0000'",
            "line 2:9 no viable alternative at character '\\u0000'",
        ),
        ("SELECT * FROM Account", "line 1:7 no viable alternative at character '*'"),
    ],
)
def test_lexer_errors(text, message):
    error = refusal(text)
    assert (error.error_code, error.message) == ("MALFORMED_QUERY", message)


@pytest.mark.parametrize(
    "word", ["FROM", "select", "Where", "AND", "or", "NOT", "like", "IN", "NULLS", "LAST", "ASC"]
)
def test_reserved_words_cannot_name_fields_or_objects(word):
    error = refusal(f"SELECT Id, {word} FROM Account")
    assert error.message.endswith(f"ERROR at Row:1:Column:12\nunexpected token: '{word}'")
    error = refusal(f"SELECT Id FROM {word}")
    assert error.message.endswith(f"ERROR at Row:1:Column:16\nunexpected token: '{word}'")


def test_not_text():
    assert refusal(b"SELECT Id FROM Account").message == "A SOQL statement is text, not bytes."
    assert refusal(None).error_code == "MALFORMED_QUERY"


# Hostile input --------------------------------------------------------------------------------------------


def test_injection_attempts_stay_literals_or_are_refused():
    # Doubling the quote is not SOQL's escape: the string ends, and the rest is an unterminated literal.
    assert refusal("SELECT Id FROM Contact WHERE Name = 'x'' OR Id != null").message == (
        "line 1:54 mismatched character '<EOF>' expecting '''"
    )
    escaped = parse("SELECT Id FROM Contact WHERE Name = 'x\\' OR Id != null OR Name = \\'y'")
    assert escaped.where == Comparison(FieldRef(("Name",)), "=", "x' OR Id != null OR Name = 'y")
    assert refusal("SELECT Id FROM Contact WHERE Name = 'x' UNION SELECT Id FROM User").error_code == (
        "MALFORMED_QUERY"
    )


def test_nul_bytes_are_refused_raw_and_escaped():
    assert (
        refusal("SELECT Id FROM Contact\x00").message
        == "line 1:22 no viable alternative at character '\\u0000'"
    )
    error = refusal("SELECT Id FROM Contact WHERE Name = 'a\\u0000'")
    assert error.message.endswith("Illegal character sequence '\\u0000' in string literal.")


def test_lone_surrogate_escape_is_refused():
    error = refusal("SELECT Id FROM Contact WHERE Name = '\\uD800'")
    assert error.message.endswith("Invalid string literal '\\uD800'. Illegal unicode escape.")


def test_a_100_kb_query_parses_quickly():
    ids = ",".join(f"'003{i:015d}'" for i in range(4700))
    text = f"SELECT Id FROM Contact WHERE Id IN ({ids})"
    assert 95_000 < len(text) <= 100_000
    started = time.perf_counter()
    query = parse(text)
    assert time.perf_counter() - started < 1.0
    assert len(query.where.value) == 4700 and query.where.value[-1] == "003000000000004699"


def test_longer_than_100_000_characters_is_refused_before_parsing():
    text = "SELECT Id FROM Contact WHERE Name = '" + "x" * 100_000 + "'"
    error = refusal(text)
    assert (error.error_code, error.message) == (
        "MALFORMED_QUERY",
        "SOQL statements cannot be longer than 100,000 characters.",
    )


def test_unterminated_100_kb_literal():
    text = "SELECT Id FROM Contact WHERE Name = '" + "x" * 99_000
    assert refusal(text).message == f"line 1:{len(text)} mismatched character '<EOF>' expecting '''"


def test_nesting_depth_is_capped_at_100():
    ok = parse("SELECT Id FROM Contact WHERE " + "(" * 100 + "Name = 'x'" + ")" * 100)
    assert ok.where == Comparison(FieldRef(("Name",)), "=", "x")
    error = refusal("SELECT Id FROM Contact WHERE " + "(" * 101 + "Name = 'x'" + ")" * 101)
    assert error.error_code == "MALFORMED_QUERY"
    assert error.message.endswith(
        "ERROR at Row:1:Column:130\nexpression nested too deeply (more than 100 levels)"
    )
    huge = refusal("SELECT Id FROM Contact WHERE " + "(" * 40_000 + "Name = 'x'" + ")" * 40_000)
    assert huge.message.endswith("expression nested too deeply (more than 100 levels)")
    # Parentheses inside a string literal are text.
    assert parse("SELECT Id FROM Contact WHERE Name = '" + "(" * 500 + "'").where.value == "(" * 500


def test_not_chains_are_capped_too():
    assert parse("SELECT Id FROM Contact WHERE " + "NOT " * 99 + "Name = 'x'").where is not None
    error = refusal("SELECT Id FROM Contact WHERE " + "NOT " * 20_000 + "Name = 'x'")
    assert error.message.endswith("expression nested too deeply (more than 100 levels)")
    deep = refusal("SELECT Id FROM Contact WHERE " + "(A = 1 AND " * 101 + "B = 2" + ")" * 101)
    assert deep.message.endswith("expression nested too deeply (more than 100 levels)")


VOCABULARY = [
    "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "NOT IN", "LIKE", "INCLUDES", "EXCLUDES", "ORDER BY",
    "ASC", "DESC", "NULLS", "FIRST", "LAST", "LIMIT", "OFFSET", "COUNT()", "(", ")", ",", ".", "=", "!=", "<>",
    "<", "<=", ">", ">=", "null", "true", "false", "'a'", "'\\'", "'\\u0000'", "'\\uD800'", "-1", "1.5",
    "99999999999999999999999", "2024-01-01", "2024-13-45", "2024-01-01T00:00:00Z", "2024-01-01T23:00:00+25:00",
    "TODAY", "LAST_N_DAYS:5", "LAST_N_YEARS:99999999", "Id", "Name", "Account", "x__c", "\x00", '"', "'", "\\",
    ":", "%", "\n", "é",
]  # fmt: skip
NOW = dt.datetime(2024, 5, 15, tzinfo=dt.UTC)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(VOCABULARY), max_size=20), st.sampled_from(["", "SELECT Id FROM X WHERE "]))
def test_token_soup_only_ever_raises_soql_error(tokens, prefix):
    try:
        query = parse(prefix + " ".join(tokens))
    except SoqlError as error:
        assert error.error_code == "MALFORMED_QUERY" and error.message
        return
    # Whatever parses can be evaluated and sorted.
    matches(query.where, {"Id": "a", "Name": None, "x__c": 3}, now=NOW)
    sorted([{"Id": None}, {"Id": "b"}, {"Id": 2}], key=lambda record: sort_key(query.order_by, record))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.sampled_from(VOCABULARY + ["Birthdate", "CreatedDate", "DoNotCall", "Interests__c", "AccountId",
                                      "Account.Name", "'001000000000001'", "Score__c"]),
        max_size=20,
    )
)  # fmt: skip
def test_validate_only_ever_raises_soql_error(tokens):
    try:
        query = validate(parse("SELECT Id FROM Contact WHERE " + " ".join(tokens)), describe=describe)
    except SoqlError as error:
        assert error.error_code in {"MALFORMED_QUERY", "INVALID_FIELD", "INVALID_QUERY_FILTER_OPERATOR"}
        return
    matches(
        query.where, {"Id": "003000000000001AAA", "Interests__c": "a;b", "Birthdate": "1990-01-01"}, now=NOW
    )


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_random_text_only_ever_raises_soql_error(text):
    for candidate in (text, "SELECT Id FROM X WHERE " + text, "SELECT Id FROM X WHERE Name = '" + text + "'"):
        try:
            parse(candidate)
        except SoqlError as error:
            assert error.error_code == "MALFORMED_QUERY"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=60))
def test_any_string_round_trips_through_a_quoted_literal(value):
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    query = parse("SELECT Id FROM Contact WHERE Name = '" + escaped + "'")
    assert query.where.value == value
    assert matches(query.where, {"Name": value}, now=NOW) is True


# validate: INVALID_TYPE / INVALID_FIELD -------------------------------------------------------------------

SCHEMAS = {
    schema.name.lower(): schema
    for schema in [
        ObjectSchema(
            "Contact",
            {
                "Id": "id", "Name": "string", "Email": "email", "AccountId": "reference", "DoNotCall": "boolean",
                "Birthdate": "date", "CreatedDate": "datetime", "SystemModstamp": "datetime",
                "NumberOfEmployees__c": "int", "Lifetime_Value__c": "currency", "Score__c": "double",
                "Interests__c": "multipicklist", "Tier__c": "picklist", "Loan__c": "reference",
                "Wake_Time__c": "time",
            },
            {"Account": "Account", "Loan__r": "Loan__c", "Ghost__r": "Ghost__c"},
        ),
        ObjectSchema("Account", {"Id": "id", "Name": "string", "OwnerId": "reference"}, {"Owner": "User"}),
        ObjectSchema("User", {"Id": "id", "Email": "email"}),
        ObjectSchema("Loan__c", {"Id": "id", "Amount__c": "currency"}),
        ObjectSchema("Online_Order__c", {"Id": "id", "EIN__c": "string"}),
    ]
}  # fmt: skip


def describe(name: str):
    return SCHEMAS.get(name.lower())


def invalid(text: str) -> SoqlError:
    with pytest.raises(SoqlError) as error:
        validate(parse(text), describe=describe)
    return error.value


def test_validate_resolves_names_to_their_canonical_case():
    query = validate(
        parse(
            "select id, NAME, account.name, ACCOUNT.OWNER.email, loan__r.amount__c from contact "
            "where createddate > 2024-01-01T00:00:00Z and (birthdate = LAST_N_DAYS:3 or tier__c in ('Gold')) "
            "order by account.name desc, id limit 10 offset 5"
        ),
        describe=describe,
    )
    assert query.sobject == SObjectRef("Contact")
    assert [field.path for field in query.select] == [
        ("Id",), ("Name",), ("Account", "Name"), ("Account", "Owner", "Email"), ("Loan__r", "Amount__c"),
    ]  # fmt: skip
    first, second = query.where.items
    assert first == Comparison(FieldRef(("CreatedDate",)), ">", dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    assert second.items[0] == Comparison(FieldRef(("Birthdate",)), "=", DateLiteral("LAST_N_DAYS", 3))
    assert second.items[1].field.path == ("Tier__c",)
    assert query.order_by == [
        OrderItem(FieldRef(("Account", "Name")), descending=True, nulls_last=True),
        OrderItem(FieldRef(("Id",))),
    ]
    assert (query.limit, query.offset) == (10, 5)
    # Positions survive, so later messages still point at the text.
    assert (query.select[1].line, query.select[1].column) == (1, 12)


def test_count_passes_through():
    query = validate(parse("SELECT COUNT() FROM contact WHERE email != null"), describe=describe)
    assert query.is_count and query.where.field.path == ("Email",)


def test_invalid_type():
    error = invalid("select id,name,type from accountx")
    assert error.error_code == "INVALID_TYPE"
    assert error.message == (
        "\nselect id,name,type from accountx\n                         ^\nERROR at Row:1:Column:26\n"
        f"sObject type 'accountx' is not supported. {NOTE_OBJECT}"
    )


def test_invalid_field_no_such_column():
    error = invalid("SELECT Status_Date__c, EIN__c FROM Online_Order__c")
    assert error.error_code == "INVALID_FIELD"
    assert error.message == (
        "\nSELECT Status_Date__c, EIN__c FROM Online_Order__c\n       ^\nERROR at Row:1:Column:8\n"
        f"No such column 'Status_Date__c' on entity 'Online_Order__c'. {NOTE_FIELD}"
    )


@pytest.mark.parametrize(
    ("text", "column", "detail"),
    [
        ("SELECT Id FROM Contact WHERE Nme = 'x'", 30, f"No such column 'Nme' on entity 'Contact'. {NOTE_FIELD}"),
        ("SELECT Id FROM Contact ORDER BY Emial", 33, f"No such column 'Emial' on entity 'Contact'. {NOTE_FIELD}"),
        ("SELECT Account.Nme FROM Contact", 8, f"No such column 'Nme' on entity 'Account'. {NOTE_FIELD}"),
        ("SELECT Acount.Name FROM Contact", 8, f"Didn't understand relationship 'Acount' in field path. {NOTE_RELATIONSHIP}"),
        ("SELECT Account.Owner.Boss.Email FROM Contact", 8, f"Didn't understand relationship 'Boss' in field path. {NOTE_RELATIONSHIP}"),
        # A relationship whose target the org does not describe is no relationship at all.
        ("SELECT Ghost__r.Name FROM Contact", 8, f"Didn't understand relationship 'Ghost__r' in field path. {NOTE_RELATIONSHIP}"),
        # A field is not a relationship, and a relationship is not a field.
        ("SELECT AccountId.Name FROM Contact", 8, f"Didn't understand relationship 'AccountId' in field path. {NOTE_RELATIONSHIP}"),
        ("SELECT Account FROM Contact", 8, f"No such column 'Account' on entity 'Contact'. {NOTE_FIELD}"),
    ],
)  # fmt: skip
def test_invalid_field_paths(text, column, detail):
    error = invalid(text)
    assert error.error_code == "INVALID_FIELD"
    assert error.message == f"\n{text}\n{' ' * (column - 1)}^\nERROR at Row:1:Column:{column}\n{detail}"


def wrong_type(field: str, kind: str, quoted: bool) -> str:
    rule = "should be enclosed in quotes" if quoted else "should not be enclosed in quotes"
    return f"value of filter criterion for field '{field}' must be of type {kind} and {rule}"


@pytest.mark.parametrize(
    ("condition", "detail"),
    [
        ("CreatedDate > 2024-01-01", wrong_type("CreatedDate", "dateTime", False)),
        ("CreatedDate > '2024-01-01T00:00:00Z'", wrong_type("CreatedDate", "dateTime", False)),
        ("SystemModstamp >= 5", wrong_type("SystemModstamp", "dateTime", False)),
        ("Birthdate = 2024-01-01T00:00:00Z", wrong_type("Birthdate", "date", False)),
        ("Birthdate = '2024-01-01'", wrong_type("Birthdate", "date", False)),
        ("DoNotCall = 'true'", wrong_type("DoNotCall", "boolean", False)),
        ("DoNotCall = 1", wrong_type("DoNotCall", "boolean", False)),
        ("NumberOfEmployees__c > '5'", wrong_type("NumberOfEmployees__c", "integer", False)),
        ("NumberOfEmployees__c > 5.5", wrong_type("NumberOfEmployees__c", "integer", False)),
        ("NumberOfEmployees__c > true", wrong_type("NumberOfEmployees__c", "integer", False)),
        ("Lifetime_Value__c > '5'", wrong_type("Lifetime_Value__c", "double", False)),
        ("Score__c IN (1, 'two')", wrong_type("Score__c", "double", False)),
        ("Name = 5", wrong_type("Name", "string", True)),
        ("Name = TODAY", wrong_type("Name", "string", True)),
        ("Email IN ('a@b.c', false)", wrong_type("Email", "string", True)),
        ("AccountId = 1", wrong_type("AccountId", "string", True)),
        ("Account.Name = 2024-01-01", wrong_type("Account.Name", "string", True)),
    ],
)
def test_values_must_match_the_field_type(condition, detail):
    text = "SELECT Id FROM Contact WHERE " + condition
    error = invalid(text)
    assert error.error_code == "INVALID_FIELD"
    value_at = text.index(" ", text.index(" ", 29) + 1) + 2  # after "<field> <op> "
    if " IN (" in condition:
        value_at = text.index("(", 29) + 2
    assert error.message == f"\n{text}\n{' ' * (value_at - 1)}^\nERROR at Row:1:Column:{value_at}\n{detail}"


@pytest.mark.parametrize(
    "condition",
    [
        "CreatedDate > 2024-01-01T00:00:00Z", "CreatedDate = TODAY", "CreatedDate = null", "Birthdate = 2024-01-01",
        "Birthdate < LAST_N_YEARS:18", "DoNotCall = false", "NumberOfEmployees__c > 5", "NumberOfEmployees__c > 5.0",
        "Lifetime_Value__c >= 10.5", "Score__c IN (1, 2.5)", "Name LIKE 'a%'", "Tier__c IN ('Gold', null)",
        "Interests__c INCLUDES ('a;b')", "Interests__c EXCLUDES ('c')", "Wake_Time__c = 5",
    ],
)  # fmt: skip
def test_values_of_the_right_type_pass(condition):
    assert validate(parse("SELECT Id FROM Contact WHERE " + condition), describe=describe).where is not None


def test_includes_needs_a_multipicklist():
    error = invalid("SELECT Id FROM Contact WHERE Tier__c INCLUDES ('Gold')")
    assert error.error_code == "INVALID_FIELD"
    assert error.message.endswith(
        "ERROR at Row:1:Column:30\nincludes or excludes operator only valid on multipicklist field"
    )


def test_first_problem_in_query_order_wins():
    error = invalid("SELECT Bad1, Id FROM Contact WHERE Bad2 = 1 ORDER BY Bad3")
    assert "No such column 'Bad1'" in error.message
    error = invalid("SELECT Bad1 FROM Nowhere")
    assert error.error_code == "INVALID_TYPE"


def test_object_schema_lookups():
    contact = SCHEMAS["contact"]
    assert contact.field("EMAIL") == ("Email", "email")
    assert contact.field("nope") is None
    assert contact.relationship("loan__R") == ("Loan__r", "Loan__c")
    assert contact.relationship("AccountId") is None


def test_ids_in_filters_become_canonical_18_character_ids():
    query = validate(
        parse(
            "SELECT Id FROM Contact WHERE Id IN ('003Dw000000000a', '003dw000000000aiaa', '003dw000000000ayaq') "
            "AND AccountId != '001Dw0000000001' AND Loan__c = null AND Id > '003Dw0000000000'"
        ),
        describe=describe,
    )
    ids, account, loan, after = query.where.items
    assert ids.value == ["003Dw000000000aIAA", "003Dw000000000aIAA", "003DW000000000AYAQ"]
    assert ids.field.sf_type == "id" and account.field.sf_type == "reference"
    assert account.value == "001Dw0000000001IAA"
    assert loan.value is None
    assert after.value == "003Dw0000000000IAA"
    assert matches(query.where, {"Id": "003Dw000000000aIAA", "AccountId": "001Dw0000000002IAA"}, now=NOW)


@pytest.mark.parametrize(
    "literal", ["abc", "003Dw000000000", "003Dw000000000aAAAx", "003Dw000000000a!!!", "003Dw000000000aZZZ"]
)
def test_malformed_ids_are_refused(literal):
    text = f"SELECT Id FROM Contact WHERE AccountId = '{literal}'"
    error = invalid(text)
    assert error.error_code == "INVALID_QUERY_FILTER_OPERATOR"
    assert error.message == f"\n{text}\n{' ' * 41}^\nERROR at Row:1:Column:42\ninvalid ID field: {literal}"
