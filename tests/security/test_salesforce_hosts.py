"""Finding 6: with DEBUG on, any host (e.g. http://169.254.169.254) was accepted as My Domain and the
server sent the client secret and the code there. The host check is on in every mode; only the local
sandbox orgs named in SALESFORCE_LOCAL_ORIGINS are allowed besides Salesforce's hosts."""

from __future__ import annotations

import pytest
from django.urls import reverse

from integrations.salesforce import oauth
from integrations.salesforce.errors import SalesforceOAuthError

pytestmark = pytest.mark.django_db


@pytest.fixture
def debug_on(settings):
    settings.DEBUG = True
    settings.SALESFORCE_CLIENT_ID = "inflow-local-dev"
    settings.SALESFORCE_CLIENT_SECRET = "inflow-local-dev-secret"
    settings.SALESFORCE_LOCAL_ORIGINS = []
    return settings


@pytest.mark.parametrize(
    "url",
    ["http://169.254.169.254", "https://169.254.169.254", "http://127.0.0.1:6379", "https://evil.example"],
)
def test_with_debug_on_a_non_salesforce_host_is_refused(debug_on, url):
    with pytest.raises(SalesforceOAuthError) as refused:
        oauth.validate_salesforce_url(url, what="My Domain URL")
    assert refused.value.error in {"insecure_url", "untrusted_host"}


def test_the_connect_page_with_debug_on_refuses_the_metadata_address(debug_on, owner_client):
    response = owner_client.post(
        reverse("integrations:salesforce_connect"),
        {"login_kind": "my_domain", "my_domain_url": "http://169.254.169.254"},
    )
    assert response.status_code == 200  # the form again, no redirect to that host
    assert "must use https://" in response.content.decode()
    response = owner_client.post(
        reverse("integrations:salesforce_connect"),
        {"login_kind": "my_domain", "my_domain_url": "https://169.254.169.254"},
    )
    assert response.status_code == 200
    assert "must be a Salesforce host" in response.content.decode()


def test_only_the_named_local_origin_is_allowed(debug_on):
    debug_on.SALESFORCE_LOCAL_ORIGINS = ["http://127.0.0.1:8765"]
    assert oauth.validate_salesforce_url("http://127.0.0.1:8765/") == "http://127.0.0.1:8765"
    for other in ("http://127.0.0.1:6379", "http://localhost:8765", "https://127.0.0.1:8765"):
        with pytest.raises(SalesforceOAuthError):
            oauth.validate_salesforce_url(other)
    assert oauth.validate_salesforce_url("https://acme.my.salesforce.com") == "https://acme.my.salesforce.com"


def test_a_named_local_origin_works_with_debug_off(settings):
    settings.DEBUG = False
    settings.SALESFORCE_LOCAL_ORIGINS = ["http://127.0.0.1:8765"]
    assert oauth.validate_salesforce_url("http://127.0.0.1:8765") == "http://127.0.0.1:8765"
