"""Fixtures for the sync engine tests: a plain connection for unit tests, a sandbox-backed one for the rest."""

from __future__ import annotations

import pytest


@pytest.fixture
def plain_connection(workspace):
    """A connection row with no reachable org (configuration and mapping tests)."""
    from django.utils import timezone

    from integrations.models import Connection

    connection = Connection(
        workspace=workspace,
        org_id="00D5e000000AbCdEAF",
        sf_user_id="0055e000001XyZwAAC",
        username="admin@acme.example",
        instance_url="https://acme.my.salesforce.com",
        login_url="https://login.salesforce.com",
        api_version="62.0",
        connected_at=timezone.now(),
    )
    connection.set_tokens(access_token="access-0", refresh_token="refresh-0")
    connection.save()
    return connection


STANDARD_OBJECTS = (
    "Account",
    "Contact",
    "Lead",
    "Campaign",
    "CampaignMember",
    "Opportunity",
    "OpportunityContactRole",
    "Task",
)


def connect(workspace, org):
    """A Connection to a running sandbox org from a fresh token (what the OAuth callback would store)."""
    from django.utils import timezone

    from integrations.models import Connection

    token = org.token()
    org_id, user_id = token["id"].rstrip("/").split("/")[-2:]
    connection = Connection(
        workspace=workspace,
        org_id=org_id,
        sf_user_id=user_id,
        username="demo@inflow.local",
        instance_url=token["instance_url"],
        login_url=org.url,
        identity_url=token["id"],
        scopes=token.get("scope", ""),
        api_version="62.0",
        connected_at=timezone.now(),
    )
    connection.set_tokens(access_token=token["access_token"], refresh_token=token["refresh_token"])
    connection.save()
    return connection


def select_objects(connection, names=STANDARD_OBJECTS, *, extra_fields=None):
    """Select objects with the catalogue's default fields (what onboarding step 3 saves)."""
    from integrations import sync_settings
    from integrations.salesforce import catalog
    from integrations.salesforce.client import SalesforceClient

    extra_fields = extra_fields or {}
    client = SalesforceClient.for_connection(connection)
    try:
        objects = {}
        for name in names:
            entry = catalog.catalog_object(client.describe(name))
            obj = sync_settings.synced_object_ensure(
                connection=connection, api_name=name, label=entry.label, is_custom=entry.custom
            )
            chosen = [
                f for f in entry.fields if f.selected_by_default or f.name in extra_fields.get(name, ())
            ]
            if not chosen:
                chosen = [f for f in entry.fields if f.name in ("Name",)]
            sync_settings.field_selection_save(synced_object=obj, fields=chosen)
            objects[name] = obj
        return objects
    finally:
        client.close()


def run_inline(connection, **kwargs):
    from integrations.models import SyncRun
    from integrations.salesforce import tasks
    from integrations.salesforce.engine.runner import run_sync

    run, _ = tasks.sync_request(connection=connection, enqueue=False, **kwargs)
    if run.state == SyncRun.State.SKIPPED:
        return run
    return run_sync(run.pk)
