from __future__ import annotations

import io

import pytest
from PIL import Image

from onboarding.services import profile_update


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # These tests are about onboarding, not password storage: a fast hasher keeps them quick.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return settings.MEDIA_ROOT


@pytest.fixture
def png_bytes():
    def make(*, size=(64, 32), colour=(59, 91, 219), image_format="PNG") -> bytes:
        buffer = io.BytesIO()
        Image.new("RGB", size, colour).save(buffer, format=image_format)
        return buffer.getvalue()

    return make


@pytest.fixture
def b2c_workspace(workspace):
    """A workspace past "About your business" on the path without Salesforce."""
    profile_update(workspace=workspace, data={"business_type": "b2c", "crm": "other"})
    return workspace


ADDRESS = {
    "address_line1": "1 Market Street",
    "address_line2": "Suite 400",
    "city": "San Francisco",
    "region": "CA",
    "postal_code": "94105",
    "country": "US",
}
EMAIL = {"sender_name": "Acme Team", "sender_email": "hello@acme.example", "reply_to": "support@acme.example"}
BRAND = {
    "primary_color": "#ff6600",
    "background_color": "#ffffff",
    "text_color": "#111111",
    "font": "georgia",
    "button_style": "pill",
}
LINKS = {
    "website_url": "https://acme.example",
    "facebook_url": "https://facebook.com/acme",
    "x_url": "",
    "linkedin_url": "https://www.linkedin.com/company/acme",
    "instagram_url": "",
    "youtube_url": "",
}


def _field(name, *, type_="string", custom=False, label=None, reference_to=(), picklist=()):
    return {
        "name": name,
        "label": label or name.replace("__c", "").replace("_", " "),
        "type": type_,
        "custom": custom,
        "referenceTo": list(reference_to),
        "nillable": True,
        "length": 80,
        "picklistValues": [{"value": v, "active": True} for v in picklist],
    }


def _describe(name, label, fields, *, custom=False):
    system = [
        _field("Id", type_="id"),
        _field("SystemModstamp", type_="datetime"),
        _field("IsDeleted", type_="boolean"),
    ]
    return {
        "name": name,
        "label": label,
        "labelPlural": label + "s",
        "custom": custom,
        "queryable": True,
        "replicateable": True,
        "keyPrefix": "a00",
        "fields": system + fields,
    }


def describes():
    contact_extra = [_field(f"Extra_{i:02d}__c", custom=True, label=f"Extra {i:02d}") for i in range(1, 56)]
    return [
        _describe("Campaign", "Campaign", [_field("Name"), _field("Type"), _field("Status")]),
        _describe(
            "Contact",
            "Contact",
            [
                _field("Email", type_="email"),
                _field("FirstName"),
                _field("LastName"),
                _field("Phone", type_="phone"),
                _field("HasOptedOutOfEmail", type_="boolean", label="Email Opt Out"),
                _field("SMS_Opt_In__c", type_="boolean", custom=True, label="SMS opt-in"),
                _field(
                    "Email_Status__c",
                    type_="picklist",
                    custom=True,
                    picklist=("All Emails", "Marketing Only", "None"),
                ),
                _field("AccountId", type_="reference", reference_to=("Account",)),
                *contact_extra,
            ],
        ),
        _describe(
            "Lead",
            "Lead",
            [
                _field("Email", type_="email"),
                _field("LastName"),
                _field("Company"),
                _field("HasOptedOutOfEmail", type_="boolean"),
            ],
        ),
        _describe(
            "Opportunity",
            "Opportunity",
            [_field("Name"), _field("StageName"), _field("Amount", type_="currency")],
        ),
        _describe("Task", "Task", [_field("Subject"), _field("Status")]),
        _describe("Account", "Account", [_field("Name"), _field("Website", type_="url")]),
        _describe(
            "Dossier__c",
            "Dossier",
            [_field("Name"), _field("Contact__c", type_="reference", custom=True, reference_to=("Contact",))],
            custom=True,
        ),
        _describe(
            "Loan__c",
            "Loan",
            [
                _field("Name"),
                _field("Dossier__c", type_="reference", custom=True, reference_to=("Dossier__c",)),
            ],
            custom=True,
        ),
        _describe(
            "Instalment__c",
            "Instalment",
            [_field("Name"), _field("Loan__c", type_="reference", custom=True, reference_to=("Loan__c",))],
            custom=True,
        ),
        _describe(
            "Organization__c",
            "Organization",
            [
                _field("Name"),
                _field("Website__c", type_="url", custom=True),
                _field("Org_Email__c", type_="string", custom=True),
                _field("Industry__c", type_="picklist", custom=True),
            ],
            custom=True,
        ),
    ]


@pytest.fixture
def catalogue(monkeypatch):
    """The org's catalogue built by the real catalogue code from describe JSON; samples from a fixed row."""
    from integrations import catalog_offers
    from integrations.salesforce import catalog

    objects = [catalog.catalog_object(d) for d in describes()]
    monkeypatch.setattr(catalog, "objects_for", lambda *, connection, refresh=False: objects)
    monkeypatch.setattr(
        catalog_offers,
        "_read_samples",
        lambda connection, offer: (
            {"Email": "ada@example.com", "FirstName": "Ada"} if offer.api_name == "Contact" else {}
        ),
    )
    return objects


@pytest.fixture
def connection(workspace):
    from integrations.models import Connection

    conn = Connection(
        workspace=workspace,
        org_id="00D000000000001AAA",
        sf_user_id="005000000000001AAA",
        username="admin@acme.example",
        instance_url="https://acme.my.salesforce.com",
        login_url="https://login.salesforce.com",
        api_version="62.0",
    )
    conn.set_tokens(access_token="access-token", refresh_token="refresh-token")
    conn.save()
    return conn


@pytest.fixture
def sf_workspace(workspace, connection, catalogue):
    """B2B on Salesforce, connected: the next step is Sync custom fields."""
    profile_update(workspace=workspace, data={"business_type": "b2b", "crm": "salesforce"})
    return workspace
