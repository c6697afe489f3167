"""The engine against the sandbox org process over real HTTP: backfill, incremental, deletes, conversions."""

from __future__ import annotations

from collections import defaultdict

import pytest

from cdp.models import Activity, Identity, Organization, Person
from integrations.models import SourceRecord, SyncError
from tests.integrations.sync.conftest import connect, run_inline, select_objects

pytestmark = pytest.mark.django_db


def valid_email(value):
    from cdp.fields import FieldValueError, convert_email

    try:
        email = convert_email(value) if value else None
    except FieldValueError:
        return None
    return email.lower() if email else None


def person_of(obj, sf_id):
    return Identity.objects.get(object=obj, external_id=sf_id).person


def activity_count(activity_id):
    return Activity.objects.filter(definition__activity_id=activity_id).count()


def test_backfill_equals_the_seeded_org(sandbox_org, sf_settings, workspace):
    connection = connect(workspace, sandbox_org)
    select_objects(connection)

    run = run_inline(connection)

    assert (run.state, run.state_reason) == ("succeeded", "")
    contacts, leads = sandbox_org.records("Contact"), sandbox_org.records("Lead")
    accounts = {a["Id"]: a for a in sandbox_org.records("Account")}
    # Every record of the selected objects, those in the recycle bin too (they went there with the
    # records they belong to: an account's contacts, a contact's roles and memberships, ...).
    assert run.fetched == sum(
        len(sandbox_org.records(n, include_deleted=True))
        for n in (
            "Account",
            "Contact",
            "Lead",
            "Campaign",
            "CampaignMember",
            "Opportunity",
            "OpportunityContactRole",
            "Task",
        )
    )
    # Every contact and lead is a person; one person per valid email; a converted lead is its contact's person.
    by_email = defaultdict(set)
    for obj, rows in (("Contact", contacts), ("Lead", leads)):
        for row in rows:
            person = person_of(obj, row["Id"])
            if email := valid_email(row.get("Email")):
                by_email[email].add(person.pk)
                assert person.email_key == email
    assert all(len(ids) == 1 for ids in by_email.values())
    for lead in leads:
        if lead.get("IsConverted") and lead.get("ConvertedContactId"):
            assert person_of("Lead", lead["Id"]) == person_of("Contact", lead["ConvertedContactId"])
    people = {i.person_id for i in Identity.objects.filter(object__in=["Contact", "Lead"])}
    assert Person.objects.count() == len(people)
    # Each account is an organization with its name; a contact's person belongs to one of its contacts' accounts.
    for account in accounts.values():
        assert (
            Identity.objects.get(object="Account", external_id=account["Id"]).organization.name
            == account["Name"]
        )
    names_by_person = defaultdict(set)
    for c in contacts:
        if c.get("AccountId") in accounts:
            names_by_person[person_of("Contact", c["Id"]).pk].add(accounts[c["AccountId"]]["Name"])
    for person_id, names in names_by_person.items():
        assert Person.objects.get(pk=person_id).organization.name in names
    # Email permission from HasOptedOutOfEmail: an opted-out contact is unsubscribed.
    for c in contacts:
        if c.get("HasOptedOutOfEmail"):
            assert person_of("Contact", c["Id"]).email_permission is False
    # Activities: every record was created within the last 90 days in the seed.
    assert activity_count("act:sfc:contact-created") == len(contacts)
    assert activity_count("act:sfl:lead-created") == len(leads)
    assert activity_count("act:sfl:lead-converted") == sum(1 for lead in leads if lead.get("IsConverted"))
    live_people = {c["Id"] for c in contacts} | {lead["Id"] for lead in leads}
    members = [
        m
        for m in sandbox_org.records("CampaignMember")
        if (m.get("ContactId") or m.get("LeadId")) in live_people
    ]
    assert activity_count("act:sfk:added-to-campaign") == len(members)
    tasks = [t for t in sandbox_org.records("Task") if t.get("WhoId") in live_people]
    assert activity_count("act:sft:task-created") == len(tasks)
    assert activity_count("act:sft:task-completed") == sum(1 for t in tasks if t.get("IsClosed"))
    live_contacts = {c["Id"] for c in contacts}
    roles = [r for r in sandbox_org.records("OpportunityContactRole") if r["ContactId"] in live_contacts]
    live_opps = {o["Id"] for o in sandbox_org.records("Opportunity")}
    assert activity_count("act:sfp:opportunity-created") == sum(
        1 for r in roles if r["OpportunityId"] in live_opps
    )
    # Soft-deleted rows in the seed are archived, never synced as live.
    deleted = [c for c in sandbox_org.records("Contact", include_deleted=True) if c["IsDeleted"]]
    assert SourceRecord.objects.filter(object_name="Contact", deleted=True).count() == len(deleted)
    # Bad emails in the seed are reported, and those people still synced (by their Salesforce id).
    bad = [c for c in contacts if c.get("Email") and not valid_email(c["Email"])]
    assert SyncError.objects.filter(object_name="Contact", error_type="mapping").count() == len(bad)
    for c in bad:
        assert person_of("Contact", c["Id"]).email == ""


def test_rereading_everything_changes_nothing_and_doubles_no_activity(sandbox_org, sf_settings, workspace):
    connection = connect(workspace, sandbox_org)
    select_objects(connection)
    run_inline(connection)
    before = (Person.objects.count(), Organization.objects.count(), Activity.objects.count())
    stamps = dict(Person.objects.values_list("pk", "updated_at"))

    full = run_inline(connection, kind="resync")
    again = run_inline(connection)

    assert (full.state, full.created, full.merged) == ("succeeded", 0, 0)
    assert full.fetched > 0
    assert (again.created, again.merged, again.activities_recorded) == (0, 0, 0)
    assert (Person.objects.count(), Organization.objects.count(), Activity.objects.count()) == before
    assert dict(Person.objects.values_list("pk", "updated_at")) == stamps
    # A no-change incremental costs at most 2 calls per object.
    assert again.api_calls <= 2 * 8


def rest(org, method, path, body=None):
    token = org.token()
    response = org.session().request(
        method,
        f"{org.url}/services/data/v62.0/{path}",
        json=body,
        headers={"Authorization": f"Bearer {token['access_token']}"},
        timeout=10,
    )
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


def test_incremental_applies_exactly_the_changes_and_soft_deletes_archive(
    make_sandbox_org, sf_settings, workspace
):
    org = make_sandbox_org(contacts=120, seed=7)
    connection = connect(workspace, org)
    select_objects(connection, ("Account", "Contact", "Lead", "Task"))
    run_inline(connection)
    contacts = org.records("Contact")
    changed, deleted = contacts[0], contacts[1]
    rest(org, "PATCH", f"sobjects/Contact/{changed['Id']}", {"FirstName": "Renamed", "Title": "Chief Tester"})
    rest(org, "DELETE", f"sobjects/Contact/{deleted['Id']}")
    new_id = rest(
        org, "POST", "sobjects/Contact", {"LastName": "Newcomer", "Email": "newcomer@inflow-test.example"}
    )["id"]
    deleted_person = person_of("Contact", deleted["Id"])
    shared = (
        Identity.objects.filter(person=deleted_person)
        .exclude(object="Contact", external_id=deleted["Id"])
        .exists()
    )
    before_people = Person.objects.count()

    run = run_inline(connection)

    assert (run.kind, run.state) == ("incremental", "succeeded")
    assert (run.created, run.merged, run.archived) == (1, 1, 0 if shared else 1)
    assert person_of("Contact", changed["Id"]).first_name == "Renamed"
    assert person_of("Contact", new_id).email == "newcomer@inflow-test.example"
    assert Person.objects.count() == before_people + 1
    assert (person_of("Contact", deleted["Id"]).archived_at is None) == shared
    assert SourceRecord.objects.get(object_name="Contact", sf_id=deleted["Id"]).deleted is True
    assert activity_count("act:sfc:contact-created") == len(contacts) + 1
    # A no-change run right after re-reads only the rows at each watermark.
    quiet = run_inline(connection)
    assert (quiet.created, quiet.merged, quiet.archived, quiet.activities_recorded) == (0, 0, 0, 0)
    assert quiet.api_calls <= 2 * 4


def test_hard_delete_is_archived_by_reconcile(make_sandbox_org, sf_settings, workspace):
    import sqlite3

    org = make_sandbox_org(contacts=60, seed=8)
    connection = connect(workspace, org)
    select_objects(connection, ("Account", "Contact"))
    run_inline(connection)
    account = org.records("Account")[0]
    # A hard delete leaves no trace a cursor can see (deleted and purged from the recycle bin).
    sql = "UPDATE salesforce_sandbox_record SET is_deleted = {t}, purged = {t} WHERE sf_id = {p}"
    if org.database_url.startswith("postgres"):
        import psycopg

        with psycopg.connect(org.database_url, autocommit=True) as db:
            db.execute(sql.format(t="true", p="%s"), (account["Id"],))
    else:
        with sqlite3.connect(org.db_path) as db:
            db.execute(sql.format(t="1", p="?"), (account["Id"],))
    quiet = run_inline(connection)
    assert quiet.archived == 0

    reconcile = run_inline(connection, kind="reconcile")

    assert (reconcile.state, reconcile.archived) == ("succeeded", 1), str(reconcile.progress)
    assert reconcile.progress["Account"]["hard_deleted"] == 1
    assert (
        Identity.objects.get(object="Account", external_id=account["Id"]).organization.archived_at is not None
    )
    assert Organization.objects.filter(archived_at__isnull=False).count() == 1


def test_a_record_that_fails_again_keeps_one_open_error(sandbox_org, sf_settings, workspace):
    from integrations.salesforce.engine.retry import retry_errors

    connection = connect(workspace, sandbox_org)
    select_objects(connection)
    run_inline(connection)
    open_errors = SyncError.objects.filter(resolved=False, error_type="mapping")
    first = sorted(open_errors.values_list("pk", "sf_id"))
    assert first  # the seed has contacts with bad emails

    outcome = retry_errors(connection, list(open_errors))

    # Re-read and still bad: nothing resolved, no second error, the open one counts the repeat.
    assert (outcome["retried"], outcome["resolved"]) == (len(first), 0)
    assert sorted(open_errors.values_list("pk", "sf_id")) == first
    assert set(open_errors.values_list("occurrences", flat=True)) == {2}
    assert SyncError.objects.filter(error_type="mapping").count() == len(first)


def test_an_owner_id_is_stored_as_the_users_name(sandbox_org, sf_settings, workspace):
    from cdp.models import FieldDefinition
    from integrations.models import SalesforceUserName
    from integrations.models.sync import FieldSelection

    connection = connect(workspace, sandbox_org)
    select_objects(connection, ("Contact",), extra_fields={"Contact": ("OwnerId",)})
    target = FieldSelection.objects.get(sf_field="OwnerId").target_field
    users = {u["Id"]: u["Name"] for u in sandbox_org.records("User")}
    contacts = [c for c in sandbox_org.records("Contact") if c.get("OwnerId")]
    assert contacts and users

    run_inline(connection)

    # Every synced contact's owner reads as the user's name; the names were read once and cached.
    cached = dict(SalesforceUserName.objects.filter(connection=connection).values_list("sf_id", "name"))
    assert set(cached) == {c["OwnerId"] for c in contacts}
    kind = FieldDefinition.objects.get(workspace=workspace, field_id=target).display_type
    for contact in contacts[:20]:
        person = person_of("Contact", contact["Id"])
        assert person.values[target] == users[contact["OwnerId"]], kind
