"""The Salesforce steps through the Django test client, with the org's catalogue built from describe JSON."""

from __future__ import annotations

import re

import pytest

from integrations.models import FieldSelection, SyncedObject, SyncRun
from onboarding.models import WorkspaceProfile

pytestmark = pytest.mark.django_db

DEFAULT_FIELDS = {
    "Campaign": ["Name", "Type"],
    "Contact": ["Email", "FirstName", "LastName", "HasOptedOutOfEmail", "SMS_Opt_In__c", "Email_Status__c"],
    "Lead": ["Email", "LastName", "HasOptedOutOfEmail"],
    "Opportunity": ["Name", "StageName"],
    "Task": ["Subject"],
}


def _fields_post(
    selection: dict[str, list[str]], *, objects=("Campaign", "Lead", "Opportunity", "Task")
) -> dict:
    data: dict = {f"fields__{name}": names for name, names in selection.items()}
    for name in objects:
        data[f"object__{name}"] = "on"
    return data


def _completed(workspace) -> list[str]:
    return WorkspaceProfile.objects.get(workspace=workspace).completed_steps


def test_connected_workspace_resumes_at_sync_custom_fields(owner_client, sf_workspace):
    assert owner_client.get("/onboarding/")["Location"] == "/onboarding/salesforce-fields/"
    # The connect step is done (a connection exists), so it can be revisited but not skipped past.
    assert owner_client.get("/onboarding/salesforce-merge/")["Location"] == "/onboarding/salesforce-fields/"


def test_connect_step_posts_to_the_oauth_view_and_comes_back_to_onboarding(owner_client, workspace, settings):
    from onboarding.services import profile_update

    settings.SALESFORCE_DEFAULT_LOGIN_URL = "https://login.salesforce.com"
    profile_update(workspace=workspace, data={"business_type": "b2b", "crm": "salesforce"})

    html = owner_client.get("/onboarding/salesforce-connect/").content.decode()

    assert 'action="/sources/salesforce/connect/"' in html
    assert 'name="next" value="/onboarding/"' in html
    assert "Production (login.salesforce.com)" in html and "Sandbox (test.salesforce.com)" in html
    assert "My Domain URL" in html


def test_fields_step_preselects_default_objects_with_samples_and_counter(owner_client, sf_workspace):
    html = owner_client.get("/onboarding/salesforce-fields/").content.decode()

    assert re.findall(r'name="(object__[^"]+)"', html) == [
        "object__Campaign",
        "object__Contact",
        "object__Lead",
        "object__Opportunity",
        "object__Task",
        "object__Account",  # organizations are promised: Account is a default object
    ]
    assert 'value="Email" id="f-Contact-Email" checked' in html
    assert 'value="Extra_01__c" id="f-Contact-Extra_01__c" data-field' in html  # offered, not ticked
    assert "ada@example.com" in html  # a sample value read from Salesforce
    assert "Built-in" in html and "Custom" in html
    assert "data-field-search" in html
    assert re.search(r"<span data-count-n>\d+</span> / 50 fields", html)


def test_a_51st_field_is_refused_with_a_clear_message_and_nothing_is_saved(owner_client, sf_workspace):
    contact = ["Email", "LastName"] + [f"Extra_{i:02d}__c" for i in range(1, 50)]
    assert len(contact) == 51

    response = owner_client.post(
        "/onboarding/salesforce-fields/", _fields_post({**DEFAULT_FIELDS, "Contact": contact})
    )

    assert response.status_code == 200
    assert response.context["form"].errors["fields__Contact"] == [
        "Contact has 51 fields selected, but at most 50 can sync. Deselect 1 to continue."
    ]
    assert SyncedObject.objects.count() == 0 and FieldSelection.objects.count() == 0
    assert "salesforce-fields" not in _completed(sf_workspace)


def test_the_service_refuses_a_51st_field_even_past_the_form(sf_workspace, connection):
    from django.core.exceptions import ValidationError

    from integrations import sync_settings
    from integrations.salesforce.catalog import objects_for

    contact = next(o for o in objects_for(connection=connection) if o.api_name == "Contact")
    obj = sync_settings.synced_object_ensure(connection=connection, api_name="Contact", label="Contact")
    with pytest.raises(ValidationError) as refused:
        sync_settings.field_selection_save(synced_object=obj, fields=contact.fields[:51])

    assert "at most 50 fields per object can sync" in refused.value.messages[0]
    assert FieldSelection.objects.filter(synced_object=obj).count() == 0


def test_fields_saved_once_even_when_submitted_twice(owner_client, sf_workspace, connection):
    data = _fields_post(
        {**DEFAULT_FIELDS, "Contact": DEFAULT_FIELDS["Contact"] + [f"Extra_{i:02d}__c" for i in range(1, 45)]}
    )

    first = owner_client.post("/onboarding/salesforce-fields/", data)
    second = owner_client.post("/onboarding/salesforce-fields/", data)

    assert first["Location"] == second["Location"] == "/onboarding/salesforce-permissions/"
    objects = dict(SyncedObject.objects.filter(connection=connection).values_list("api_name", "enabled"))
    # The junctions Campaign and Opportunity reach people through come along with them.
    assert objects == {
        "Campaign": True,
        "CampaignMember": True,
        "Contact": True,
        "Lead": True,
        "Opportunity": True,
        "OpportunityContactRole": True,
        "Task": True,
    }
    assert FieldSelection.objects.filter(synced_object__api_name="Contact", active=True).count() == 50
    assert FieldSelection.objects.filter(synced_object__api_name="Contact").count() == 50
    assert _completed(sf_workspace).count("salesforce-fields") == 1


def test_an_unticked_default_object_stops_syncing_but_contact_cannot(owner_client, sf_workspace, connection):
    data = _fields_post(DEFAULT_FIELDS, objects=("Lead", "Opportunity", "Task"))  # Campaign unticked

    owner_client.post("/onboarding/salesforce-fields/", data)

    assert set(
        SyncedObject.objects.filter(connection=connection, enabled=True).values_list("api_name", flat=True)
    ) == {
        "Contact",
        "Lead",
        "Opportunity",
        "OpportunityContactRole",  # Opportunity's contact roles come with it
        "Task",
    }


@pytest.fixture
def at_permissions(owner_client, sf_workspace):
    owner_client.post("/onboarding/salesforce-fields/", _fields_post(DEFAULT_FIELDS))
    return owner_client


def test_permissions_page_states_the_default(at_permissions):
    html = at_permissions.get("/onboarding/salesforce-permissions/").content.decode()

    assert "new contacts are <strong>subscribed to email</strong>" in html
    assert "Contact: email permission" in html and "Lead: SMS permission" in html
    assert "Keep unsubscribes sticky" in html


def _permissions(**overrides) -> dict:
    data = {
        "Contact__email__mode": "field",
        "Contact__email__field": "HasOptedOutOfEmail",
        "Contact__email__subscribed": "false",
        "Contact__email__unsubscribed": "true",
        "Contact__sms__mode": "field",
        "Contact__sms__field": "SMS_Opt_In__c",
        "Contact__sms__subscribed": "true",
        "Contact__sms__unsubscribed": "",
        "Lead__email__mode": "default",
        "Lead__sms__mode": "default",
        "sticky_unsubscribe": "",
    }
    return {**data, **overrides}


def test_permission_rules_are_validated(at_permissions, connection):
    response = at_permissions.post(
        "/onboarding/salesforce-permissions/",
        _permissions(Contact__email__field="", Contact__sms__subscribed="yes please"),
    )

    errors = response.context["form"].errors
    assert errors["Contact__email__field"] == ["Choose the Salesforce field that holds this permission."]
    assert errors["Contact__sms__subscribed"] == ["For a checkbox field, enter true or false."]
    contact = SyncedObject.objects.get(connection=connection, api_name="Contact")
    assert contact.sms_permission == {}


def test_permission_rules_are_saved_with_typed_values(at_permissions, connection, sf_workspace):
    response = at_permissions.post(
        "/onboarding/salesforce-permissions/",
        _permissions(
            Contact__email__field="Email_Status__c",
            Contact__email__subscribed="All Emails",
            Contact__email__unsubscribed="None",
        ),
    )

    assert response["Location"] == "/onboarding/salesforce-custom-objects/"
    contact = SyncedObject.objects.get(connection=connection, api_name="Contact")
    assert contact.email_permission == {
        "field": "Email_Status__c",
        "subscribed": "All Emails",
        "unsubscribed": "None",
    }
    assert contact.sms_permission == {"field": "SMS_Opt_In__c", "subscribed": True}
    assert SyncedObject.objects.get(connection=connection, api_name="Lead").email_permission == {}
    sf_workspace.refresh_from_db()
    assert sf_workspace.sticky_unsubscribe is False


def test_the_sync_direction_is_saved_per_object_and_channel(at_permissions, connection):
    html = at_permissions.get("/onboarding/salesforce-permissions/").content.decode()
    assert "Update Inflow from Salesforce" in html and "Keep both in sync" in html

    refused = at_permissions.post(
        "/onboarding/salesforce-permissions/",
        _permissions(
            Contact__email__field="Email_Status__c",
            Contact__email__subscribed="All Emails",
            Contact__email__unsubscribed="",
            Contact__email__direction="to_salesforce",
        ),  # a picklist with one value: Inflow could not write an unsubscribe
    )
    assert (
        "give both the value meaning subscribed"
        in refused.context["form"].errors["Contact__email__subscribed"][0]
    )
    assert SyncedObject.objects.get(connection=connection, api_name="Contact").sms_permission == {}

    at_permissions.post("/onboarding/salesforce-permissions/", _permissions(Contact__email__direction="both"))
    contact = SyncedObject.objects.get(connection=connection, api_name="Contact")
    assert contact.email_permission == {
        "field": "HasOptedOutOfEmail",
        "subscribed": False,
        "unsubscribed": True,
        "direction": "both",
    }
    assert contact.sms_permission == {
        "field": "SMS_Opt_In__c",
        "subscribed": True,
    }  # from Salesforce: not stored
    html = at_permissions.get("/onboarding/salesforce-permissions/").content.decode()
    assert re.search(r'name="Contact__email__direction" value="both"[^>]*checked', html)


@pytest.fixture
def at_custom_objects(at_permissions):
    at_permissions.post("/onboarding/salesforce-permissions/", _permissions(sticky_unsubscribe="on"))
    return at_permissions


def test_custom_objects_offers_the_other_objects_unselected(at_custom_objects):
    html = at_custom_objects.get("/onboarding/salesforce-custom-objects/").content.decode()

    names = ["Dossier__c", "Loan__c", "Instalment__c", "Organization__c"]
    assert re.findall(r'name="object__([^"]+)"', html) == names
    assert not re.search(r'name="object__Organization__c" id="id_object__Organization__c"\s+checked', html)


@pytest.fixture
def at_identifiers(at_custom_objects):
    at_custom_objects.post(
        "/onboarding/salesforce-custom-objects/",
        {"object__Organization__c": "on", "fields__Organization__c": ["Name", "Website__c", "Org_Email__c"]},
    )
    return at_custom_objects


def test_identifiers_shown_only_for_objects_inflow_cannot_link(at_identifiers):
    html = at_identifiers.get("/onboarding/salesforce-identifiers/").content.decode()

    assert 'data-identifier="Organization__c"' in html
    assert 'data-identifier="Contact"' not in html
    for label in ("Unique identifier", "Relationship to a parent object", "Reference id", "Junction object"):
        assert label in html
    assert "Sync as organizations" in html and "Sync as contacts (people)" in html


def test_identifier_needs_its_fields(at_identifiers, connection):
    response = at_identifiers.post(
        "/onboarding/salesforce-identifiers/",
        {"Organization__c__kind": "unique_identifier", "Organization__c__becomes": "organization"},
    )

    assert response.context["form"].errors["Organization__c__field"] == [
        "Required for this way of identifying records."
    ]
    org = SyncedObject.objects.get(connection=connection, api_name="Organization__c")
    assert org.identifier_kind == "automatic"


def test_identifier_for_the_organization_like_object_is_saved(at_identifiers, connection):
    response = at_identifiers.post(
        "/onboarding/salesforce-identifiers/",
        {
            "Organization__c__kind": "unique_identifier",
            "Organization__c__field": "Org_Email__c",
            "Organization__c__cdp_field": "str::email",
            "Organization__c__becomes": "person",
        },
    )

    assert response["Location"] == "/onboarding/salesforce-merge/"
    org = SyncedObject.objects.get(connection=connection, api_name="Organization__c")
    assert (org.identifier_kind, org.identifier_config, org.becomes) == (
        "unique_identifier",
        {"field": "Org_Email__c", "cdp_field": "str::email"},
        "person",
    )


@pytest.fixture
def at_merge(at_identifiers):
    at_identifiers.post(
        "/onboarding/salesforce-identifiers/",
        {
            "Organization__c__kind": "unique_identifier",
            "Organization__c__field": "Org_Email__c",
            "Organization__c__cdp_field": "str::email",
            "Organization__c__becomes": "organization",
        },
    )
    return at_identifiers


def test_merge_page_has_the_seeds_three_labels_and_advanced_options(at_merge):
    html = at_merge.get("/onboarding/salesforce-merge/").content.decode()

    for label in (
        "Import and merge new records only",
        "Import and overwrite any records that exist",
        "Import new records only",
    ):
        assert label in html
    assert '<summary class="fw-semibold">Advanced</summary>' in html
    assert "Existing records only" in html and "Merge key strategy" in html
    assert "Merge a lead that converts into its contact" in html


def test_merge_preview_uses_the_unsaved_choice_and_writes_nothing(at_merge, connection, monkeypatch):
    from integrations.salesforce.engine import preview

    seen = {}

    def fake_preview(candidate, *, sample):
        seen.update(strategy=candidate.merge_strategy, skip=candidate.skip_non_existing)
        return {"Contact": {"read": 40, "created": 30, "merged": 8, "ignored": 2, "invalid": 0}}

    monkeypatch.setattr(preview, "preview", fake_preview)

    response = at_merge.post(
        "/onboarding/salesforce-merge/",
        {"merge_strategy": "append", "record_scope": "all", "find_strategy": "any", "_preview": "1"},
    )

    assert response.status_code == 200
    assert seen == {"strategy": "append", "skip": False}
    html = response.content.decode()
    assert '<td class="text-end" data-preview-created>30</td>' in html
    assert '<td class="text-end" data-preview-merged>8</td>' in html
    assert '<td class="text-end" data-preview-ignored>2</td>' in html
    connection.refresh_from_db()
    assert connection.merge_strategy == "overwrite"
    assert SyncRun.objects.count() == 0


def test_merge_refuses_a_choice_that_imports_nothing(at_merge, connection):
    response = at_merge.post(
        "/onboarding/salesforce-merge/",
        {"merge_strategy": "ignore", "record_scope": "existing", "find_strategy": "any"},
    )

    assert response.context["form"].errors["record_scope"][0].startswith("“Import new records only” with")
    assert SyncRun.objects.count() == 0


def test_merge_saves_and_leads_to_selective_sync_before_the_first_sync(at_merge, connection, sf_workspace):
    data = {"merge_strategy": "append", "record_scope": "existing", "find_strategy": "next_if_empty"}

    first = at_merge.post("/onboarding/salesforce-merge/", data)
    second = at_merge.post("/onboarding/salesforce-merge/", data)

    assert first["Location"] == second["Location"] == "/onboarding/salesforce-filters/"
    connection.refresh_from_db()
    assert (
        connection.merge_strategy,
        connection.skip_non_existing,
        connection.find_strategy,
        connection.merge_converted_leads,
    ) == ("append", True, "next_if_empty", False)
    assert SyncRun.objects.count() == 0  # the first sync starts after Selective sync


def test_progress_endpoint_reports_per_object_counts(at_merge, connection, sf_workspace):
    from django.utils import timezone

    SyncRun.objects.create(
        workspace=sf_workspace,
        connection=connection,
        kind="initial",
        state="running",
        started_at=timezone.now(),
        progress={
            "Contact": {"total": 200, "done": 50, "state": "running"},
            "Lead": {"total": 10, "done": 10, "state": "done"},
        },
    )

    data = at_merge.get(f"/sources/salesforce/{connection.pk}/progress.json").json()

    assert data["state"] == "running" and data["state_label"] == "Syncing" and data["finished"] is False
    assert [(o["name"], o["done"], o["total"], o["percent"]) for o in data["objects"]] == [
        ("Contact", 50, 200, 25),
        ("Lead", 10, 10, 100),
    ]
    assert data["summary"].startswith("60 of 210 records")


def test_another_workspace_gets_404_on_the_connection_pages(
    client, make_user, make_workspace, connection, catalogue
):
    intruder = make_user()
    make_workspace(name="Intruder Inc", owner=intruder)
    client.force_login(intruder)

    for path in (
        "",
        "fields/",
        "permissions/",
        "custom-objects/",
        "identifiers/",
        "merge/",
        "schedule/",
        "health/",
        "progress.json",
    ):
        assert client.get(f"/sources/salesforce/{connection.pk}/{path}").status_code == 404, path
    assert client.post(f"/sources/salesforce/{connection.pk}/sync-now/").status_code == 404
    assert (
        client.post(f"/sources/salesforce/{connection.pk}/merge/", {"merge_strategy": "ignore"}).status_code
        == 404
    )
    connection.refresh_from_db()
    assert connection.merge_strategy == "overwrite"


def test_settings_pages_reuse_the_step_forms(owner_client, sf_workspace, connection):
    owner_client.post("/onboarding/salesforce-fields/", _fields_post(DEFAULT_FIELDS))
    base = f"/sources/salesforce/{connection.pk}/"

    overview = owner_client.get(base).content.decode()
    assert "Last 14 days" in overview and "<svg" in overview and "Sync now" in overview
    assert f'href="/sources/salesforce/{connection.pk}/authorization/"' in overview  # Manage authorization
    merge = owner_client.get(base + "merge/").content.decode()
    assert "Import and overwrite any records that exist" in merge
    assert "Use Preview to see what the first sync would do before you start it." in merge  # the step's lead

    response = owner_client.post(
        base + "merge/", {"merge_strategy": "ignore", "record_scope": "all", "find_strategy": "any"}
    )
    assert response["Location"] == base + "merge/"
    connection.refresh_from_db()
    assert connection.merge_strategy == "ignore"
    assert SyncRun.objects.count() == 0  # settings never start a first sync

    bad = owner_client.post(
        base + "schedule/", {"schedule_interval_minutes": "7", "api_budget_percent": "500"}
    )
    assert "schedule_interval_minutes" in bad.context["form"].errors
    assert bad.context["form"].errors["api_budget_percent"] == [
        "Ensure this value is less than or equal to 100."
    ]

    fields = owner_client.get(base + "fields/").content.decode()
    assert 'value="Email" id="f-Contact-Email" checked' in fields


def test_sync_health_groups_errors_and_ignores_one(owner_client, sf_workspace, connection):
    from integrations.models import SyncError

    for sf_id in ("003000000000001AAA", "003000000000002AAA"):
        SyncError.objects.create(
            workspace=sf_workspace,
            connection=connection,
            object_name="Contact",
            sf_id=sf_id,
            error_type="invalid",
            message="Email is not a valid address.",
        )
    SyncError.objects.create(
        workspace=sf_workspace,
        connection=connection,
        object_name="Lead",
        sf_id="00Q000000000001AAA",
        error_type="mapping",
        message="Amount is not a number.",
        retryable=False,
    )
    base = f"/sources/salesforce/{connection.pk}/health/"

    html = owner_client.get(base).content.decode()
    assert html.index("Record rejected by the CDP") < html.index("Value could not be mapped")
    assert html.count(">Retry</button>") == 2 and html.count(">Ignore</button>") == 3
    # The records are named, never shown as raw Salesforce ids.
    assert ">003000000000001AAA<" not in html and "Open in Salesforce" in html

    target = SyncError.objects.get(sf_id="003000000000001AAA")
    response = owner_client.post(base + "errors/", {"one": f"ignore:{target.pk}"})
    assert response["Location"] == base
    target.refresh_from_db()
    assert target.resolved is True and target.resolved_at is not None
    assert SyncError.objects.filter(resolved=False).count() == 2

    not_retryable = SyncError.objects.get(sf_id="00Q000000000001AAA")
    owner_client.post(base + "errors/", {"one": f"retry:{not_retryable.pk}"})
    not_retryable.refresh_from_db()
    assert not_retryable.resolved is False
    bad = owner_client.post(base + "errors/", {"one": f"explode:{target.pk}"}, follow=True)
    assert "Unknown action." in bad.content.decode()


def test_sync_health_pages_and_acts_on_every_matching_error(owner_client, sf_workspace, connection):
    from integrations.models import SyncError

    SyncError.objects.bulk_create(
        SyncError(
            workspace=sf_workspace,
            connection=connection,
            object_name="Contact",
            sf_id=f"003{n:012d}AAA",
            error_type="mapping",
            message=f"=Bad value {n}",
        )
        for n in range(60)
    )
    SyncError.objects.create(
        workspace=sf_workspace,
        connection=connection,
        object_name="Lead",
        sf_id="00Q000000000001AAA",
        error_type="invalid",
        message="Rejected.",
    )
    base = f"/sources/salesforce/{connection.pk}/health/"

    first = owner_client.get(base, {"type": "mapping"}).content.decode()
    assert first.count('name="ids"') == 50
    assert "Page 1 of 2 · errors 1–50 of 60" in first
    assert "All 60 open “Value could not be mapped” errors, on every page" in first
    second = owner_client.get(base, {"type": "mapping", "page": 2}).content.decode()
    assert second.count('name="ids"') == 10

    # Export the ticked ones, then every matching one: CSV, formulas defused.
    two = list(SyncError.objects.filter(error_type="mapping").values_list("pk", flat=True)[:2])
    ticked = owner_client.post(base + "errors/", {"action": "export", "ids": two, "error_type": "mapping"})
    assert ticked["Content-Type"].startswith("text/csv")
    assert len(ticked.content.decode().strip().splitlines()) == 3
    every = owner_client.post(base + "errors/", {"action": "export", "every": "1", "error_type": "mapping"})
    lines = every.content.decode().strip().splitlines()
    assert len(lines) == 61 and ",'=Bad value 0," in every.content.decode()

    # Ignore every open error of the type, across pages; the other type stays open.
    response = owner_client.post(
        base + "errors/", {"action": "ignore", "every": "1", "error_type": "mapping"}
    )
    assert response["Location"] == base + "?type=mapping"
    assert SyncError.objects.filter(resolved=False).count() == 1
    assert SyncError.objects.get(resolved=False).object_name == "Lead"
    nothing = owner_client.post(base + "errors/", {"action": "ignore"}, follow=True)
    assert "Tick the errors to act on" in nothing.content.decode()


def test_parent_chains_are_saved_and_loops_refused(at_custom_objects, connection):
    at_custom_objects.post(
        "/onboarding/salesforce-custom-objects/",
        {
            "object__Dossier__c": "on",
            "fields__Dossier__c": ["Name", "Contact__c"],
            "object__Loan__c": "on",
            "fields__Loan__c": ["Name", "Dossier__c"],
            "object__Instalment__c": "on",
            "fields__Instalment__c": ["Name", "Loan__c"],
        },
    )
    html = at_custom_objects.get("/onboarding/salesforce-identifiers/").content.decode()
    # Dossier links to Contact by itself; Loan and Instalment do not.
    assert re.findall(r'data-identifier="([^"]+)"', html) == ["Loan__c", "Instalment__c"]

    response = at_custom_objects.post(
        "/onboarding/salesforce-identifiers/",
        {
            "Instalment__c__kind": "parent",
            "Instalment__c__parent_field": "Loan__c",
            "Instalment__c__parent_object": "Loan__c",
            "Loan__c__kind": "parent",
            "Loan__c__parent_field": "Dossier__c",
            "Loan__c__parent_object": "Dossier__c",
        },
    )

    assert response["Location"] == "/onboarding/salesforce-merge/"
    rules = dict(
        SyncedObject.objects.filter(connection=connection, identifier_kind="parent").values_list(
            "api_name", "identifier_config"
        )
    )
    assert rules == {
        "Instalment__c": {"field": "Loan__c", "parent_object": "Loan__c"},
        "Loan__c": {"field": "Dossier__c", "parent_object": "Dossier__c"},
    }

    loop = at_custom_objects.post(
        f"/sources/salesforce/{connection.pk}/identifiers/",
        {
            "Instalment__c__kind": "parent",
            "Instalment__c__parent_field": "Loan__c",
            "Instalment__c__parent_object": "Loan__c",
            "Loan__c__kind": "parent",
            "Loan__c__parent_field": "Dossier__c",
            "Loan__c__parent_object": "Instalment__c",
        },
    )
    assert loop.status_code == 200
    assert "The parent chain loops back to" in loop.content.decode()
    loan = SyncedObject.objects.get(connection=connection, api_name="Loan__c")
    assert loan.identifier_config == {"field": "Dossier__c", "parent_object": "Dossier__c"}


def test_back_on_the_field_picker_keeps_the_ticks(at_permissions, connection):
    response = at_permissions.post(
        "/onboarding/salesforce-permissions/",
        {**_permissions(), "Contact__email__unsubscribed": "maybe", "_back": "1"},
    )
    assert response["Location"] == "/onboarding/salesforce-fields/"

    at_permissions.post(
        "/onboarding/salesforce-fields/",
        {**_fields_post({**DEFAULT_FIELDS, "Task": ["Subject", "Status"]}), "_back": "1"},
    )
    html = at_permissions.get("/onboarding/salesforce-fields/").content.decode()
    assert 'value="Status" id="f-Task-Status" checked' in html
    # Nothing was saved by going back.
    task = SyncedObject.objects.get(connection=connection, api_name="Task")
    assert list(task.fields.filter(active=True).values_list("sf_field", flat=True)) == ["Subject"]
    permissions = at_permissions.get("/onboarding/salesforce-permissions/").content.decode()
    assert 'value="maybe"' in permissions


def test_sync_now_starts_one_run_and_schedule_saves(owner_client, sf_workspace, connection):
    owner_client.post("/onboarding/salesforce-fields/", _fields_post(DEFAULT_FIELDS))
    base = f"/sources/salesforce/{connection.pk}/"

    first = owner_client.post(base + "sync-now/", follow=True)
    second = owner_client.post(base + "sync-now/", follow=True)

    assert "Sync started." in first.content.decode()
    assert "A sync is already running; it picks up every change." in second.content.decode()
    assert SyncRun.objects.filter(connection=connection).count() == 1

    response = owner_client.post(
        base + "schedule/", {"schedule_interval_minutes": "15", "api_budget_percent": "30"}
    )
    assert response["Location"] == base + "schedule/"
    connection.refresh_from_db()
    assert (connection.schedule_interval_minutes, connection.api_budget_percent) == (15, 30)


def test_overview_counts_records_and_activities_of_this_connection(owner_client, sf_workspace, connection):
    from django.utils import timezone

    from cdp.models import Identity, Person
    from integrations.models import SourceRecord

    now = timezone.now()
    for i in range(3):
        person = Person.objects.create(
            workspace=sf_workspace, email=f"p{i}@example.com", created_at=now, updated_at=now
        )
        Identity.objects.create(
            workspace=sf_workspace,
            source=f"salesforce:{connection.pk}",
            object="Contact",
            external_id=f"0030000000000{i:02d}AAA",
            person=person,
        )
    # Records this connection synced that still exist in Salesforce (a deleted one does not count).
    for i, deleted in enumerate((False, False, False, True)):
        SourceRecord.objects.create(
            connection=connection,
            object_name="Contact",
            sf_id=f"0030000000000{i:02d}AAA",
            system_modstamp=now,
            payload={},
            hash="",
            deleted=deleted,
        )
    Identity.objects.create(
        workspace=sf_workspace,
        source="salesforce:999",
        object="Contact",
        external_id="003000000000099AAA",
        person=person,
    )

    html = owner_client.get(f"/sources/salesforce/{connection.pk}/").content.decode()

    assert '<div class="fs-3 fw-semibold" data-stat="records">3</div>' in html
    assert '<div class="fs-3 fw-semibold" data-stat="activities">0</div>' in html
    # The chart counts what that day's runs synced: none ran here.
    assert f"{now:%d %b}: 0 records synced, 0 activities" in html


def test_overview_says_live_with_the_last_events_age_or_why_not(owner_client, sf_workspace, connection):
    import datetime as dt

    from django.utils import timezone

    from integrations.models import ChangeStream

    page = f"/sources/salesforce/{connection.pk}/"

    def live_row():
        html = owner_client.get(page).content.decode()
        start = html.index("data-live=")
        return " ".join(html[start : html.index("</dd>", start)].split())

    assert "No listener is running" in live_row()
    now = timezone.now()
    stream = ChangeStream.objects.create(
        connection=connection,
        state=ChangeStream.State.LIVE,
        lease_owner="host:1",
        lease_expires_at=now + dt.timedelta(seconds=30),
        last_event_at=now - dt.timedelta(minutes=3),
        replay_id=42,
    )
    row = live_row()
    assert 'data-live="yes"' in row and ">Live<" in row and "Last change applied 3 minutes ago" in row
    ChangeStream.objects.filter(pk=stream.pk).update(
        state=ChangeStream.State.RECONNECTING, state_reason="Streaming API unreachable"
    )
    assert "Reconnecting" in live_row() and "Streaming API unreachable" in live_row()
    ChangeStream.objects.filter(pk=stream.pk).update(lease_expires_at=now - dt.timedelta(seconds=1))
    assert "No listener is running" in live_row()

    # The setting turns it off for this connection; the page says so.
    response = owner_client.post(
        page + "schedule/", {"schedule_interval_minutes": "5", "api_budget_percent": "50"}
    )
    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.streaming_enabled is False
    assert "Live updates are off" in live_row()
    owner_client.post(
        page + "schedule/",
        {"schedule_interval_minutes": "5", "api_budget_percent": "50", "streaming_enabled": "on"},
    )
    connection.refresh_from_db()
    assert connection.streaming_enabled is True
