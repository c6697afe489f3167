"""Several orgs in one sandbox process: each has its own org Id, users, connected app, records, limits
and faults; the org comes from the log-in, the token or `--org`."""

from __future__ import annotations

import pytest

DEFAULT_ORG_ID, ACME_ORG_ID = "00DDw0000000001MAA", "00DDw0000000002MAA"


@pytest.fixture
def orgs(make_sandbox_org):
    org = make_sandbox_org(contacts=200, seed=1)
    acme = org.other_org("acme")
    out = acme.manage("sandbox_seed", "--contacts", "40", "--seed", "2").stdout
    assert "Seeded" in out
    return org, acme


def _get(org, token: str, path: str):
    return org.session().get(f"{org.url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_each_org_answers_with_its_own_id_users_and_data(orgs):
    org, acme = orgs
    token, acme_token = org.token(), acme.token()
    assert token["access_token"].startswith(DEFAULT_ORG_ID[:15] + "!")
    assert acme_token["access_token"].startswith(ACME_ORG_ID[:15] + "!")
    assert acme_token["id"].startswith(f"{org.url}/id/{ACME_ORG_ID}/")
    identity = _get(org, acme_token["access_token"], acme_token["id"].removeprefix(org.url)).json()
    assert (identity["organization_id"], identity["username"]) == (ACME_ORG_ID, "demo@acme.inflow.local")
    # A token of one org does not open the other org's identity URL.
    crossed = acme_token["id"].replace(ACME_ORG_ID, DEFAULT_ORG_ID).removeprefix(org.url)
    assert _get(org, acme_token["access_token"], crossed).status_code == 403

    q = "/services/data/v62.0/query/?q=SELECT+Id+FROM+Contact"
    assert _get(org, token["access_token"], q).json()["totalSize"] == org.counts()["Contact"]
    acme_ids = {r["Id"] for r in _get(org, acme_token["access_token"], q).json()["records"]}
    assert acme_ids == {r["Id"] for r in acme.records("Contact")}
    assert len(acme_ids) == acme.counts()["Contact"] < org.counts()["Contact"]
    # Two orgs never share a record Id.
    assert not acme_ids & {r["Id"] for r in org.records("Contact")}


def test_log_in_finds_the_users_org_and_refresh_tokens_stay_in_it(orgs):
    org, acme = orgs
    token = (
        org.session()
        .post(
            f"{org.url}/services/oauth2/token",
            data={
                "grant_type": "password",
                "client_id": org.client_id,
                "client_secret": org.client_secret,
                "username": "demo@acme.inflow.local",
                "password": "inflow-demo",
            },
            timeout=10,
        )
        .json()
    )
    assert token["access_token"].startswith(ACME_ORG_ID[:15] + "!")
    refreshed = (
        org.session()
        .post(
            f"{org.url}/services/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "client_id": org.client_id,
                "client_secret": org.client_secret,
                "refresh_token": acme.token()["refresh_token"],
            },
            timeout=10,
        )
        .json()
    )
    assert refreshed["id"].split("/")[-2] == ACME_ORG_ID


def test_limits_and_faults_are_per_org(orgs):
    org, acme = orgs
    acme.faults(api_limit=50, api_usage=49)
    acme_token = acme.token()["access_token"]
    assert _get(org, acme_token, "/services/data/v62.0/limits/").json()["DailyApiRequests"] == {
        "Max": 50,
        "Remaining": 0,
    }
    assert _get(org, acme_token, "/services/data/v62.0/limits/").status_code == 403
    assert _get(org, org.token()["access_token"], "/services/data/v62.0/limits/").status_code == 200
    assert acme.status()["api_usage"]["max"] == 50 and org.status()["api_usage"]["max"] == 15000
    assert acme.status()["counts"]["Contact"]["live"] == acme.counts()["Contact"]


def test_commands_refuse_an_unknown_org_and_a_bad_name(orgs):
    org, _ = orgs
    with pytest.raises(RuntimeError, match="No org named 'nowhere'"):
        org.manage("sandbox_churn", "--updates", "1", "--org", "nowhere")
    with pytest.raises(RuntimeError, match="An org name is 1-30 lower-case letters"):
        org.manage("sandbox_seed", "--contacts", "5", "--org", "Bad Name")
    assert org.session().get(f"{org.url}/_sandbox/status?org=nowhere", timeout=10).status_code == 404
