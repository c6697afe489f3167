"""The merge engine: strategies, find strategies, identities, bad input, permissions, set-based writes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cdp.merge import (
    FindStrategy,
    IdentityKey,
    MergeResult,
    MergeStrategy,
    OrganizationRow,
    PersonRow,
    field_definition_ensure,
    merge_organizations,
    merge_people,
)
from cdp.models import Identity, Organization, PermissionChange, Person
from cdp.services import person_permission_set

pytestmark = pytest.mark.django_db

SRC = "salesforce:1"


def contact(n: int | str) -> IdentityKey:
    return IdentityKey(SRC, "Contact", f"003{n}")


def merge(workspace, rows, **kw):
    return merge_people(workspace=workspace, rows=rows, source=SRC, **kw)


def person(workspace, email) -> Person:
    return Person.objects.get(workspace=workspace, email_key=email.lower())


# ------------------------------------------------------------------ strategies x existing/new/empty


@pytest.mark.parametrize(
    ("strategy", "skip", "existing_city", "status", "city", "people"),
    [
        # no person yet
        (1, False, None, "created", "Oslo", 1),
        (2, False, None, "created", "Oslo", 1),
        (3, False, None, "created", "Oslo", 1),
        (1, True, None, "ignored", None, 0),
        (2, True, None, "ignored", None, 0),
        (3, True, None, "ignored", None, 0),
        # person exists, field empty
        (1, False, "", "merged", "Oslo", 1),
        (2, False, "", "merged", "Oslo", 1),
        (3, False, "", "ignored", "", 1),
        (1, True, "", "merged", "Oslo", 1),
        (2, True, "", "merged", "Oslo", 1),
        (3, True, "", "ignored", "", 1),
        # person exists, field set: Ortto's example, "Sydney" is kept under append-only
        (1, False, "Sydney", "merged", "Sydney", 1),
        (2, False, "Sydney", "merged", "Oslo", 1),
        (3, False, "Sydney", "ignored", "Sydney", 1),
        (1, True, "Sydney", "merged", "Sydney", 1),
        (2, True, "Sydney", "merged", "Oslo", 1),
        (3, True, "Sydney", "ignored", "Sydney", 1),
    ],
)
@pytest.mark.parametrize("find_strategy", [FindStrategy.ANY, FindStrategy.NEXT_IF_EMPTY])
def test_strategy_table(workspace, strategy, skip, existing_city, status, city, people, find_strategy):
    if existing_city is not None:
        merge(workspace, [PersonRow(None, {"str::email": "kim@example.com", "geo::city": existing_city})])

    [result] = merge(
        workspace,
        [PersonRow(None, {"str::email": "KIM@example.com", "geo::city": "Oslo"})],
        strategy=strategy,
        find_strategy=find_strategy,
        skip_non_existing=skip,
    )

    assert result.status == status
    assert Person.objects.filter(workspace=workspace).count() == people
    if people:
        assert person(workspace, "kim@example.com").city == city
        assert result.record_id == (
            person(workspace, "kim@example.com").pk
            if status != "ignored" or existing_city is not None
            else None
        )
    else:
        assert result.record_id is None


def test_custom_field_sydney_kept_under_append_only_and_overwritten_under_overwrite(workspace):
    field_definition_ensure(workspace=workspace, field_id="str:cm:place-of-birth", name="Place of birth")
    merge(workspace, [PersonRow(None, {"str::email": "a@example.com", "str:cm:place-of-birth": "Sydney"})])

    [kept] = merge(
        workspace,
        [PersonRow(None, {"str::email": "a@example.com", "str:cm:place-of-birth": "Oslo"})],
        strategy=MergeStrategy.APPEND_ONLY,
    )
    assert kept == MergeResult("merged", kept.record_id, "", ())
    assert person(workspace, "a@example.com").values == {"str:cm:place-of-birth": "Sydney"}

    [over] = merge(
        workspace, [PersonRow(None, {"str::email": "a@example.com", "str:cm:place-of-birth": "Oslo"})]
    )
    assert over.changed_fields == ("str:cm:place-of-birth",)
    assert person(workspace, "a@example.com").values == {"str:cm:place-of-birth": "Oslo"}


def test_overwrite_none_clears_append_only_none_keeps(workspace):
    merge(
        workspace,
        [PersonRow(None, {"str::email": "a@example.com", "str::first": "Ada", "dtz::b": "1815-12-10"})],
    )

    merge(workspace, [PersonRow(None, {"str::email": "a@example.com", "str::first": None})], strategy=1)
    assert person(workspace, "a@example.com").first_name == "Ada"

    [result] = merge(
        workspace, [PersonRow(None, {"str::email": "a@example.com", "str::first": None, "dtz::b": None})]
    )
    ada = person(workspace, "a@example.com")
    assert (ada.first_name, ada.birthday) == ("", None)
    assert result.changed_fields == ("str::first", "dtz::b")


def test_fields_not_sent_are_kept(workspace):
    merge(
        workspace,
        [PersonRow(None, {"str::email": "a@example.com", "str::first": "Ada", "str::last": "King"})],
    )
    merge(workspace, [PersonRow(None, {"str::email": "a@example.com", "str::first": "Augusta"})])
    ada = person(workspace, "a@example.com")
    assert (ada.first_name, ada.last_name) == ("Augusta", "King")


# ------------------------------------------------------------------ find strategies and identities


def test_find_any_matches_fallback_key_next_if_empty_does_not(workspace):
    merge(workspace, [PersonRow(None, {"str::email": "a@example.com", "phn::phone": "+61 401 234 567"})])
    row = PersonRow(None, {"str::email": "b@example.com", "phn::phone": "+61401234567", "str::first": "Bo"})

    [strict] = merge(workspace, [row], find_strategy=FindStrategy.NEXT_IF_EMPTY)
    assert strict.status == "created"
    assert Person.objects.filter(workspace=workspace).count() == 2
    Person.objects.filter(pk=strict.record_id).delete()

    [loose] = merge(workspace, [row], find_strategy=FindStrategy.ANY, strategy=MergeStrategy.APPEND_ONLY)
    assert loose.status == "merged"
    found = Person.objects.get(workspace=workspace)
    assert (found.email, found.first_name, found.phone) == ("a@example.com", "Bo", "+61401234567")


def test_next_if_empty_matches_fallback_when_previous_key_is_empty(workspace):
    [first] = merge(workspace, [PersonRow(None, {"phn::phone": "0401 234 567", "str::first": "Noemail"})])
    [second] = merge(
        workspace,
        [PersonRow(None, {"str::email": "n@example.com", "phn::phone": "0401234567"})],
        find_strategy=FindStrategy.NEXT_IF_EMPTY,
    )
    assert (second.status, second.record_id) == ("merged", first.record_id)
    assert person(workspace, "n@example.com").first_name == "Noemail"


def test_record_id_comes_first_and_attaches_to_the_email_match(workspace):
    [by_email] = merge(workspace, [PersonRow(None, {"str::email": "a@example.com"})])
    [linked] = merge(workspace, [PersonRow(contact(1), {"str::email": "A@Example.com", "str::first": "Ada"})])
    assert (linked.status, linked.record_id) == ("merged", by_email.record_id)

    # The record id now wins even when the row's email changes.
    [moved] = merge(workspace, [PersonRow(contact(1), {"str::email": "ada@new.example.com"})])
    assert moved.record_id == by_email.record_id
    assert person(workspace, "ada@new.example.com").first_name == "Ada"
    assert list(Identity.objects.values_list("object", "external_id", "person_id")) == [
        ("Contact", "0031", by_email.record_id)
    ]


def test_next_if_empty_refuses_email_of_a_person_with_another_record_of_that_object(workspace):
    merge(workspace, [PersonRow(contact(1), {"str::email": "dup@example.com"})])
    [result] = merge(
        workspace,
        [PersonRow(contact(2), {"str::email": "dup@example.com"})],
        find_strategy=FindStrategy.NEXT_IF_EMPTY,
    )
    assert result == MergeResult(
        "invalid", None, "str::email: dup@example.com already belongs to another person"
    )
    assert Person.objects.count() == 1
    assert Identity.objects.count() == 1


def test_lead_converted_to_contact_merges_under_next_if_empty(workspace):
    merge(workspace, [PersonRow(IdentityKey(SRC, "Lead", "00Q1"), {"str::email": "lee@example.com"})])
    [result] = merge(
        workspace,
        [PersonRow(contact(9), {"str::email": "lee@example.com"})],
        find_strategy=FindStrategy.NEXT_IF_EMPTY,
    )
    assert result.status == "merged"
    assert sorted(Identity.objects.filter(person_id=result.record_id).values_list("object", flat=True)) == [
        "Contact",
        "Lead",
    ]


def test_changing_email_to_one_another_person_holds_is_invalid(workspace):
    merge(
        workspace,
        [
            PersonRow(contact(1), {"str::email": "one@example.com"}),
            PersonRow(contact(2), {"str::email": "two@example.com"}),
        ],
    )
    [result] = merge(workspace, [PersonRow(contact(1), {"str::email": "TWO@example.com", "str::first": "X"})])
    assert result.status == "invalid"
    assert result.reason == "str::email: TWO@example.com already belongs to another person"
    assert person(workspace, "one@example.com").first_name == ""


def test_rows_naming_the_same_person_merge_within_a_batch_in_order(workspace):
    results = merge(
        workspace,
        [
            PersonRow(
                contact(1), {"str::email": "a@example.com", "str::first": "Ada", "geo::city": "London"}
            ),
            PersonRow(contact(2), {"str::email": "A@EXAMPLE.COM", "str::first": "Augusta"}),
            PersonRow(contact(2), {"geo::city": None}),
        ],
    )
    assert [r.status for r in results] == ["created", "merged", "merged"]
    assert len({r.record_id for r in results}) == 1
    ada = Person.objects.get()
    assert (ada.first_name, ada.city) == ("Augusta", "")
    assert Identity.objects.filter(person=ada).count() == 2


def test_ignore_strategy_within_a_batch_creates_once_and_ignores_the_rest(workspace):
    results = merge(
        workspace,
        [
            PersonRow(None, {"str::email": "a@example.com", "str::first": "First"}),
            PersonRow(None, {"str::email": "a@example.com", "str::first": "Second"}),
        ],
        strategy=MergeStrategy.IGNORE,
    )
    assert [r.status for r in results] == ["created", "ignored"]
    assert results[1].record_id == results[0].record_id
    assert Person.objects.get().first_name == "First"


def test_workspaces_are_isolated(workspace, make_workspace):
    other = make_workspace(name="Other")
    merge(workspace, [PersonRow(contact(1), {"str::email": "a@example.com", "str::first": "Mine"})])
    [result] = merge_people(
        workspace=other, rows=[PersonRow(contact(1), {"str::email": "a@example.com"})], source=SRC
    )
    assert result.status == "created"
    assert Person.objects.filter(workspace=workspace).get().first_name == "Mine"
    assert Person.objects.filter(workspace=other).get().first_name == ""


# ------------------------------------------------------------------ bad input


def test_bad_rows_come_back_invalid_with_reasons_and_the_rest_is_applied(workspace):
    field_definition_ensure(workspace=workspace, field_id="int:cm:score", name="Score")
    field_definition_ensure(
        workspace=workspace, field_id="dec:cm:ltv", name="Lifetime value", display_type="currency"
    )
    rows = [
        PersonRow(None, {"str::email": "ok1@example.com", "int:cm:score": 7, "dec:cm:ltv": 19.99}),
        PersonRow(None, {"str::email": "wrong@example.com", "int:cm:score": "7"}),
        PersonRow(None, {"str::email": "date@example.com", "dtz::b": "31/12/1990"}),
        PersonRow(None, {"str::email": "phone@example.com", "phn::phone": "call me"}),
        PersonRow(None, {"str::email": "not-an-email"}),
        PersonRow(None, {"str::email": "long@example.com", "str::first": "x" * 100_000}),
        PersonRow(None, {"str::email": "unknown@example.com", "str:cm:nope": "x"}),
        PersonRow(None, {"str::first": "Nobody"}),
        PersonRow(None, {"str::email": "ro@example.com", "c": "2020-01-01T00:00:00Z"}),
        PersonRow(None, {"str::email": "ok2@example.com", "bol::gdpr": True}),
    ]

    results = merge(workspace, rows)

    assert [(r.status, r.reason) for r in results] == [
        ("created", ""),
        ("invalid", "int:cm:score: expected a whole number, got str '7'"),
        ("invalid", "dtz::b: '31/12/1990' is not a date (expected YYYY-MM-DD)"),
        ("invalid", "phn::phone: 'call me' is not a phone number"),
        ("invalid", "str::email: 'not-an-email' is not an email address"),
        ("invalid", "str::first: text of 100000 characters is longer than the limit of 255"),
        ("invalid", "str:cm:nope: no such person field in this workspace"),
        ("invalid", "no identity key: the row has no record id and no value for str::email, phn::phone"),
        ("invalid", "c: the field is read-only"),
        ("created", ""),
    ]
    assert sorted(Person.objects.values_list("email", flat=True)) == ["ok1@example.com", "ok2@example.com"]
    ok = person(workspace, "ok1@example.com")
    assert ok.values == {"int:cm:score": 7, "dec:cm:ltv": "19.99"}
    assert Decimal(ok.values["dec:cm:ltv"]) == Decimal("19.99")


def test_read_only_builtin_field_is_refused(workspace):
    [result] = merge(workspace, [PersonRow(None, {"str::email": "a@example.com", "int::v": 10})])
    assert result == MergeResult("invalid", None, "int::v: the field is read-only")
    assert Person.objects.count() == 0


def test_merge_by_must_name_a_key_field(workspace):
    with pytest.raises(ValueError, match="cannot be a person merge key"):
        merge(workspace, [PersonRow(None, {"str::email": "a@example.com"})], merge_by=("geo::city",))


# ------------------------------------------------------------------ permissions


def test_permission_changes_are_recorded(workspace):
    [created] = merge(workspace, [PersonRow(contact(1), {"str::email": "a@example.com", "bol::sp": True})])
    merge(workspace, [PersonRow(contact(1), {"bol::p": False, "bol::sp": True})])

    history = list(
        PermissionChange.objects.order_by("id").values_list("field_id", "old_value", "new_value", "source")
    )
    assert history == [("bol::sp", None, True, SRC), ("bol::p", True, False, SRC)]
    assert PermissionChange.objects.filter(person_id=created.record_id).count() == 2


def test_unsubscribe_applies_under_append_only_but_resubscribe_does_not(workspace):
    merge(workspace, [PersonRow(None, {"str::email": "a@example.com"})])
    merge(workspace, [PersonRow(None, {"str::email": "a@example.com", "bol::p": False})], strategy=1)
    assert person(workspace, "a@example.com").email_permission is False
    merge(workspace, [PersonRow(None, {"str::email": "a@example.com", "bol::p": True})], strategy=1)
    assert person(workspace, "a@example.com").email_permission is False


@pytest.mark.parametrize(("sticky", "after"), [(True, False), (False, True)])
def test_sticky_unsubscribe_made_in_the_cdp_survives_a_source_resubscribe(workspace, owner, sticky, after):
    workspace.sticky_unsubscribe = sticky
    workspace.save(update_fields=["sticky_unsubscribe"])
    [result] = merge(workspace, [PersonRow(None, {"str::email": "a@example.com"})])
    person_permission_set(
        workspace=workspace, person_id=result.record_id, field_id="bol::p", value=False, actor=owner
    )

    merge(workspace, [PersonRow(None, {"str::email": "a@example.com", "bol::p": True})])

    assert person(workspace, "a@example.com").email_permission is after
    changes = list(
        PermissionChange.objects.order_by("id").values_list("old_value", "new_value", "source", "actor")
    )
    expected = [(True, False, "inflow", owner.pk)] + ([] if sticky else [(False, True, SRC, None)])
    assert changes == expected


def test_source_unsubscribe_can_be_undone_by_the_source(workspace):
    merge(workspace, [PersonRow(None, {"str::email": "a@example.com", "bol::p": False})])
    merge(workspace, [PersonRow(None, {"str::email": "a@example.com", "bol::p": True})])
    assert person(workspace, "a@example.com").email_permission is True


# ------------------------------------------------------------------ organizations


def test_organizations_merge_by_identity_then_name_and_people_link_to_them(workspace):
    account = IdentityKey(SRC, "Account", "001A")
    [org] = merge_organizations(
        workspace=workspace,
        source=SRC,
        rows=[
            OrganizationRow(
                account, {"str:o:name": "Acme", "int:o:employees": 250.0, "str:o:website": "acme.example"}
            )
        ],
    )
    [again] = merge_organizations(
        workspace=workspace, source=SRC, rows=[OrganizationRow(None, {"str:o:name": "ACME"})], strategy=1
    )
    assert (org.status, again.status, again.record_id) == ("created", "merged", org.record_id)

    [p] = merge(
        workspace, [PersonRow(contact(1), {"str::email": "a@acme.example"}, organization_key=account)]
    )
    acme = Organization.objects.get()
    assert (acme.name, acme.name_key, acme.employees, acme.website) == ("Acme", "acme", 250, "acme.example")
    assert Person.objects.get(pk=p.record_id).organization == acme
    assert p.changed_fields == ("str::email", "idt::o")


def test_organization_field_rejected_on_person(workspace):
    [result] = merge(workspace, [PersonRow(None, {"str::email": "a@example.com", "str:o:name": "Acme"})])
    assert result.reason == "str:o:name: no such person field in this workspace"


# ------------------------------------------------------------------ set-based and write-free re-sync


def _rows(n, *, offset=0, city="Oslo"):
    return [
        PersonRow(
            contact(i),
            {
                "str::email": f"p{i}@example.com",
                "str::first": f"P{i}",
                "geo::city": city,
                "phn::phone": f"+1415555{i:04d}",
            },
        )
        for i in range(offset, offset + n)
    ]


def _count_queries(workspace, rows):
    with CaptureQueriesContext(connection) as ctx:
        merge(workspace, rows)
    return ctx.captured_queries


def test_query_count_does_not_grow_with_the_batch(workspace):
    merge(workspace, _rows(1, offset=10_000))  # the catalogue is already there; warm every code path once
    small_new = len(_count_queries(workspace, _rows(5)))
    big_new = len(_count_queries(workspace, _rows(400, offset=100)))
    small_update = len(_count_queries(workspace, _rows(5, city="Paris")))
    big_update = len(_count_queries(workspace, _rows(400, offset=100, city="Paris")))
    assert small_new == big_new
    assert small_update == big_update
    assert big_new <= 12


def test_reapplying_an_unchanged_batch_writes_nothing(workspace):
    merge(workspace, _rows(50))
    before = list(Person.objects.order_by("pk").values())

    queries = _count_queries(workspace, _rows(50))

    writes = [
        q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))
    ]
    assert writes == []
    assert list(Person.objects.order_by("pk").values()) == before


def test_email_stays_unique_when_merging_by_phone_only(workspace):
    merge(workspace, [PersonRow(None, {"str::email": "a@example.com", "phn::phone": "+15550001"})])
    results = merge(
        workspace,
        [
            PersonRow(None, {"phn::phone": "+15550002", "str::email": "A@example.com"}),
            PersonRow(None, {"phn::phone": "+15550003", "str::first": "Three"}),
        ],
        merge_by=("phn::phone",),
    )
    assert [(r.status, r.reason) for r in results] == [
        ("invalid", "str::email: A@example.com already belongs to another person"),
        ("created", ""),
    ]
    assert Person.objects.count() == 2
