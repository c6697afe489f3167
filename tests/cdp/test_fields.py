"""The field-type table: conversion, rejection reasons, storage round trips and display."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cdp import fields as ft
from cdp.catalogue import builtin_schema, field_definition_ensure
from cdp.models import ActivityDefinition, FieldDefinition

UTC = dt.UTC


@pytest.mark.parametrize(
    ("code", "raw", "value"),
    [
        ("text", "  Ada ", "Ada"),
        ("text", 42, "42"),
        ("text", "", None),
        ("large_text", "x" * 4000, "x" * 4000),
        ("integer", 7, 7),
        ("integer", 7.0, 7),
        ("integer", Decimal("12"), 12),
        ("decimal", 19.99, Decimal("19.99")),
        ("decimal", Decimal("0.1"), Decimal("0.1")),
        ("currency", 5, Decimal("5")),
        ("bool", True, True),
        ("bool", "false", False),
        ("phone", "+61 (401) 234-567", "+61401234567"),
        ("phone", "0061 401 234 567", "+61401234567"),
        ("phone", {"c": "61", "n": "401234567"}, "+61401234567"),
        ("phone", "415.555.0100", "4155550100"),
        ("email", " Ada@Example.com ", "Ada@Example.com"),
        ("date", "1815-12-10", dt.date(1815, 12, 10)),
        ("date", {"year": 1980, "month": 3, "day": 4, "timezone": "Australia/Sydney"}, dt.date(1980, 3, 4)),
        ("time", "2024-05-01T10:11:12.000+0000", dt.datetime(2024, 5, 1, 10, 11, 12, tzinfo=UTC)),
        ("time", "2024-05-01T20:11:12+10:00", dt.datetime(2024, 5, 1, 10, 11, 12, tzinfo=UTC)),
        ("time", "2024-05-01T10:11:12Z", dt.datetime(2024, 5, 1, 10, 11, 12, tzinfo=UTC)),
        ("multi_select", "Red;Green;Red", ["Red", "Green"]),
        ("multi_select", ["a", "", "b"], ["a", "b"]),
        ("geo", {"name": "Melbourne"}, "Melbourne"),
        ("link", "www.acme.example", "www.acme.example"),
        ("single_select", "de", "de"),
    ],
)
def test_conversions(code, raw, value):
    assert ft.convert_value(code, raw) == value


@pytest.mark.parametrize(
    ("code", "raw", "reason"),
    [
        ("text", "x" * 256, "text of 256 characters is longer than the limit of 255"),
        ("large_text", "x" * 4001, "text of 4001 characters is longer than the limit of 4000"),
        ("text", True, "expected text, got a boolean True"),
        ("integer", "7", "expected a whole number, got str '7'"),
        ("integer", 7.5, "expected a whole number, got 7.5"),
        ("integer", True, "expected a whole number, got bool True"),
        ("integer", 2**63, "number is outside the 64-bit range"),
        ("decimal", "19.99", "expected a number, got str '19.99'"),
        ("decimal", float("nan"), "expected a finite number, got Decimal('NaN')"),
        ("bool", 1, "expected true or false, got 1"),
        ("phone", "12", "'12' is not a phone number"),
        ("phone", "+1 555 CALL NOW", "'+1 555 CALL NOW' is not a phone number"),
        ("email", "ada@", "'ada@' is not an email address"),
        ("date", "2024-02-30", "'2024-02-30' is not a date (expected YYYY-MM-DD)"),
        ("date", "yesterday", "'yesterday' is not a date (expected YYYY-MM-DD)"),
        ("time", "not a time", "'not a time' is not a date and time (expected ISO 8601)"),
        ("link", "not a link", "'not a link' is not a link"),
        ("multi_select", 5, "expected a list of options, got int 5"),
    ],
)
def test_rejections_say_why(code, raw, reason):
    with pytest.raises(ft.FieldValueError) as error:
        ft.convert_value(code, raw)
    assert str(error.value) == reason


@pytest.mark.parametrize(
    ("code", "value", "shown"),
    [
        ("currency", Decimal("1234.5"), "1,234.50"),
        ("decimal", Decimal("0.125"), "0.125"),
        ("integer", 1200, "1,200"),
        ("bool", False, "No"),
        ("date", dt.date(1815, 12, 10), "10 Dec 1815"),
        ("time", dt.datetime(2024, 5, 1, 10, 11, tzinfo=UTC), "2024-05-01 10:11 UTC"),
        ("multi_select", ["Red", "Green"], "Red, Green"),
    ],
)
def test_round_trip_through_json_and_display(code, value, shown):
    stored = ft.to_json(code, value)
    assert ft.from_json(code, stored) == value
    assert ft.display_value(code, ft.from_json(code, stored)) == shown


def test_decimals_never_become_floats():
    stored = ft.to_json("currency", ft.convert_value("currency", 0.1))
    assert stored == "0.1"
    assert ft.from_json("currency", stored) + Decimal("0.2") == Decimal("0.3")


def test_every_builtin_field_type_is_in_the_table():
    schema = builtin_schema()
    types = {f["display_type"] for f in schema["person_fields"] + schema["organization_fields"]}
    assert types <= set(ft.FIELD_TYPES)


@pytest.mark.django_db
def test_new_workspace_gets_ortto_builtin_catalogue(workspace):
    email = FieldDefinition.objects.get(workspace=workspace, field_id="str::email")
    assert (email.name, email.display_type, email.entity, email.builtin, email.liquid_name) == (
        "Email",
        "email",
        "person",
        True,
        "people.email",
    )
    assert FieldDefinition.objects.get(workspace=workspace, field_id="bol::p").name == "Email permission"
    assert FieldDefinition.objects.get(workspace=workspace, field_id="str:o:website").display_type == "link"
    assert (
        FieldDefinition.objects.get(workspace=workspace, field_id="int:o:employees").entity == "organization"
    )
    opened = ActivityDefinition.objects.get(workspace=workspace, activity_id="act::o")
    assert (opened.name, opened.builtin) == ("Opened email", True)
    assert FieldDefinition.objects.filter(workspace=workspace).count() == len(
        builtin_schema()["person_fields"]
    ) + len(builtin_schema()["organization_fields"])


@pytest.mark.django_db
def test_field_definition_ensure_is_idempotent_and_keeps_the_type(workspace):
    first = field_definition_ensure(workspace=workspace, field_id="str:osa:rating", name="Rating")
    again = field_definition_ensure(workspace=workspace, field_id="str:osa:rating", name="Account rating")
    assert first.pk == again.pk
    assert (again.name, again.entity, again.display_type, again.namespace) == (
        "Account rating",
        "organization",
        "text",
        "osa",
    )
    with pytest.raises(ValueError, match="a field's type cannot change"):
        field_definition_ensure(
            workspace=workspace, field_id="str:osa:rating", name="Rating", display_type="email"
        )
    with pytest.raises(ValueError, match="not a field id"):
        field_definition_ensure(workspace=workspace, field_id="Rating", name="Rating")
    assert FieldDefinition.objects.filter(workspace=workspace, field_id="str:osa:rating").count() == 1
