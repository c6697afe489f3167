"""The catalogue over real describes recorded from a Salesforce org (fixtures/, from CumulusCI cassettes)."""

from __future__ import annotations

import copy

from integrations.salesforce import catalog
from tests.integrations.connection.conftest import recorded


def test_offered_objects_are_queryable_replicateable_and_not_events_history_shares_or_feeds():
    names = [o.name for o in catalog.offered_objects(recorded("describeGlobal"))]

    assert {"Account", "Campaign", "CampaignMember", "Contact", "Lead", "Opportunity", "Event"} <= set(names)
    assert not [n for n in names if n.endswith(("ChangeEvent", "History", "Share", "Feed"))]
    assert "UiFormulaRule" not in names  # queryable but not replicateable
    assert "UriEventStream" not in names  # not queryable


def test_contact_fields_map_to_built_in_cdp_fields_and_default_selection_stays_within_50():
    contact = catalog.catalog_object(recorded("describe_Contact"))

    mapped = {f.name: f.cdp_field for f in contact.fields if f.cdp_field.split(":")[1] == ""}
    assert mapped == {
        "Email": "str::email",
        "FirstName": "str::first",
        "LastName": "str::last",
        "Phone": "phn::phone",
        "MobilePhone": "phn::phone",
        "MailingCity": "geo::city",
        "MailingState": "geo::region",
        "MailingCountry": "geo::country",
        "MailingPostalCode": "str::postal",
        "Birthdate": "dtz::b",
    }
    # Every other field feeds its own field in the Contact namespace.
    assert contact.field("Title").cdp_field == "str:sfc:title"
    assert contact.field("Loyalty_Tier__c") is None or contact.field("Loyalty_Tier__c").cdp_field.startswith(
        "str:scc:"
    )
    # Phone and MobilePhone both feed the phone number, in a stated order: the first non-empty wins.
    assert (contact.field("Phone").target_order, contact.field("MobilePhone").target_order) == (1, 2)
    assert contact.default and contact.kind == "person" and contact.needs_identifiers is False
    assert set(contact.default_selection) == set(mapped) | {
        "Title",
        "Department",
        "AccountId",
        "LeadSource",
        "OwnerId",
    }
    assert len(contact.default_selection) <= catalog.MAX_FIELDS_PER_OBJECT
    # Compound and system fields are never offered; their parts are.
    names = {f.name for f in contact.fields}
    assert {"MailingAddress", "Id", "SystemModstamp", "IsDeleted"}.isdisjoint(names)
    assert contact.system_fields == ("CreatedDate", "Id", "IsDeleted", "LastModifiedDate", "SystemModstamp")
    email = contact.field("Email")
    assert (email.label, email.type, email.custom, email.length) == ("Email", "email", False, 80)


def test_lead_company_feeds_the_organization():
    lead = catalog.catalog_object(recorded("describe_Lead"))

    assert lead.field("Company").cdp_field == "str:o:name"
    assert lead.field("City").cdp_field == "geo::city"
    assert lead.field("Status").picklist_values == (
        "Open - Not Contacted",
        "Working - Contacted",
        "Closed - Converted",
        "Closed - Not Converted",
    )


def test_account_maps_to_organization_fields():
    account = catalog.catalog_object(recorded("describe_Account"))

    assert account.kind == "organization" and account.default
    assert {f.name: f.cdp_field for f in account.fields if f.cdp_field.split(":")[1] == "o"} == {
        "Name": "str:o:name",
        "BillingStreet": "str:o:address",
        "BillingCity": "geo:o:city",
        "BillingState": "geo:o:region",
        "BillingPostalCode": "str:o:postal",
        "BillingCountry": "geo:o:country",
        "Website": "str:o:website",
        "Industry": "str:o:industry",
        "NumberOfEmployees": "int:o:employees",
    }
    # The catalogue and the mapping agree: one table says where AccountSource goes.
    assert account.field("AccountSource").cdp_field == "str:osa:account-source"
    assert set(account.default_selection) >= {"Name", "Website", "Industry", "AccountSource", "OwnerId"}


def test_a_custom_object_with_no_lookup_and_no_email_needs_identifiers():
    custom = catalog.catalog_object(recorded("describe_Custom__c"))

    assert (custom.custom, custom.kind, custom.link, custom.needs_identifiers) == (
        True,
        "custom_object",
        None,
        True,
    )
    assert custom.organization_like is False


def test_links_prefer_a_contact_lookup_then_lead_then_account_then_email():
    base = recorded("describe_Custom__c")

    def with_fields(*extra):
        describe = copy.deepcopy(base)
        describe["fields"].extend(extra)
        return catalog.catalog_object(describe)

    account_ref = {"name": "Account__c", "type": "reference", "referenceTo": ["Account"], "label": "Account"}
    contact_ref = {"name": "Person__c", "type": "reference", "referenceTo": ["Contact"], "label": "Person"}
    email = {"name": "Billing_Email__c", "type": "email", "label": "Billing email"}
    website = {"name": "Website__c", "type": "url", "label": "Website"}

    assert with_fields(account_ref, contact_ref).link == catalog.Link("reference", "Person__c", "Contact")
    assert with_fields(account_ref).link.description == "through its Account__c lookup to Account"
    assert with_fields(email).link == catalog.Link("email", "Billing_Email__c", "str::email")
    organization_like = with_fields(website)
    assert organization_like.needs_identifiers is True and organization_like.organization_like is True


class FakeClient:
    def __init__(self):
        self.described = []

    def describe_global(self):
        return recorded("describeGlobal")

    def describe(self, name):
        self.described.append(name)
        try:
            return recorded(f"describe_{name}")
        except FileNotFoundError:
            summary = next(s for s in recorded("describeGlobal")["sobjects"] if s["name"] == name)
            return {**summary, "fields": [{"name": "Id", "type": "id"}, {"name": "Name", "type": "string"}]}


def test_build_catalog_splits_default_objects_from_the_rest():
    client = FakeClient()

    result = catalog.build_catalog(client)

    # The recorded org has no Task; the catalogue's default objects are there, in the catalogue's order.
    assert [o.name for o in result.default_objects] == [
        "Account",
        "Contact",
        "Lead",
        "Campaign",
        "Opportunity",
    ]
    assert result.get("CampaignMember").described and result.get("OpportunityContactRole").described
    assert result.get("WorkOrder").described is False  # listed, described on request
    assert set(client.described) == {
        "Campaign",
        "Contact",
        "Lead",
        "Opportunity",
        "Account",
        "CampaignMember",
        "OpportunityContactRole",
        "Event",
        "Case",
    }
    others = [o.name for o in result.other_objects]
    assert others.index("CampaignMember") < others.index("WorkOrder")
