"""The connection against the real sandbox org process, over real HTTP: log-in and Allow pages, tokens,
refresh, revoke, the catalogue. Nothing on the Salesforce side is mocked.
"""

from __future__ import annotations

import re
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django.db import connection as db_connection
from django.test import Client
from django.urls import reverse

from integrations import services
from integrations.models import Connection
from integrations.salesforce import catalog, oauth
from integrations.salesforce.client import SalesforceAuthError, SalesforceClient
from integrations.salesforce.errors import SalesforceOAuthError
from integrations.views.connect import FLOW_SESSION_KEY
from tests.sandbox_org import LOCAL_SANDBOX_ORIGINS

# One of the callbacks the test orgs' connected app registers (tests/sandbox_org.py CALLBACKS).
HOST = "localhost:8000"
DEMO_USER, DEMO_PASSWORD = "demo@inflow.local", "inflow-demo"


@pytest.fixture
def org_settings(settings):
    def configure(org):
        settings.SALESFORCE_CLIENT_ID = org.client_id
        settings.SALESFORCE_CLIENT_SECRET = org.client_secret
        settings.SALESFORCE_LOCAL_ORIGINS = LOCAL_SANDBOX_ORIGINS  # the local org speaks plain http
        settings.SALESFORCE_DEFAULT_LOGIN_URL = org.url
        settings.SALESFORCE_API_VERSION = "62.0"
        return org

    return configure


@pytest.fixture
def web(owner):
    client = Client(HTTP_HOST=HOST)
    client.force_login(owner)
    return client


def _form(html: str) -> tuple[str, str]:
    action = re.search(r'<form method="post" action="([^"]+)"', html).group(1)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    return action, token


def authorize_in_sandbox(
    org,
    authorize_url: str,
    *,
    decision: str = "allow",
    browser=None,
    username: str = DEMO_USER,
    password: str = DEMO_PASSWORD,
) -> str:
    """Drives the org's own log-in and "Allow Access?" pages like a browser; returns the callback URL."""
    browser = browser or org.session()
    page = browser.get(authorize_url, timeout=10)
    assert page.status_code == 200, page.text[:500]
    action, token = _form(page.text)
    page = browser.post(
        org.url + action,
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        allow_redirects=False,
        timeout=10,
    )
    if page.status_code == 302:  # already approved earlier in this browser
        return page.headers["Location"]
    assert "Allow" in page.text, page.text[:500]
    action, token = _form(page.text)
    page = browser.post(
        org.url + action,
        data={"decision": decision, "csrfmiddlewaretoken": token},
        allow_redirects=False,
        timeout=10,
    )
    assert page.status_code == 302, page.text[:500]
    return page.headers["Location"]


def start(web, org, *, reconnect: Connection | None = None) -> str:
    url = (
        reverse("integrations:salesforce_reconnect", args=[reconnect.pk])
        if reconnect
        else reverse("integrations:salesforce_connect")
    )
    response = web.post(url, {"login_kind": "my_domain", "my_domain_url": org.url})
    assert response.status_code == 302, response.content.decode()[:1000]
    assert response["Location"].startswith(f"{org.url}/services/oauth2/authorize?")
    return response["Location"]


def callback(web, location: str):
    parts = urlsplit(location)
    assert (
        f"{parts.scheme}://{parts.netloc}{parts.path}" == f"http://{HOST}/integrations/salesforce/callback/"
    )
    return web.get(parts.path, parse_qs(parts.query) and {k: v[0] for k, v in parse_qs(parts.query).items()})


def connect(web, org, **kwargs) -> Connection:
    response = callback(web, authorize_in_sandbox(org, start(web, org, **kwargs)))
    assert response.status_code == 302, response.content.decode()[:2000]
    return Connection.objects.get(org_id__startswith="00D")


def connect_with_token(org, workspace) -> Connection:
    """A connection from a token the org grants without the browser pages (sandbox_token): real tokens
    for the tests that are not about the pages."""
    grant = oauth.grant_from_token_response(org.token())
    identity = oauth.fetch_identity(identity_url=grant.identity_url, access_token=grant.access_token)
    with SalesforceClient(instance_url=grant.instance_url, access_token=grant.access_token) as client:
        version = client.negotiate_version()
    return services.connection_create_from_oauth(
        workspace=workspace,
        grant=grant,
        identity=identity,
        login_url=org.url,
        login_kind="my_domain",
        api_version=version,
    ).connection


@pytest.mark.django_db
def test_full_connect_flow_through_the_sandbox_log_in_and_allow_pages(
    web, workspace, sandbox_org, org_settings
):
    org_settings(sandbox_org)
    before = sandbox_org.request_log()

    connection = connect(web, sandbox_org)

    assert connection.workspace == workspace
    assert (connection.username, connection.login_url, connection.instance_url) == (
        DEMO_USER,
        sandbox_org.url,
        sandbox_org.url,
    )
    assert re.fullmatch(r"00D[A-Za-z0-9]{15}", connection.org_id)
    assert re.fullmatch(r"005[A-Za-z0-9]{15}", connection.sf_user_id)
    assert (connection.status, connection.login_kind, connection.api_version) == (
        "connected",
        "my_domain",
        "62.0",
    )
    assert set(connection.scope_list) >= {"api", "refresh_token", "id"}
    after = sandbox_org.request_log()
    assert after.get("token", 0) - before.get("token", 0) == 1
    # The token works against the org, and the manage page's live check says so.
    html = web.get(reverse("integrations:salesforce_manage", args=[connection.pk])).content.decode()
    assert "<strong>Working.</strong> Salesforce answered: the authorization works." in html
    assert re.search(r'id="api-usage">[\d,]+ of 15,000 \(', html)


@pytest.mark.django_db
def test_denying_access_at_the_sandbox_shows_the_retry_page(web, make_sandbox_org, org_settings):
    # A fresh org: Salesforce skips the Allow page for a user who already approved the app.
    org = org_settings(make_sandbox_org())

    response = callback(web, authorize_in_sandbox(org, start(web, org), decision="deny"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "You chose not to allow Inflow access to your Salesforce org" in html
    assert "Salesforce said: end-user denied authorization" in html
    assert ">Try again</a>" in html
    assert Connection.objects.count() == 0


@pytest.mark.django_db
def test_a_tampered_state_stores_nothing_and_the_real_answer_still_works(web, sandbox_org, org_settings):
    org_settings(sandbox_org)
    location = authorize_in_sandbox(sandbox_org, start(web, sandbox_org))

    forged = callback(web, location.replace("state=", "state=x"))

    assert forged.status_code == 400
    assert Connection.objects.count() == 0
    assert callback(web, location).status_code == 302
    assert Connection.objects.count() == 1


@pytest.mark.django_db
def test_a_pkce_verifier_mismatch_is_refused_by_the_sandbox_and_stores_nothing(
    web, sandbox_org, org_settings
):
    org_settings(sandbox_org)
    location = authorize_in_sandbox(sandbox_org, start(web, sandbox_org))
    session = web.session
    flows = session[FLOW_SESSION_KEY]
    for flow in flows.values():
        flow["verifier"] = oauth.new_pkce_pair().verifier
    session[FLOW_SESSION_KEY] = flows
    session.save()

    response = callback(web, location)

    assert response.status_code == 400
    assert (
        "Salesforce refused the request. invalid code verifier Nothing was saved."
        in response.content.decode()
    )
    assert Connection.objects.count() == 0


@pytest.mark.django_db
def test_a_token_expiring_mid_query_is_refreshed_once_and_the_call_retried(
    workspace, sandbox_org, org_settings
):
    org_settings(sandbox_org)
    connection = connect_with_token(sandbox_org, workspace)
    old_access = connection.access_token
    client = SalesforceClient.for_connection(connection)
    sandbox_org.faults(short_page_size=50)  # several pages from the small org
    pages = client.query_pages("SELECT Id, Email FROM Contact ORDER BY Id", batch_size=200)
    first = next(pages)
    assert first.done is False and len(first.records) == 50
    tokens_before = sandbox_org.request_log().get("token", 0)

    sandbox_org.faults(expire_access_tokens=True)
    rest = list(pages)

    ids = [r["Id"] for p in [first, *rest] for r in p.records]
    assert len(ids) == len(set(ids)) == first.total_size == len(sandbox_org.records("Contact"))
    assert client.refreshes == 1
    assert sandbox_org.request_log().get("token", 0) - tokens_before == 1
    connection.refresh_from_db()
    assert connection.access_token != old_access
    assert connection.refresh_count == 1 and connection.last_refreshed_at is not None
    assert client.calls["query"] == 1 and client.calls["query_more"] >= 1


def _rotate_refresh_tokens(org) -> None:
    """Turns the connected app's "rotate refresh tokens" policy on, with the org's own admin command."""
    assert "rotation on" in org.manage("sandbox_app", "--rotate").stdout


@pytest.mark.django_db(transaction=True)
def test_two_workers_refreshing_at_once_make_one_refresh_and_both_succeed(
    workspace, make_sandbox_org, org_settings, monkeypatch
):
    if db_connection.vendor != "postgresql":
        pytest.skip(
            "row locks (select_for_update) are proved on PostgreSQL: run with DATABASE_URL=postgres://..."
        )
    org = org_settings(make_sandbox_org())
    _rotate_refresh_tokens(org)
    connection = connect_with_token(org, workspace)
    old_refresh = connection.refresh_token
    org.faults(expire_access_tokens=True)
    tokens_before = org.request_log().get("token", 0)
    # Both workers must have had their 401 before either refreshes, so the race is real.
    barrier = threading.Barrier(2, timeout=30)
    real_refresh = services.connection_refresh_access_token

    def refresh_together(**kwargs):
        barrier.wait()
        return real_refresh(**kwargs)

    monkeypatch.setattr(services, "connection_refresh_access_token", refresh_together)
    results, errors = [], []

    def worker():
        try:
            client = SalesforceClient.for_connection(Connection.objects.get(pk=connection.pk))
            results.append((client.limits()["DailyApiRequests"]["Max"], client.refreshes))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(repr(exc))
        finally:
            from django.db import connections

            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    assert sorted(results) == [(15000, 1), (15000, 1)]
    assert org.request_log().get("token", 0) - tokens_before == 1
    connection.refresh_from_db()
    assert connection.refresh_count == 1
    assert connection.refresh_token != old_refresh  # the rotated token was stored
    assert connection.status == "connected"
    # The stored (rotated) refresh token is the live one.
    assert oauth.refresh(login_url=org.url, refresh_token=connection.refresh_token).access_token


@pytest.mark.django_db
def test_a_revoked_refresh_token_moves_to_needs_reauth_shows_the_banner_and_reconnect_resumes(
    web, workspace, make_sandbox_org, org_settings
):
    org = org_settings(make_sandbox_org())
    connection = connect_with_token(org, workspace)
    connection.merge_strategy = Connection.MergeStrategy.APPEND
    connection.save(update_fields=["merge_strategy"])
    org.faults(revoke_refresh_tokens=True, expire_access_tokens=True)

    with pytest.raises(SalesforceAuthError) as raised:
        SalesforceClient.for_connection(connection).limits()

    connection.refresh_from_db()
    reason = "Salesforce refused the refresh token: invalid_grant (expired access/refresh token)"
    assert (connection.status, connection.status_reason) == ("needs_reauth", reason)
    assert raised.value.message == reason
    html = web.get(reverse("cdp:dashboard")).content.decode()
    assert f"Salesforce ({DEMO_USER}) needs to be reconnected: {reason}" in html
    reconnect_url = reverse("integrations:salesforce_reconnect", args=[connection.pk])
    assert f'href="{reconnect_url}">Reconnect</a>' in html

    reconnected = connect(web, org, reconnect=connection)

    assert reconnected.pk == connection.pk
    assert (reconnected.status, reconnected.status_reason, reconnected.merge_strategy) == (
        "connected",
        "",
        "append",
    )
    assert SalesforceClient.for_connection(reconnected).limits()["DailyApiRequests"]["Max"] == 15000
    assert "needs to be reconnected" not in web.get(reverse("cdp:dashboard")).content.decode()


@pytest.mark.django_db
def test_disconnect_revokes_the_refresh_token_at_the_sandbox(web, workspace, sandbox_org, org_settings):
    org_settings(sandbox_org)
    connection = connect_with_token(sandbox_org, workspace)
    refresh_token = connection.refresh_token

    response = web.post(reverse("integrations:salesforce_disconnect", args=[connection.pk]), follow=True)

    assert "The authorization was revoked at Salesforce" in response.content.decode()
    connection.refresh_from_db()
    assert (connection.status, connection.refresh_token_encrypted) == ("disconnected", "")
    with pytest.raises(SalesforceOAuthError) as raised:
        oauth.refresh(login_url=sandbox_org.url, refresh_token=refresh_token)
    assert (raised.value.error, raised.value.description) == ("invalid_grant", "expired access/refresh token")


@pytest.mark.django_db
def test_a_database_dump_contains_no_plaintext_token(workspace, sandbox_org, org_settings, tmp_path):
    org_settings(sandbox_org)
    connection = connect_with_token(sandbox_org, workspace)
    SalesforceClient.for_connection(connection).limits()  # usage recorded, session used
    secrets = [connection.access_token, connection.refresh_token]
    assert all(len(s) > 20 for s in secrets)

    dump = tmp_path / "dump.json"
    call_command("dumpdata", "--database", "default", "--output", str(dump), verbosity=0)
    raw_rows = []
    with db_connection.cursor() as cursor:
        for table in db_connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {db_connection.ops.quote_name(table)}")  # noqa: S608 - table names from introspection
            raw_rows.extend(repr(row) for row in cursor.fetchall())
    text = dump.read_text() + "\n".join(raw_rows)

    assert connection.access_token_encrypted in text  # the dump does have the connection row...
    for secret in secrets:
        assert secret not in text  # ...but only ciphertext
        assert secret.split("!")[-1][:16] not in text


@pytest.mark.django_db
def test_the_catalogue_of_the_seeded_org(workspace, sandbox_org, org_settings):
    org_settings(sandbox_org)
    connection = connect_with_token(sandbox_org, workspace)

    with SalesforceClient.for_connection(connection) as client:
        result = catalog.build_catalog(client)
        calls = client.total_calls

    assert [o.name for o in result.default_objects] == [
        "Account",
        "Contact",
        "Lead",
        "Campaign",
        "Opportunity",
        "Task",
    ]
    contact = result.get("Contact")
    assert contact.field("Email").cdp_field == "str::email"
    assert contact.field("SMS_Opt_In__c").custom is True
    assert len(contact.fields) > 50 and 0 < len(contact.default_selection) <= 50
    company = result.get("Company_Profile__c")
    assert (company.needs_identifiers, company.organization_like) == (True, True)
    subscription = result.get("Subscription__c")
    assert subscription.needs_identifiers is False
    assert subscription.link == catalog.Link("reference", "Contact__c", "Contact")
    assert result.get("Loan__c").needs_identifiers is True  # its lookup is to Dossier__c, not a person
    names = [o.name for o in result.other_objects]
    assert not [n for n in names if n.endswith(("ChangeEvent", "History", "Share", "Feed"))]
    # One describeGlobal plus one describe per described object.
    assert calls == 1 + sum(1 for o in (*result.default_objects, *result.other_objects) if o.described)


@pytest.mark.django_db
def test_the_client_works_unchanged_over_https(workspace, make_sandbox_org, org_settings, monkeypatch):
    org = org_settings(make_sandbox_org(https=True))
    # The org's self-signed certificate is trusted the way an operator would: REQUESTS_CA_BUNDLE.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(org.cert_path))
    connection = connect_with_token(org, workspace)
    assert connection.instance_url.startswith("https://localhost:")

    org.faults(expire_access_tokens=True)
    with SalesforceClient.for_connection(connection) as client:
        count = client.count("SELECT COUNT() FROM Contact")
        refreshes = client.refreshes

    assert count == len(org.records("Contact"))
    assert refreshes == 1
