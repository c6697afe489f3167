"""Two Salesforce orgs in one sandbox process, over real HTTP: two workspaces connect different orgs through
the log-in and Allow pages, sync independently, and a reconnect that signs in to the other org is refused."""

from __future__ import annotations

import pytest
from django.test import Client

from integrations.models import Connection, SourceRecord
from tests.integrations.connection.test_sandbox_org import HOST, authorize_in_sandbox, callback, start
from tests.integrations.sync.conftest import run_inline, select_objects
from tests.sandbox_org import LOCAL_SANDBOX_ORIGINS

DEFAULT_ORG_ID, ACME_ORG_ID = "00DDw0000000001MAA", "00DDw0000000002MAA"
ACME_USER = "demo@acme.inflow.local"


@pytest.fixture
def two_orgs(make_sandbox_org, settings):
    org = make_sandbox_org(contacts=200, seed=1)
    acme = org.other_org("acme")
    acme.manage("sandbox_seed", "--contacts", "60", "--seed", "5")
    settings.SALESFORCE_CLIENT_ID = org.client_id
    settings.SALESFORCE_CLIENT_SECRET = org.client_secret
    settings.SALESFORCE_LOCAL_ORIGINS = LOCAL_SANDBOX_ORIGINS
    settings.SALESFORCE_DEFAULT_LOGIN_URL = org.url
    settings.SALESFORCE_API_VERSION = "62.0"
    return org, acme


def _web(user) -> Client:
    client = Client(HTTP_HOST=HOST)
    client.force_login(user)
    return client


def _connect(web, org, *, username: str, reconnect=None):
    return callback(
        web,
        authorize_in_sandbox(org, start(web, org, reconnect=reconnect), username=username),
    )


@pytest.mark.django_db(transaction=True)
def test_two_orgs_connect_to_two_workspaces_sync_apart_and_refuse_a_crossed_reconnect(
    two_orgs, workspace, owner, make_workspace
):
    org, acme = two_orgs
    other = make_workspace(name="Globex")
    web_a, web_b = _web(owner), _web(other.memberships.get().user)

    assert _connect(web_a, org, username="demo@inflow.local").status_code == 302
    assert _connect(web_b, org, username=ACME_USER).status_code == 302
    first = Connection.objects.get(workspace=workspace)
    second = Connection.objects.get(workspace=other)
    assert (first.org_id, first.username) == (DEFAULT_ORG_ID, "demo@inflow.local")
    assert (second.org_id, second.username) == (ACME_ORG_ID, ACME_USER)
    assert first.instance_url == second.instance_url == org.url  # one process, one host

    for connection in (first, second):
        select_objects(connection, ["Contact"])
        run = run_inline(connection)
        assert run.state == "succeeded"
    for connection, source in ((first, org), (second, acme)):
        synced = set(
            SourceRecord.objects.filter(
                connection=connection, object_name="Contact", deleted=False
            ).values_list("sf_id", flat=True)
        )
        assert synced == {r["Id"] for r in source.records("Contact")}
    assert org.counts()["Contact"] != acme.counts()["Contact"]

    # Workspace A's reconnect, signed in as the other org's user: refused, nothing changed.
    before = (first.org_id, first.username, first.status)
    refused = _connect(web_a, org, username=ACME_USER, reconnect=first)
    html = refused.content.decode()
    assert refused.status_code == 400, html[:2000]
    assert (
        f"You signed in to Salesforce org {ACME_ORG_ID}, but this connection is for org {DEFAULT_ORG_ID}."
        in html
    )
    first.refresh_from_db()
    assert (first.org_id, first.username, first.status) == before
    assert Connection.objects.filter(workspace=workspace).count() == 1
