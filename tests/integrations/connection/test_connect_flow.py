"""The connect flow's pages against a mocked Salesforce (responses): success and every bad input.

The same flow runs against the real sandbox process in test_sandbox_org.py.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from django.urls import reverse

from integrations.models import Connection
from integrations.views.connect import FLOW_SESSION_KEY
from tests.integrations.connection.conftest import (
    CLIENT_ID,
    INSTANCE,
    LOGIN,
    ORG_ID,
    USER_ID,
    token_body,
)

pytestmark = pytest.mark.django_db
TOKEN_URL = f"{LOGIN}/services/oauth2/token"
IDENTITY_URL = f"{LOGIN}/id/{ORG_ID}/{USER_ID}"
CALLBACK = "http://testserver/integrations/salesforce/callback/"


def start(client, **data):
    payload = {"login_kind": "production", "my_domain_url": "", "next": ""}
    payload.update(data)
    response = client.post(reverse("integrations:salesforce_connect"), payload)
    assert response.status_code == 302, response.content.decode()[:2000]
    query = parse_qs(urlsplit(response["Location"]).query)
    return response["Location"], query


def mock_salesforce(
    *, token=None, token_status=200, identity=None, identity_status=200, challenge=None, seen=None
):
    def token_callback(request):
        body = parse_qs(request.body)
        if seen is not None:
            seen.append(body)
        if challenge is not None:
            verifier = body["code_verifier"][0]
            digest = (
                base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            )
            if digest != challenge:
                return (
                    400,
                    {},
                    json.dumps({"error": "invalid_grant", "error_description": "invalid code verifier"}),
                )
        payload = token if token is not None else token_body()
        text = payload if isinstance(payload, str) else json.dumps(payload)
        return token_status, {"Content-Type": "application/json"}, text

    responses.add_callback(responses.POST, TOKEN_URL, callback=token_callback)
    responses.get(
        IDENTITY_URL,
        status=identity_status,
        json=identity
        if identity is not None
        else {
            "id": IDENTITY_URL,
            "user_id": USER_ID,
            "organization_id": ORG_ID,
            "username": "admin@acme.example",
            "display_name": "Ada Admin",
            "email": "admin@acme.example",
        },
    )
    responses.get(
        f"{INSTANCE}/services/data/",
        json=[
            {"version": "60.0", "url": "/services/data/v60.0", "label": "Spring '24"},
            {"version": "62.0", "url": "/services/data/v62.0", "label": "Winter '25"},
            {"version": "64.0", "url": "/services/data/v64.0", "label": "Summer '25"},
        ],
    )
    revoked = responses.post(f"{LOGIN}/services/oauth2/revoke", status=200)
    return revoked


def checked_choice(html: str) -> list[str] | str:
    found = re.findall(r'name="login_kind" value="(\w+)"\s+id="\w+" required checked', html)
    return found[0] if len(found) == 1 else found


def snapshot():
    return list(Connection.objects.order_by("pk").values())


def test_connect_page_offers_the_three_environments(owner_client, sf_settings):
    response = owner_client.get(reverse("integrations:salesforce_connect"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Production (login.salesforce.com)" in html
    assert "Sandbox (test.salesforce.com)" in html
    assert "My Domain (your own login URL)" in html and "My Domain URL" in html
    assert checked_choice(html) == "production"


def test_in_development_the_local_sandbox_org_is_the_default(owner_client, sf_settings):
    sf_settings.SALESFORCE_DEFAULT_LOGIN_URL = "http://127.0.0.1:8765"

    html = owner_client.get(reverse("integrations:salesforce_connect")).content.decode()

    assert checked_choice(html) == "my_domain"
    assert 'value="http://127.0.0.1:8765"' in html


@responses.activate
def test_full_flow_creates_the_connection_with_encrypted_tokens(owner_client, workspace, sf_settings):
    url, query = start(owner_client, next="/onboarding/")
    assert url.startswith(f"{LOGIN}/services/oauth2/authorize?")
    assert query["response_type"] == ["code"]
    assert query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == [CALLBACK]
    assert query["scope"] == ["api refresh_token id"]
    assert query["code_challenge_method"] == ["S256"]
    seen = []
    mock_salesforce(challenge=query["code_challenge"][0], seen=seen)

    response = owner_client.get(
        reverse("integrations:salesforce_callback"), {"code": "aPrx.code==", "state": query["state"][0]}
    )

    assert response.status_code == 302
    assert response["Location"] == "/onboarding/"
    connection = Connection.objects.get()
    assert (connection.workspace, connection.org_id, connection.sf_user_id) == (workspace, ORG_ID, USER_ID)
    assert (connection.username, connection.display_name) == ("admin@acme.example", "Ada Admin")
    assert (connection.instance_url, connection.login_url, connection.login_kind) == (
        INSTANCE,
        LOGIN,
        "production",
    )
    assert (connection.scopes, connection.api_version, connection.status) == (
        "refresh_token api id",
        "62.0",
        "connected",
    )
    assert connection.access_token == "00D5e!AQ8.access-1"
    assert connection.refresh_token == "5Aep.refresh-1"
    assert (
        "access-1" not in connection.access_token_encrypted
        and "refresh-1" not in connection.refresh_token_encrypted
    )
    assert connection.connected_at is not None and connection.token_issued_at.year == 2024
    assert seen[0]["grant_type"] == ["authorization_code"]
    assert seen[0]["code"] == ["aPrx.code=="]
    assert seen[0]["redirect_uri"] == [CALLBACK]
    assert seen[0]["client_secret"] == ["test-consumer-secret"]
    assert owner_client.session[FLOW_SESSION_KEY] == {}


@responses.activate
def test_a_replayed_callback_stores_nothing(owner_client, sf_settings):
    _, query = start(owner_client)
    mock_salesforce()
    params = {"code": "aPrx.code==", "state": query["state"][0]}
    owner_client.get(reverse("integrations:salesforce_callback"), params)
    before = snapshot()

    response = owner_client.get(reverse("integrations:salesforce_callback"), params)

    assert response.status_code == 400
    assert (
        "does not belong to a sign-in started here, or it was already used. Nothing was saved."
        in response.content.decode()
    )
    assert snapshot() == before
    assert len([c for c in responses.calls if c.request.url == TOKEN_URL]) == 1


@responses.activate
def test_a_forged_state_stores_nothing_and_calls_no_one(owner_client, sf_settings):
    start(owner_client)

    response = owner_client.get(reverse("integrations:salesforce_callback"), {"code": "x", "state": "forged"})

    assert response.status_code == 400
    assert "Nothing was saved." in response.content.decode()
    assert Connection.objects.count() == 0
    assert len(responses.calls) == 0


@responses.activate
def test_a_stale_callback_stores_nothing(owner_client, sf_settings):
    _, query = start(owner_client)
    session = owner_client.session
    flows = session[FLOW_SESSION_KEY]
    flows[query["state"][0]]["created"] -= 16 * 60
    session[FLOW_SESSION_KEY] = flows
    session.save()

    response = owner_client.get(
        reverse("integrations:salesforce_callback"), {"code": "x", "state": query["state"][0]}
    )

    assert response.status_code == 400
    assert "The sign-in took too long and expired. Nothing was saved." in response.content.decode()
    assert Connection.objects.count() == 0
    assert len(responses.calls) == 0


def test_denial_shows_a_friendly_page_with_a_retry_button(owner_client, sf_settings):
    _, query = start(owner_client, login_kind="sandbox")

    response = owner_client.get(
        reverse("integrations:salesforce_callback"),
        {
            "error": "access_denied",
            "error_description": "end-user denied authorization",
            "state": query["state"][0],
        },
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Salesforce was not connected" in html
    assert "You chose not to allow Inflow access" in html
    assert f'href="{reverse("integrations:salesforce_connect")}?login=sandbox">Try again</a>' in html
    assert Connection.objects.count() == 0


@pytest.mark.parametrize(
    ("token", "status", "message"),
    [
        (
            token_body(signature="CMJ4l+CCaPQiKjoOEwEig9H4wqhpuLSk4J2urAe+fVg="),
            200,
            "Salesforce&#x27;s answer failed its signature check, so it was not trusted.",
        ),
        (token_body(secret="another-apps-secret"), 200, "failed its signature check"),
        ("<html><body>Service unavailable</body></html>", 503, "with a body that is not a token response"),
        (
            {"access_token": "abc", "token_type": "Bearer"},
            200,
            "Salesforce&#x27;s token response is missing id, issued_at, instance_url.",
        ),
        (
            {"error": "invalid_grant", "error_description": "authorization code expired"},
            400,
            "Salesforce refused the authorization code (it may have expired or been used already). authorization code expired",
        ),
        (token_body(refresh_token=None), 200, "Salesforce did not issue a refresh token"),
        (
            token_body(instance_url="https://evil.example.com"),
            200,
            "The instance URL must be a Salesforce host",
        ),
    ],
)
@responses.activate
def test_bad_token_responses_give_a_clear_error_and_store_nothing(
    owner_client, sf_settings, token, status, message
):
    _, query = start(owner_client)
    mock_salesforce(token=token, token_status=status)

    response = owner_client.get(
        reverse("integrations:salesforce_callback"), {"code": "c", "state": query["state"][0]}
    )

    assert response.status_code == 400
    assert message in response.content.decode()
    assert "Nothing was saved." in response.content.decode()
    assert Connection.objects.count() == 0


@pytest.mark.parametrize(
    ("identity", "status", "message"),
    [
        (None, 500, "The identity URL answered HTTP 500."),
        (
            {"user_id": USER_ID, "organization_id": "00DOTHERORG0000AAA", "username": "x@y.z"},
            200,
            "The identity response is for a different org or user.",
        ),
        ({"user_id": USER_ID}, 200, "The identity response lacks organization_id, user_id or username."),
    ],
)
@responses.activate
def test_an_identity_url_that_fails_stores_nothing(owner_client, sf_settings, identity, status, message):
    _, query = start(owner_client)
    revoked = mock_salesforce(identity=identity, identity_status=status)

    response = owner_client.get(
        reverse("integrations:salesforce_callback"), {"code": "c", "state": query["state"][0]}
    )

    assert response.status_code == 400
    assert message in response.content.decode()
    assert Connection.objects.count() == 0
    # The fresh grant is given back so it does not use one of the user's five.
    assert revoked.call_count == 1
    assert parse_qs(revoked.calls[0].request.body) == {"token": ["5Aep.refresh-1"]}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not a url at all", "The My Domain URL is not a valid URL (expected https://…)."),
        ("http://acme.my.salesforce.com", "The My Domain URL must use https://."),
        (
            "https://evil.example.com",
            "The My Domain URL must be a Salesforce host (such as yourdomain.my.salesforce.com), not evil.example.com.",
        ),
        ("https://user:pw@acme.my.salesforce.com", "must not contain a user name or password"),
        ("https://[::1", "The My Domain URL is not a valid URL."),
        ("", "Enter your My Domain URL, or choose Production or Sandbox."),
    ],
)
def test_bad_my_domain_urls_are_refused_on_the_page(owner_client, sf_settings, value, message):
    response = owner_client.post(
        reverse("integrations:salesforce_connect"), {"login_kind": "my_domain", "my_domain_url": value}
    )

    assert response.status_code == 200
    assert message in response.content.decode().replace("&#x27;", "'")
    assert FLOW_SESSION_KEY not in owner_client.session


def test_a_my_domain_url_is_normalised_to_its_origin(owner_client, sf_settings):
    url, _ = start(owner_client, login_kind="my_domain", my_domain_url="acme.my.salesforce.com/some/page")

    assert url.startswith("https://acme.my.salesforce.com/services/oauth2/authorize?")


def test_an_unset_client_secret_is_a_clear_error_on_the_page(owner_client, sf_settings):
    sf_settings.SALESFORCE_CLIENT_SECRET = ""

    response = owner_client.post(reverse("integrations:salesforce_connect"), {"login_kind": "production"})

    assert response.status_code == 200
    assert (
        "Salesforce is not configured on this Inflow server. SALESFORCE_CLIENT_SECRET is not set."
        in response.content.decode()
    )
    assert FLOW_SESSION_KEY not in owner_client.session


def test_next_must_stay_on_this_site(owner_client, sf_settings):
    evil = owner_client.get(reverse("integrations:salesforce_connect"), {"next": "https://evil.example.com/"})
    local = owner_client.get(reverse("integrations:salesforce_connect"), {"next": "/onboarding/fields/"})

    assert "evil.example.com" not in evil.content.decode()
    assert 'name="next" value="/onboarding/fields/"' in local.content.decode()


@responses.activate
def test_the_same_org_twice_is_refused_and_the_existing_connection_kept(
    owner_client, workspace, make_connection
):
    make_connection(workspace)
    before = snapshot()
    _, query = start(owner_client)
    revoked = mock_salesforce()

    response = owner_client.get(
        reverse("integrations:salesforce_callback"), {"code": "c", "state": query["state"][0]}
    )

    assert response.status_code == 400
    assert (
        f"This Salesforce org (admin@acme.example, {ORG_ID}) is already connected to this workspace."
        in response.content.decode()
    )
    assert snapshot() == before
    assert revoked.call_count == 1


@responses.activate
def test_reconnecting_resumes_the_same_connection_and_revokes_the_old_grant(
    owner_client, workspace, make_connection
):
    connection = make_connection(workspace, status=Connection.Status.NEEDS_REAUTH, status_reason="expired")
    connection.merge_strategy = Connection.MergeStrategy.APPEND
    connection.save()
    owner_client.get(reverse("integrations:salesforce_reconnect", args=[connection.pk]))
    response = owner_client.post(
        reverse("integrations:salesforce_reconnect", args=[connection.pk]), {"login_kind": "production"}
    )
    state = parse_qs(urlsplit(response["Location"]).query)["state"][0]
    revoked = mock_salesforce()

    response = owner_client.get(reverse("integrations:salesforce_callback"), {"code": "c", "state": state})

    assert response.status_code == 302
    connection.refresh_from_db()
    assert (connection.status, connection.status_reason) == ("connected", "")
    assert connection.refresh_token == "5Aep.refresh-1"
    assert connection.merge_strategy == "append"  # settings survive
    assert Connection.objects.count() == 1
    assert [parse_qs(c.request.body) for c in revoked.calls] == [{"token": ["5Aep.refresh-0"]}]


@responses.activate
def test_reconnecting_with_another_org_is_refused(owner_client, workspace, make_connection):
    connection = make_connection(
        workspace, org_id="00DOTHERORG0000AAA", status=Connection.Status.NEEDS_REAUTH
    )
    before = snapshot()
    response = owner_client.post(
        reverse("integrations:salesforce_reconnect", args=[connection.pk]), {"login_kind": "production"}
    )
    state = parse_qs(urlsplit(response["Location"]).query)["state"][0]
    mock_salesforce()

    response = owner_client.get(reverse("integrations:salesforce_callback"), {"code": "c", "state": state})

    assert response.status_code == 400
    assert (
        f"You signed in to Salesforce org {ORG_ID}, but this connection is for org 00DOTHERORG0000AAA."
        in (response.content.decode())
    )
    assert snapshot() == before


def test_members_cannot_start_a_connection(client, workspace, make_user, sf_settings):
    from cdp.models import Membership

    member = make_user()
    Membership.objects.create(workspace=workspace, user=member, role=Membership.Role.MEMBER)
    client.force_login(member)

    assert client.get(reverse("integrations:salesforce_connect")).status_code == 403
    assert (
        client.post(reverse("integrations:salesforce_connect"), {"login_kind": "production"}).status_code
        == 403
    )


def test_anonymous_users_are_sent_to_log_in(client, sf_settings):
    response = client.get(reverse("integrations:salesforce_callback"), {"code": "c", "state": "s"})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@responses.activate
def test_error_reports_do_not_show_tokens_or_secrets(workspace, sf_settings):
    """What Django's 500 page / admin error e-mail would render for a failure deep in the connect service."""
    import sys

    from django.views.debug import ExceptionReporter

    from integrations.salesforce.errors import SalesforceOAuthError
    from integrations.services import connection_connect_via_oauth

    mock_salesforce(identity_status=500)
    code, verifier = "code-abc-123", "verifier-secret-xyz"
    try:
        connection_connect_via_oauth(
            workspace=workspace,
            login_url=LOGIN,
            login_kind="production",
            code=code,
            redirect_uri=CALLBACK,
            code_verifier=verifier,
        )
    except SalesforceOAuthError:
        exc_type, exc, traceback = sys.exc_info()
        # From the service down (this test's own frame holds the values it passed in).
        report = ExceptionReporter(None, exc_type, exc, traceback.tb_next).get_traceback_html()
    else:
        pytest.fail("expected the identity failure")

    assert "connection_connect_via_oauth" in report and "fetch_identity" in report
    body = token_body()
    for secret in (
        code,
        verifier,
        body["access_token"],
        body["refresh_token"],
        sf_settings.SALESFORCE_CLIENT_SECRET,
    ):
        assert secret not in report


@pytest.mark.parametrize(
    ("token", "identity_status"),
    [(token_body(secret="another-apps-secret"), 200), (token_body(), 500), ("not json", 200)],
    ids=["wrong-signature", "identity-fails", "malformed-token"],
)
@responses.activate
def test_a_failed_reconnect_leaves_the_existing_connection_as_it_was(
    owner_client, workspace, make_connection, token, identity_status
):
    connection = make_connection(workspace, status=Connection.Status.NEEDS_REAUTH, status_reason="expired")
    before = snapshot()
    response = owner_client.post(
        reverse("integrations:salesforce_reconnect", args=[connection.pk]), {"login_kind": "production"}
    )
    state = parse_qs(urlsplit(response["Location"]).query)["state"][0]
    mock_salesforce(token=token, identity_status=identity_status)

    response = owner_client.get(reverse("integrations:salesforce_callback"), {"code": "c", "state": state})

    assert response.status_code == 400
    assert "Nothing was saved." in response.content.decode()
    assert snapshot() == before
