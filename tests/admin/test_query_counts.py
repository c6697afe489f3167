"""Every admin list page runs a fixed number of queries: the same with ten times the data."""

from __future__ import annotations

import itertools

import pytest
from django.contrib import admin
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db

_n = itertools.count(1)


def build_unit(make_workspace, make_connection):
    """One workspace with a row of every model the admin lists."""
    from cdp.models import (
        Activity,
        ActivityDefinition,
        ArchiveChange,
        CustomObject,
        CustomObjectRecord,
        Identity,
        Organization,
        PermissionChange,
        Person,
    )
    from integrations import sync_settings
    from integrations.models import (
        ChangeStream,
        ConnectionAlert,
        PermissionWriteback,
        SalesforceUserName,
        SourceRecord,
        SyncError,
        SyncRun,
    )
    from onboarding.services import profile_update

    i = next(_n)
    now = timezone.now()
    ws = make_workspace(name=f"Workspace {i}")
    profile_update(workspace=ws, data={"plan": "free", "business_type": "b2b", "crm": "salesforce"})
    conn = make_connection(
        ws, status="needs_reauth" if i % 2 else "connected", api_usage_used=10 * i, api_usage_max=15000
    )
    obj = sync_settings.synced_object_ensure(connection=conn, api_name="Contact", label="Contact")
    sync_settings.field_selection_save(
        synced_object=obj, fields=[{"name": "Email", "type": "email"}, {"name": "LastName", "type": "string"}]
    )
    for state in ("succeeded", "failed"):
        run = SyncRun.objects.create(
            workspace=ws,
            connection=conn,
            kind="incremental",
            state=state,
            fetched=5 * i,
            api_calls=2,
            started_at=now,
            finished_at=now,
            progress={"Contact": {"total": 5, "done": 5, "state": "done"}},
        )
    for kind in ("mapping", "unlinked"):
        SyncError.objects.create(
            workspace=ws,
            connection=conn,
            run=run,
            object_name="Contact",
            sf_id=f"003{i:015d}",
            error_type=kind,
            message="bad value",
        )
    SourceRecord.objects.create(
        connection=conn,
        object_name="Contact",
        sf_id=f"003{i:015d}",
        system_modstamp=now,
        payload={"Id": f"003{i:015d}"},
        hash="x",
    )
    ConnectionAlert.objects.create(
        connection=conn, kind="needs_reauth", status_changed_at=now, recipients="a@b.c"
    )
    SalesforceUserName.objects.create(connection=conn, sf_id=f"005{i:015d}", name=f"Owner {i}")
    org = Organization.objects.create(
        workspace=ws, name=f"Org {i}", name_key=f"org {i}", created_at=now, updated_at=now
    )
    people = [
        Person.objects.create(
            workspace=ws,
            email=f"p{i}-{k}@example.com",
            email_key=f"p{i}-{k}@example.com",
            organization=org,
            created_at=now,
            updated_at=now,
        )
        for k in range(2)
    ]
    Identity.objects.create(
        workspace=ws,
        source=f"salesforce:{conn.pk}",
        object="Contact",
        external_id=f"003{i:015d}",
        person=people[0],
    )
    definition = ActivityDefinition.objects.create(
        workspace=ws, activity_id="act:sfc:created", name="Created"
    )
    Activity.objects.create(
        workspace=ws,
        definition=definition,
        person=people[0],
        organization=org,
        occurred_at=now,
        source_key=f"k{i}",
    )
    custom = CustomObject.objects.create(
        workspace=ws, source="salesforce:1", object_name="Loan__c", name="Loan"
    )
    record = CustomObjectRecord.objects.create(
        workspace=ws, custom_object=custom, external_id=f"a00{i}", created_at=now, updated_at=now
    )
    record.people.add(people[0])
    PermissionChange.objects.create(
        workspace=ws,
        person=people[1],
        field_id="bol::p",
        old_value=True,
        new_value=False,
        source="salesforce:1",
        actor=None,
        changed_at=now,
    )
    ArchiveChange.objects.create(
        workspace=ws,
        person=people[1],
        archived=True,
        source=f"salesforce:{conn.pk}",
        object="Contact",
        changed_at=now,
    )
    ChangeStream.objects.create(connection=conn, replay_id=i, lease_owner=f"host:{i}")
    PermissionWriteback.objects.create(
        workspace=ws,
        connection=conn,
        person=people[0],
        field_id="bol::p",
        subscribed=False,
        changed_at=now,
        object_name="Contact",
        sf_id=f"003{i:015d}",
        sf_field="HasOptedOutOfEmail",
        sf_value=True,
        next_attempt_at=now,
    )


def list_urls() -> list[str]:
    urls = []
    for model in admin.site._registry:
        opts = model._meta
        if opts.app_label in ("cdp", "integrations", "onboarding"):
            urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    return urls + [reverse("admin:integrations_connection_sync_health")]


def count_queries(client, urls) -> dict[str, int]:
    counts = {}
    for url in urls:
        client.get(url)  # warm caches (content types, session) so only the page's own queries count
        with CaptureQueriesContext(db) as captured:
            response = client.get(url)
        assert response.status_code == 200, url
        counts[url] = len(captured)
    return counts


def test_list_pages_keep_their_query_count_when_the_data_grows_tenfold(
    staff_client, make_workspace, make_connection
):
    urls = list_urls()
    build_unit(make_workspace, make_connection)
    small = count_queries(staff_client, urls)
    for _ in range(9):
        build_unit(make_workspace, make_connection)
    large = count_queries(staff_client, urls)

    print(small)
    assert large == small
    # And the pages are lean, not merely constant.
    assert max(small.values()) <= 15, small


def test_every_detail_page_renders(staff_client, make_workspace, make_connection):
    build_unit(make_workspace, make_connection)
    for model in admin.site._registry:
        opts = model._meta
        if opts.app_label not in ("cdp", "integrations", "onboarding"):
            continue
        obj = model._default_manager.order_by("pk").first()
        assert obj is not None, opts.label
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        response = staff_client.get(url)
        assert response.status_code == 200, url
        assert "token_encrypted" not in response.content.decode(), url
