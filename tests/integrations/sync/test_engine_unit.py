"""The engine over a mocked transport (`responses`): paging, watermark, skip, window split, locator expiry.

The real-HTTP tests against the sandbox org process live in test_sync_sandbox.py.
"""

from __future__ import annotations

import pytest
import responses

from cdp.models import Activity, Organization, Person
from integrations import sync_settings
from integrations.models import SourceRecord, SyncedObject, SyncError, SyncRun
from integrations.salesforce import page_apply, tasks
from integrations.salesforce.engine.runner import run_sync
from tests.integrations.sync.fake_org import INSTANCE, FakeOrg, stamp

pytestmark = pytest.mark.django_db

CONTACT_FIELDS = [
    "Id",
    "SystemModstamp",
    "IsDeleted",
    "CreatedDate",
    "Email",
    "FirstName",
    "LastName",
    "AccountId",
    "HasOptedOutOfEmail",
    "LeadSource",
]


def contact(n, minute, **extra):
    return {
        "Id": f"003000000000{n:03d}AAA",
        "SystemModstamp": stamp(minute),
        "IsDeleted": False,
        "CreatedDate": stamp(minute),
        "Email": f"p{n}@acme.example",
        "FirstName": f"P{n}",
        "LastName": "Doe",
        "AccountId": "001000000000001AAA",
        "HasOptedOutOfEmail": n % 2 == 0,
        "LeadSource": "Web",
        **extra,
    }


@pytest.fixture
def org(plain_connection, settings):
    settings.SYNC_ACTIVITY_BACKFILL_DAYS = 100000
    plain_connection.instance_url = INSTANCE
    plain_connection.save()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakeOrg(rsps, page_size=2)
        fake.add(
            "Account",
            ["Id", "SystemModstamp", "IsDeleted", "CreatedDate", "Name"],
            [
                {
                    "Id": "001000000000001AAA",
                    "SystemModstamp": stamp(0),
                    "IsDeleted": False,
                    "CreatedDate": stamp(0),
                    "Name": "Acme",
                }
            ],
        )
        fake.add("Contact", CONTACT_FIELDS, [contact(i, i) for i in range(1, 6)])
        account = sync_settings.synced_object_ensure(connection=plain_connection, api_name="Account")
        sync_settings.field_selection_save(synced_object=account, fields=[{"name": "Name", "type": "string"}])
        obj = sync_settings.synced_object_ensure(connection=plain_connection, api_name="Contact")
        sync_settings.field_selection_save(
            synced_object=obj,
            fields=[
                {"name": n, "type": t}
                for n, t in (("FirstName", "string"), ("LastName", "string"), ("LeadSource", "picklist"))
            ],
        )
        yield fake


def run(connection):
    r, _ = tasks.sync_request(connection=connection, enqueue=False)
    return r if r.state == SyncRun.State.SKIPPED else run_sync(r.pk)


def test_backfill_pages_from_the_watermark_and_a_second_run_costs_two_calls_per_object(
    org, plain_connection, workspace
):
    first = run(plain_connection)

    assert (first.state, first.kind, first.fetched, first.created, first.failed) == (
        "succeeded",
        "initial",
        6,
        6,
        0,
    )
    assert sorted(Person.objects.filter(workspace=workspace).values_list("email", "email_permission")) == [
        ("p1@acme.example", True),
        ("p2@acme.example", False),
        ("p3@acme.example", True),
        ("p4@acme.example", False),
        ("p5@acme.example", True),
    ]
    assert set(Person.objects.values_list("organization__name", flat=True)) == {"Acme"}
    assert Person.objects.get(email="p1@acme.example").values["str:sfc:lead-source"] == "Web"
    assert Activity.objects.filter(definition__activity_id="act:sfc:contact-created").count() == 5
    contact = SyncedObject.objects.get(api_name="Contact")
    assert (contact.watermark_modstamp.isoformat(), contact.watermark_id) == (
        "2026-11-20T00:05:00+00:00",
        "003000000000005AAA",
    )
    # Account: describe + count + 1 page; Contact: describe + count + 3 pages of 2.
    assert first.api_calls == 8
    assert first.progress["Contact"] == {"total": 5, "done": 5, "api_calls": 5, "state": "done"}

    org.calls.clear()
    second = run(plain_connection)

    assert (second.kind, second.state, second.created, second.merged) == ("incremental", "succeeded", 0, 0)
    assert second.api_calls == 4  # describe + one query per object
    assert second.fetched == 2  # the rows at the watermark, re-read with >= and skipped
    assert Activity.objects.count() == 5


def test_incremental_applies_exactly_the_changes_and_records_no_duplicate_activity(org, plain_connection):
    run(plain_connection)
    org.objects["Contact"][0].update(SystemModstamp=stamp(30), FirstName="Changed")
    org.objects["Contact"].append(contact(6, 31))

    second = run(plain_connection)

    assert (second.created, second.merged) == (1, 1)
    assert Person.objects.get(email="p1@acme.example").first_name == "Changed"
    assert Activity.objects.count() == 6


def test_query_timeout_narrows_the_window_and_loses_nothing(org, plain_connection):
    org.fail_next = [
        (400, [{"errorCode": "QUERY_TIMEOUT", "message": "Your query request was running for too long."}])
    ]
    org.objects.pop("Account")
    org.fields.pop("Account")
    SyncedObject.objects.filter(api_name="Account").delete()

    result = run(plain_connection)

    assert (result.state, result.created) == ("succeeded", 5)
    assert Person.objects.count() == 5


def test_expired_locator_requeries_from_the_checkpoint(org, plain_connection):
    SyncedObject.objects.filter(api_name="Account").delete()
    org.fail_more = [(400, [{"errorCode": "INVALID_QUERY_LOCATOR", "message": "invalid query locator"}])]
    result = run(plain_connection)

    assert (result.state, result.created) == ("succeeded", 5)
    assert (
        SyncError.objects.filter(
            error_type="api", message__contains="re-reading from the last saved page"
        ).count()
        == 1
    )
    assert SourceRecord.objects.filter(object_name="Contact").count() == 5


def test_api_budget_pauses_cleanly_and_the_next_window_resumes(org, plain_connection, settings):
    plain_connection.api_budget_percent = 1
    plain_connection.save()
    org.used = 148  # of 15,000: the 1% budget is reached after two more calls

    paused = run(plain_connection)

    assert paused.state == "paused"
    assert paused.state_reason.startswith("paused: API budget (150 of 15,000")
    skipped = run(plain_connection)
    assert skipped.state == "skipped" and "API budget" in skipped.state_reason

    plain_connection.api_budget_percent = 50
    plain_connection.save()
    settings.SYNC_BUDGET_RETRY_MINUTES = 0
    resumed = run(plain_connection)
    assert resumed.state == "succeeded"
    assert Person.objects.count() == 5
    assert Organization.objects.count() == 1


def test_second_sync_now_joins_the_active_run(org, plain_connection):
    first, created = tasks.sync_request(connection=plain_connection, enqueue=False)
    second, created_again = tasks.sync_request(connection=plain_connection, enqueue=False)
    assert (created, created_again, second.pk) == (True, False, first.pk)
    assert SyncRun.objects.count() == 1


def test_paused_connection_is_skipped_saying_why(org, plain_connection):
    plain_connection.status = "paused"
    plain_connection.status_reason = "Paused by an admin"
    plain_connection.save()
    r, created = tasks.sync_request(connection=plain_connection, enqueue=False)
    assert (created, r.state, r.state_reason) == (
        False,
        "skipped",
        "skipped: the connection is paused (Paused by an admin)",
    )
    again, _ = tasks.sync_request(connection=plain_connection, enqueue=False)
    assert again.pk == r.pk  # every schedule tick does not add a row
    assert SyncRun.objects.count() == 1
    assert Person.objects.count() == 0


def test_an_unexpected_error_fails_the_run_visibly_and_the_next_run_resumes(
    org, plain_connection, monkeypatch
):
    real = page_apply.store_source_records
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(page_apply, "store_source_records", flaky)
    with pytest.raises(RuntimeError):
        run(plain_connection)
    failed = SyncRun.objects.get()
    assert (failed.state, failed.state_reason) == ("failed", "failed: unexpected RuntimeError")
    assert SyncError.objects.get(error_type="internal").message == (
        "Inflow stopped on an unexpected error: RuntimeError: disk full"
    )
    resumed = run(plain_connection)
    assert resumed.state == "succeeded"
    assert Person.objects.count() == 5
