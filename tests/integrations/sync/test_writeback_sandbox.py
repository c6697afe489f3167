"""Permission write-back and Person Accounts against the sandbox org process (real HTTP, real DB).

An unsubscribe made in Inflow is on the Salesforce record after one run and does not come back as a
change from Salesforce; a write-back during an outage is delivered after it; a write-back Salesforce
refuses becomes a SyncError with Salesforce's message and leaves the person's permission as the user set
it; a Person Account becomes an organization and a person, and its permission is written to the Account.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from cdp.models import Identity, Organization, PermissionChange, Person
from cdp.services import person_permission_set
from integrations import sync_settings
from integrations.models import PermissionWriteback, SyncError, SyncRun
from tests.integrations.sync.conftest import connect, run_inline, select_objects

pytestmark = pytest.mark.django_db

BOTH = {**sync_settings.DEFAULT_EMAIL_RULE, "direction": "both"}


def _setup(
    make_sandbox_org, workspace, *, contacts=60, seed=11, objects=("Account", "Contact", "Lead"), **extra
):
    org = make_sandbox_org(contacts=contacts, seed=seed)
    connection = connect(workspace, org)
    synced = select_objects(connection, objects, **extra)
    for name in ("Contact", "Lead"):
        if name in synced:
            sync_settings.permission_rules_set(synced_object=synced[name], email=BOTH, sms=None)
    assert run_inline(connection).state == SyncRun.State.SUCCEEDED
    return org, connection, synced


def _subscribed_contact(org, workspace):
    for contact in org.records("Contact"):
        if contact.get("HasOptedOutOfEmail") or not contact.get("Email"):
            continue
        identity = Identity.objects.filter(
            workspace=workspace, object="Contact", external_id=contact["Id"]
        ).first()
        if identity and identity.person.email_permission and identity.person.archived_at is None:
            return contact, identity.person
    raise AssertionError("no subscribed contact in the org")


def _record(org, sobject, sf_id):
    return next(r for r in org.records(sobject, include_deleted=True) if r["Id"] == sf_id)


def test_an_unsubscribe_in_inflow_is_on_salesforce_after_one_run_and_does_not_come_back(
    make_sandbox_org, workspace, owner, owner_client, sf_settings
):
    org, connection, _ = _setup(make_sandbox_org, workspace)
    contact, person = _subscribed_contact(org, workspace)
    linked = Identity.objects.filter(
        workspace=workspace, person=person, object__in=("Contact", "Lead")
    ).count()

    person_permission_set(
        workspace=workspace, person_id=person.pk, field_id="bol::p", value=False, actor=owner
    )
    queued = PermissionWriteback.objects.filter(person=person)
    assert queued.count() == linked and {r.state for r in queued} == {"pending"}
    calls_before = org.request_log().get("compositeSObjects", 0)

    run = run_inline(connection)

    assert run.state == SyncRun.State.SUCCEEDED
    after = _record(org, "Contact", contact["Id"])
    assert after["HasOptedOutOfEmail"] is True and after["SystemModstamp"] > contact["SystemModstamp"]
    assert org.request_log()["compositeSObjects"] - calls_before == 1  # every linked record in one call
    row = PermissionWriteback.objects.get(person=person, sf_id=contact["Id"])
    assert row.state == "sent"
    assert row.written_modstamp.strftime("%Y-%m-%dT%H:%M:%S.%f")[:23] == after["SystemModstamp"][:23]
    # The run read the record back (its new SystemModstamp is past the watermark) and saw only our write.
    person.refresh_from_db()
    assert person.email_permission is False and person.email_permission_source == "inflow"
    assert list(PermissionChange.objects.filter(person=person).values_list("source", "new_value")) == [
        ("inflow", False)
    ]
    page = owner_client.get(reverse("cdp:person", args=[person.pk])).content.decode()
    assert f"Written to Salesforce Contact {contact['Id']}" in page

    # Nothing left to write; the next run writes nothing and records no change.
    run_inline(connection)
    assert org.request_log()["compositeSObjects"] - calls_before == 1
    assert PermissionChange.objects.filter(person=person).count() == 1


def test_a_subscribe_in_inflow_clears_the_opt_out_on_every_linked_record(
    make_sandbox_org, workspace, owner, sf_settings
):
    org, connection, _ = _setup(make_sandbox_org, workspace, seed=12)
    opted_out = next(c for c in org.records("Contact") if c.get("HasOptedOutOfEmail") and c.get("Email"))
    person = Identity.objects.get(workspace=workspace, object="Contact", external_id=opted_out["Id"]).person
    assert person.email_permission is False

    person_permission_set(
        workspace=workspace, person_id=person.pk, field_id="bol::p", value=True, actor=owner
    )
    run_inline(connection)

    assert _record(org, "Contact", opted_out["Id"])["HasOptedOutOfEmail"] is False
    person.refresh_from_db()
    assert person.email_permission is True
    latest = PermissionChange.objects.filter(person=person).order_by("-changed_at", "-id").first()
    assert (latest.source, latest.new_value) == ("inflow", True)  # the echo added no change after it


def test_a_write_back_during_an_outage_is_delivered_after_it(
    make_sandbox_org, workspace, owner, settings, sf_settings
):
    settings.SYNC_WRITEBACK_RETRY_SECONDS = 0
    # An outage longer than the client rides out (a short one is retried through within the call).
    settings.SYNC_OUTAGE_RETRY_SECONDS = 1
    org, connection, _ = _setup(make_sandbox_org, workspace, seed=13)
    contact, person = _subscribed_contact(org, workspace)
    person_permission_set(
        workspace=workspace, person_id=person.pk, field_id="bol::p", value=False, actor=owner
    )

    # Salesforce answers nothing but 503 for the write-back's first call and every retry of it.
    org.faults(fail_next=50, fail_status=503)
    run_inline(connection)
    row = PermissionWriteback.objects.get(person=person, sf_id=contact["Id"])
    assert (row.state, row.attempts) == ("pending", 1)
    assert "SERVER_UNAVAILABLE" in row.last_error or "503" in row.last_error
    assert not _record(org, "Contact", contact["Id"]).get("HasOptedOutOfEmail")

    org.reset_faults()
    from integrations.salesforce import tasks

    assert tasks.writeback_task(connection.pk).startswith("sent ")  # what the django-q task runs
    row.refresh_from_db()
    assert row.state == "sent"
    assert _record(org, "Contact", contact["Id"])["HasOptedOutOfEmail"] is True
    person.refresh_from_db()
    assert person.email_permission is False


def test_a_write_back_salesforce_refuses_is_a_sync_error_and_inflow_keeps_the_users_choice(
    make_sandbox_org, workspace, owner, sf_settings
):
    org, connection, _ = _setup(make_sandbox_org, workspace, seed=14)
    contact, person = _subscribed_contact(org, workspace)
    deleted_contact, deleted_person = None, None
    for candidate in org.records("Contact"):
        ident = Identity.objects.filter(
            workspace=workspace, object="Contact", external_id=candidate["Id"]
        ).first()
        if (
            ident
            and ident.person_id != person.pk
            and ident.person.email_permission
            and not candidate.get("HasOptedOutOfEmail")
        ):
            deleted_contact, deleted_person = candidate, ident.person
            break
    org.churn(
        validation_rule="Contact.HasOptedOutOfEmail=true", rule_message="Opt-outs are recorded by Legal only."
    )
    token = org.token()["access_token"]
    response = org.session().delete(
        f"{org.url}/services/data/v62.0/sobjects/Contact/{deleted_contact['Id']}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 204

    for someone in (person, deleted_person):
        person_permission_set(
            workspace=workspace, person_id=someone.pk, field_id="bol::p", value=False, actor=owner
        )
    run = run_inline(connection)

    assert run.state == SyncRun.State.SUCCEEDED
    refused = SyncError.objects.get(connection=connection, error_type="writeback", sf_id=contact["Id"])
    assert "Opt-outs are recorded by Legal only." in refused.message
    assert "FIELD_CUSTOM_VALIDATION_EXCEPTION" in refused.message and not refused.resolved
    gone = SyncError.objects.get(connection=connection, error_type="writeback", sf_id=deleted_contact["Id"])
    assert "entity is deleted" in gone.message
    assert not _record(org, "Contact", contact["Id"]).get("HasOptedOutOfEmail")
    for someone in (person, deleted_person):
        someone.refresh_from_db()
        assert someone.email_permission is False  # as the user set it
    assert PermissionWriteback.objects.get(person=person, sf_id=contact["Id"]).state == "failed"

    # Retrying writes it again; Salesforce refuses again, so the error stays open (one error, seen twice).
    from integrations.salesforce.engine.retry import retry_errors

    assert retry_errors(connection, [refused]) == {"retried": 1, "resolved": 0}
    refused.refresh_from_db()
    assert not refused.resolved and refused.occurrences == 2


def test_a_person_account_becomes_an_organization_and_a_person_and_writes_through_the_account(
    make_sandbox_org, workspace, owner, sf_settings
):
    org = make_sandbox_org(contacts=40, seed=15)
    org.manage("sandbox_seed", "--if-empty", "--person-accounts", "4", "--seed", "15")
    connection = connect(workspace, org)
    synced = select_objects(
        connection, ("Account", "Contact"), extra_fields={"Account": ("Loyalty_Number__pc",)}
    )
    rule = {**synced["Account"].email_permission, "direction": "both"}
    sync_settings.permission_rules_set(synced_object=synced["Account"], email=rule, sms=None)
    assert run_inline(connection).state == SyncRun.State.SUCCEEDED

    person_accounts = [a for a in org.records("Account") if a.get("IsPersonAccount")]
    assert len(person_accounts) == 4
    for account in person_accounts:
        organization = Identity.objects.get(
            workspace=workspace, object="Account", external_id=account["Id"]
        ).organization
        person = Identity.objects.get(
            workspace=workspace, object="PersonAccount", external_id=account["Id"]
        ).person
        assert organization.name == f"{account['FirstName']} {account['LastName']}"
        assert person.email_key == account["PersonEmail"].lower()
        assert (person.first_name, person.last_name) == (account["FirstName"], account["LastName"])
        assert person.organization_id == organization.pk
        assert person.values.get("str:scc:loyalty-number") == account["Loyalty_Number__pc"]
        assert person.email_permission is (not account.get("PersonHasOptedOutOfEmail"))
    business = [a for a in org.records("Account") if not a.get("IsPersonAccount")]
    assert Organization.objects.filter(workspace=workspace).count() >= len(business) + 4
    assert not Identity.objects.filter(
        workspace=workspace, object="PersonAccount", external_id=business[0]["Id"]
    ).exists()

    target = next(a for a in person_accounts if not a.get("PersonHasOptedOutOfEmail"))
    person = Identity.objects.get(
        workspace=workspace, object="PersonAccount", external_id=target["Id"]
    ).person
    person_permission_set(
        workspace=workspace, person_id=person.pk, field_id="bol::p", value=False, actor=owner
    )
    run_inline(connection)
    written = _record(org, "Account", target["Id"])
    assert written["PersonHasOptedOutOfEmail"] is True
    row = PermissionWriteback.objects.get(person=person)
    assert (row.object_name, row.sf_field, row.state) == ("Account", "PersonHasOptedOutOfEmail", "sent")
    assert Person.objects.get(pk=person.pk).email_permission is False
