"""Activities, custom object records and archiving through the engine's contract."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cdp.merge import (
    ActivityEvent,
    CustomObjectRow,
    IdentityKey,
    OrganizationRow,
    PersonRow,
    activity_definition_ensure,
    archive_records,
    custom_object_ensure,
    custom_object_records_upsert,
    merge_organizations,
    merge_people,
    record_activities,
)
from cdp.models import Activity, CustomObjectRecord, Organization, Person

pytestmark = pytest.mark.django_db

SRC = "salesforce:1"
T0 = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)


def contact(n) -> IdentityKey:
    return IdentityKey(SRC, "Contact", f"003{n}")


@pytest.fixture
def people(workspace):
    results = merge_people(
        workspace=workspace,
        source=SRC,
        rows=[PersonRow(contact(i), {"str::email": f"p{i}@example.com"}) for i in range(300)],
    )
    activity_definition_ensure(
        workspace=workspace, activity_id="act:sft:task-completed", name="Task completed"
    )
    return [r.record_id for r in results]


def _events(n, *, start=0):
    return [
        ActivityEvent(
            "act:sft:task-completed",
            f"task-{i}",
            T0 + dt.timedelta(minutes=i),
            person_key=contact(i % 300),
            attributes={"str:sft:subject": f"Call {i}"},
            source=SRC,
        )
        for i in range(start, start + n)
    ]


def test_recording_the_same_events_twice_stores_them_once(workspace, people):
    assert record_activities(workspace=workspace, events=_events(10)) == 10
    assert record_activities(workspace=workspace, events=_events(12)) == 2
    assert Activity.objects.filter(workspace=workspace).count() == 12
    stored = Activity.objects.get(source_key="task-3")
    assert (stored.person_id, stored.attributes, stored.occurred_at) == (
        people[3],
        {"str:sft:subject": "Call 3"},
        T0 + dt.timedelta(minutes=3),
    )


def test_activities_move_first_and_last_seen(workspace, people):
    record_activities(
        workspace=workspace,
        events=[
            ActivityEvent("act:sft:task-completed", "late", T0, person_key=contact(1)),
            ActivityEvent(
                "act:sft:task-completed", "early", T0 - dt.timedelta(days=3), person_key=contact(1)
            ),
        ],
    )
    person = Person.objects.get(pk=people[1])
    assert (person.first_seen, person.last_seen) == (T0 - dt.timedelta(days=3), T0)


def test_events_of_unknown_people_are_skipped_and_unknown_definitions_refused(
    workspace, people, make_workspace
):
    other = make_workspace(name="Other")
    [stranger] = merge_people(
        workspace=other, source=SRC, rows=[PersonRow(None, {"str::email": "x@example.com"})]
    )
    stored = record_activities(
        workspace=workspace,
        events=[
            ActivityEvent("act:sft:task-completed", "nobody", T0, person_key=contact("missing")),
            ActivityEvent("act:sft:task-completed", "foreign", T0, person_id=stranger.record_id),
            ActivityEvent("act:sft:task-completed", "direct", T0, person_id=people[0]),
        ],
    )
    assert stored == 1
    assert list(Activity.objects.values_list("source_key", flat=True)) == ["direct"]
    with pytest.raises(ValueError, match="no activity definition"):
        record_activities(
            workspace=workspace, events=[ActivityEvent("act:cm:nope", "k", T0, person_id=people[0])]
        )


def test_builtin_activity_definitions_are_available(workspace, people):
    assert (
        record_activities(
            workspace=workspace, events=[ActivityEvent("act::o", "open-1", T0, person_id=people[0])]
        )
        == 1
    )
    assert Activity.objects.get().definition.name == "Opened email"


def test_record_activities_query_count_is_constant(workspace, people):
    record_activities(workspace=workspace, events=_events(1, start=5000))
    counts = []
    for n, start in ((5, 0), (250, 100)):
        with CaptureQueriesContext(connection) as ctx:
            record_activities(workspace=workspace, events=_events(n, start=start))
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_archive_is_soft_and_a_later_merge_restores(workspace, people):
    account = IdentityKey(SRC, "Account", "001A")
    merge_organizations(
        workspace=workspace, source=SRC, rows=[OrganizationRow(account, {"str:o:name": "Acme"})]
    )

    archived = archive_records(
        workspace=workspace, keys=[contact(1), contact(2), account, contact("missing")]
    )
    again = archive_records(workspace=workspace, keys=[contact(1)])

    assert (archived, again) == (3, 0)
    assert Person.objects.filter(archived_at__isnull=False).count() == 2
    assert Person.objects.count() == 300
    assert Organization.objects.get().archived_at is not None
    [restored] = merge_people(
        workspace=workspace, source=SRC, rows=[PersonRow(contact(1), {"str::first": "Back"})]
    )
    assert restored.changed_fields == ("str::first", "a")
    assert Person.objects.get(pk=people[1]).archived_at is None


def test_custom_object_records_upsert_links_and_archive(workspace, people):
    account = IdentityKey(SRC, "Account", "001A")
    merge_organizations(
        workspace=workspace, source=SRC, rows=[OrganizationRow(account, {"str:o:name": "Acme"})]
    )
    subs = custom_object_ensure(
        workspace=workspace,
        source=SRC,
        object_name="Subscription__c",
        name="Subscriptions",
        fields=[{"id": "int:soc:seats", "name": "Seats", "display_type": "integer"}],
    )

    first = custom_object_records_upsert(
        workspace=workspace,
        custom_object=subs,
        rows=[
            CustomObjectRow(
                "a01",
                {"int:soc:seats": 5, "str:soc:plan": "Pro"},
                name="SUB-1",
                person_keys=(contact(1), contact(2)),
                organization_keys=(account,),
            ),
            CustomObjectRow("a02", {"int:soc:seats": "many"}),
            CustomObjectRow("", {}),
        ],
    )
    assert [(r.status, r.reason) for r in first] == [
        ("created", ""),
        ("invalid", "int:soc:seats: expected a whole number, got str 'many'"),
        ("invalid", "external_id must be 1-255 characters"),
    ]
    second = custom_object_records_upsert(
        workspace=workspace,
        custom_object=subs,
        rows=[
            CustomObjectRow(
                "a01", {"int:soc:seats": 6, "str:soc:plan": None}, person_keys=(contact(2), contact(3))
            ),
        ],
    )
    record = CustomObjectRecord.objects.get()
    assert (second[0].status, second[0].changed_fields) == ("merged", ("int:soc:seats", "str:soc:plan"))
    assert record.values == {"int:soc:seats": 6}
    assert sorted(record.people.values_list("pk", flat=True)) == [people[2], people[3]]
    assert record.organizations.get().name == "Acme"
    unchanged = custom_object_records_upsert(
        workspace=workspace, custom_object=subs, rows=[CustomObjectRow("a01", {"int:soc:seats": 6})]
    )
    assert unchanged[0].changed_fields == ()

    assert archive_records(workspace=workspace, keys=[IdentityKey(SRC, "Subscription__c", "a01")]) == 1
    assert CustomObjectRecord.objects.get().archived_at is not None
