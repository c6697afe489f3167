"""Mapping: Salesforce REST/Bulk records (WIRE.md §3.2, §3.5, §4.4 shapes) -> CDP rows and activities."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from integrations.salesforce import bulk_csv, permissions, soql, target_fields, values
from integrations.salesforce.mapped_page import Key, MapContext
from integrations.salesforce.mapping import ObjectMapper, Selection
from integrations.salesforce.permissions import PermissionRule

NOW = dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.UTC)
RECENT = "2026-11-20T10:11:12.000+0000"
OLD = "2024-01-02T03:04:05.000+0000"


def contact(sf_id="003RO0000035WQgYAM", **fields):
    record = {
        "attributes": {"type": "Contact", "url": f"/services/data/v62.0/sobjects/Contact/{sf_id}"},
        "Id": sf_id,
        "SystemModstamp": RECENT,
        "IsDeleted": False,
        "CreatedDate": RECENT,
        "Email": "jane@acme.example",
        "FirstName": "Jane",
        "LastName": "Doe",
        "AccountId": "001R000000Z1Y0xYAA",
        "HasOptedOutOfEmail": False,
    }
    record.update(fields)
    return record


def contact_mapper(**kw):
    kw.setdefault(
        "email_rule",
        PermissionRule.from_config(
            {"field": "HasOptedOutOfEmail", "subscribed": False, "unsubscribed": True}
        ),
    )
    return ObjectMapper(
        connection_id=7,
        object_name="Contact",
        becomes="person",
        selections=[
            Selection("FirstName", "string", "str::first"),
            Selection("LastName", "string", "str::last"),
            Selection("LeadSource", "picklist", "str:sfc:lead-source"),
            Selection("Score__c", "double", "dec:scc:score"),
        ],
        activity_since=NOW - dt.timedelta(days=90),
        **kw,
    )


def test_contact_becomes_a_person_linked_to_its_account_with_permission_and_created_activity():
    result = contact_mapper().map_page([contact(LeadSource="Web", Score__c=19.99)])

    assert result.errors == []
    [person] = result.people
    assert person.key == Key("salesforce:7", "Contact", "003RO0000035WQgYAM")
    assert person.organization_key == Key("salesforce:7", "Account", "001R000000Z1Y0xYAA")
    assert person.fields == {
        "str::first": "Jane",
        "str::last": "Doe",
        "str:sfc:lead-source": "Web",
        "dec:scc:score": Decimal("19.99"),
        "str::email": "jane@acme.example",
    }  # not opted out: a new person is subscribed by the CDP's default, an existing one keeps their state
    [activity] = result.activities
    assert activity.activity_id == "act:sfc:contact-created"
    assert activity.source_key == "sf:7:003RO0000035WQgYAM:created"
    assert activity.occurred_at == dt.datetime(2026, 11, 20, 10, 11, 12, tzinfo=dt.UTC)
    [source] = result.source_records
    assert "attributes" not in source.payload
    assert result.max_cursor == (dt.datetime(2026, 11, 20, 10, 11, 12, tzinfo=dt.UTC), "003RO0000035WQgYAM")


def test_opted_out_contact_is_unsubscribed_and_no_rule_leaves_permission_to_the_cdp_default():
    [opted_out] = contact_mapper().map_page([contact(HasOptedOutOfEmail=True)]).people
    assert opted_out.fields["bol::p"] is False

    [no_rule] = contact_mapper(email_rule=None).map_page([contact(HasOptedOutOfEmail=True)]).people
    assert "bol::p" not in no_rule.fields


def test_only_this_records_own_opt_in_after_an_opt_out_resubscribes():
    opted_out = values.clean_payload(contact(HasOptedOutOfEmail=True))
    previous = {opted_out["Id"]: (values.parse_datetime(RECENT), "old", opted_out)}
    back_in = contact(HasOptedOutOfEmail=False, SystemModstamp="2026-11-26T00:00:00.000+0000")
    [person] = contact_mapper().map_page([back_in], previous).people
    assert person.fields["bol::p"] is True


def test_non_boolean_permission_field_with_both_values():
    rule = PermissionRule.from_config(
        {"field": "Email_Status__c", "subscribed": "All Emails", "unsubscribed": "None"}
    )
    assert rule.evaluate({"Email_Status__c": "all emails"}) is True
    assert rule.evaluate({"Email_Status__c": "None"}) is False
    assert rule.evaluate({"Email_Status__c": "Marketing Only"}) is None
    assert rule.evaluate({}) is None


def test_sms_only_with_a_chosen_field():
    mapper = contact_mapper(
        sms_rule=PermissionRule.from_config(
            {"field": "SMS_Opt_In__c", "subscribed": True, "unsubscribed": False}
        )
    )
    [person] = mapper.map_page([contact(SMS_Opt_In__c=True)]).people
    assert person.fields["bol::sp"] is True
    [person] = contact_mapper().map_page([contact(SMS_Opt_In__c=True)]).people
    assert "bol::sp" not in person.fields


def test_unchanged_record_at_same_modstamp_is_skipped_and_changed_one_is_applied():
    record = contact()
    payload = values.clean_payload(record)
    stamp = values.parse_datetime(RECENT)
    previous = {record["Id"]: (stamp, values.payload_hash(payload), payload)}

    same = contact_mapper().map_page([record], previous)
    changed = contact_mapper().map_page([contact(FirstName="Janet")], previous)

    assert (same.skipped, same.people, same.source_records, same.activities) == (1, [], [], [])
    assert changed.skipped == 0
    assert changed.people[0].fields["str::first"] == "Janet"
    assert changed.activities == []  # not new: no second "created"


def test_backfill_only_records_activities_inside_the_retention_window():
    result = contact_mapper().map_page([contact(CreatedDate=OLD)])
    assert len(result.people) == 1
    assert result.activities == []


def test_duplicate_ids_in_a_page_keep_the_newest_and_report_the_duplicate():
    newer = contact(FirstName="New", SystemModstamp="2026-11-21T00:00:00.000+0000")
    older = contact(FirstName="Old")
    result = contact_mapper().map_page([newer, older])
    assert [p.fields["str::first"] for p in result.people] == ["New"]
    assert [(e.error_type, e.sf_id) for e in result.errors] == [("duplicate", "003RO0000035WQgYAM")]


def test_records_without_id_or_modstamp_are_errors_and_the_rest_of_the_page_goes_on():
    result = contact_mapper().map_page(
        [{"Email": "x@y.z"}, contact(SystemModstamp=None), contact(sf_id="003000000000002AAA")]
    )
    assert [e.error_type for e in result.errors] == ["malformed", "malformed"]
    assert [p.sf_id for p in result.people] == ["003000000000002AAA"]


def test_soft_deleted_row_archives_its_key():
    result = contact_mapper().map_page([contact(IsDeleted=True)])
    assert result.people == []
    assert result.archive_keys == [Key("salesforce:7", "Contact", "003RO0000035WQgYAM")]
    assert result.source_records[0].deleted is True


def lead(**fields):
    record = {
        "attributes": {"type": "Lead", "url": "/services/data/v62.0/sobjects/Lead/00QRO000001abcdAAA"},
        "Id": "00QRO000001abcdAAA",
        "SystemModstamp": RECENT,
        "CreatedDate": RECENT,
        "Email": "lee@acme.example",
        "Status": "Open - Not Contacted",
        "IsConverted": False,
        "ConvertedContactId": None,
        "ConvertedDate": None,
        "Company": "Acme",
    }
    record.update(fields)
    return record


def lead_mapper(**kw):
    return ObjectMapper(
        connection_id=7,
        object_name="Lead",
        becomes="person",
        selections=[
            Selection("Company", "string", "str:o:name"),
            Selection("Status", "picklist", "str:sfl:status"),
        ],
        activity_since=NOW - dt.timedelta(days=90),
        **kw,
    )


def test_lead_status_change_and_conversion_follow_the_contact_when_the_setting_is_on():
    before = values.clean_payload(lead())
    stamp = values.parse_datetime(RECENT)
    previous = {before["Id"]: (stamp, values.payload_hash(before), before)}
    converted = lead(
        SystemModstamp="2026-11-25T09:00:00.000+0000",
        Status="Closed - Converted",
        IsConverted=True,
        ConvertedContactId="003RO0000035WQgYAM",
        ConvertedDate="2026-11-25",
    )

    result = lead_mapper().map_page([converted], previous)

    [person] = result.people
    assert person.extra_keys == (Key("salesforce:7", "Contact", "003RO0000035WQgYAM"),)
    assert person.organization_key is None  # the converted lead follows its contact's account
    assert [(a.activity_id, a.source_key) for a in result.activities] == [
        (
            "act:sfl:lead-status-changed",
            "sf:7:00QRO000001abcdAAA:status:Closed - Converted:2026-11-25T09:00:00.000+0000",
        ),
        ("act:sfl:lead-converted", "sf:7:00QRO000001abcdAAA:converted"),
    ]
    [not_merged] = lead_mapper(merge_converted_leads=False).map_page([converted], previous).people
    assert not_merged.extra_keys == ()


def test_lead_company_becomes_its_organization():
    result = lead_mapper().map_page([lead()])
    [org] = result.organizations
    assert org.key == Key("salesforce:7", "LeadCompany", "acme")
    assert org.fields == {"str:o:name": "Acme"}
    assert result.people[0].organization_key == org.key
    assert "str:o:name" not in result.people[0].fields


def opportunity(**fields):
    record = {
        "Id": "006RO000000opp1AAA",
        "SystemModstamp": RECENT,
        "CreatedDate": RECENT,
        "Name": "Big deal",
        "StageName": "Prospecting",
        "IsClosed": False,
        "IsWon": False,
        "Amount": 1250.5,
        "CloseDate": "2026-12-01",
    }
    record.update(fields)
    return record


def test_opportunity_reaches_people_through_contact_roles_primary_first_with_amount():
    mapper = ObjectMapper(7, "Opportunity", "activity_source", [], activity_since=NOW - dt.timedelta(days=90))
    context = MapContext(opportunity_contacts={"006RO000000opp1AAA": [("003A", True), ("003B", False)]})
    prev_payload = opportunity()
    previous = {"006RO000000opp1AAA": (values.parse_datetime(RECENT), "old", prev_payload)}
    won = opportunity(
        SystemModstamp="2026-11-26T00:00:00.000+0000", StageName="Closed Won", IsClosed=True, IsWon=True
    )

    result = mapper.map_page([won], previous, context)

    assert [(a.activity_id, a.person_key.external_id) for a in result.activities] == [
        ("act:sfp:opportunity-stage-changed", "003A"),
        ("act:sfp:opportunity-won", "003A"),
        ("act:sfp:opportunity-stage-changed", "003B"),
        ("act:sfp:opportunity-won", "003B"),
    ]
    assert result.activities[1].attributes == {
        "str:sfp:name": "Big deal",
        "str:sfp:stage": "Closed Won",
        "cur:sfp:amount": Decimal("1250.5"),
        "bol:sfp:primary-contact": True,
    }


def test_campaign_member_added_status_changed_and_responded():
    mapper = ObjectMapper(
        7, "CampaignMember", "activity_source", [], activity_since=NOW - dt.timedelta(days=90)
    )
    member = {
        "Id": "00vRO0000000001AAA",
        "SystemModstamp": RECENT,
        "CreatedDate": RECENT,
        "CampaignId": "701A",
        "ContactId": None,
        "LeadId": "00QRO000001abcdAAA",
        "Status": "Sent",
        "HasResponded": False,
    }
    ctx = MapContext(campaign_names={"701A": "Spring launch"})
    first = mapper.map_page([member], {}, ctx)
    assert [(a.activity_id, a.person_key.object, a.attributes) for a in first.activities] == [
        ("act:sfk:added-to-campaign", "Lead", {"str:sfk:campaign": "Spring launch", "str:sfk:status": "Sent"})
    ]
    responded = {
        **member,
        "SystemModstamp": "2026-11-26T00:00:00.000+0000",
        "Status": "Responded",
        "HasResponded": True,
    }
    second = mapper.map_page([responded], {member["Id"]: (values.parse_datetime(RECENT), "h", member)}, ctx)
    assert [a.activity_id for a in second.activities] == [
        "act:sfk:campaign-member-status-changed",
        "act:sfk:campaign-responded",
    ]


def test_task_created_and_completed_on_its_who():
    mapper = ObjectMapper(7, "Task", "activity_source", [], activity_since=NOW - dt.timedelta(days=90))
    task = {
        "Id": "00TRO0000000001AAA",
        "SystemModstamp": RECENT,
        "CreatedDate": RECENT,
        "WhoId": "003RO0000035WQgYAM",
        "Subject": "Call",
        "Status": "Completed",
        "IsClosed": True,
        "CompletedDateTime": RECENT,
    }
    result = mapper.map_page([task])
    assert [a.activity_id for a in result.activities] == ["act:sft:task-created", "act:sft:task-completed"]
    assert mapper.map_page([{**task, "WhoId": "001RO0000000001AAA"}]).activities == []


def test_bulk_csv_values_are_typed_like_rest():
    row = {
        "Id": "003A",
        "IsDeleted": "false",
        "NumberOfEmployees": "12",
        "Amount": "19.99",
        "Name": None,
        "Zip": "01234",
    }
    types = {
        "IsDeleted": "boolean",
        "NumberOfEmployees": "int",
        "Amount": "currency",
        "Name": "string",
        "Zip": "string",
    }
    assert bulk_csv.normalize_bulk_row(row, types) == {
        "Id": "003A",
        "IsDeleted": False,
        "NumberOfEmployees": 12,
        "Amount": 19.99,
        "Name": None,
        "Zip": "01234",
    }


def test_default_targets_use_builtins_then_ortto_namespaces():
    assert target_fields.default_target_field("Contact", "Email", "email") == "str::email"
    assert target_fields.default_target_field("Contact", "LeadSource", "picklist") == "str:sfc:lead-source"
    assert (
        target_fields.default_target_field("Contact", "Loyalty_Tier__c", "picklist") == "str:scc:loyalty-tier"
    )
    assert target_fields.default_target_field("Lead", "Rating", "picklist") == "str:sfl:rating"
    assert (
        target_fields.default_target_field("Account", "AnnualRevenue", "currency") == "cur:osa:annual-revenue"
    )
    assert (
        target_fields.default_target_field("Opportunity", "Probability", "percent") == "dec:sfp:probability"
    )
    assert target_fields.default_target_field("Task", "Priority", "picklist") == "str:sft:priority"
    assert target_fields.default_target_field("Campaign", "Budget__c", "currency") == "cur:skc:budget"
    assert target_fields.default_target_field("Loan__c", "Due_Date__c", "date") == "dtz:soc:due-date"


def test_soql_orders_by_modstamp_and_id_from_the_watermark():
    since = dt.datetime(2026, 11, 20, 10, 11, 12, 345000, tzinfo=dt.UTC)
    assert soql.build_soql("Contact", ["Id", "Email"], since=since) == (
        "SELECT Id, Email FROM Contact WHERE SystemModstamp >= 2026-11-20T10:11:12.345Z ORDER BY SystemModstamp, Id"
    )
    assert soql.build_soql("Contact", ["Id"], ordered=False) == "SELECT Id FROM Contact"


def test_bulk_csv_values_normalise_to_what_the_rest_json_of_the_same_record_holds():
    # A record read by Bulk must hash like the same record read over REST, or an unchanged full re-read
    # rewrites it: JSON gives 50000 for a whole-number amount and 50000.5 otherwise.
    assert bulk_csv.normalize_bulk_value("50000", "currency") == 50000
    assert isinstance(bulk_csv.normalize_bulk_value("50000", "currency"), int)
    assert bulk_csv.normalize_bulk_value("-12", "double") == -12
    assert bulk_csv.normalize_bulk_value("50000.5", "currency") == 50000.5
    assert bulk_csv.normalize_bulk_value("75.0", "percent") == 75.0
    assert isinstance(bulk_csv.normalize_bulk_value("75.0", "percent"), float)
    assert bulk_csv.normalize_bulk_value("not a number", "double") == "not a number"


# --- write-back: directions, the value written, our own write coming back --------------------------------


def test_a_rule_that_only_updates_salesforce_is_not_read():
    config = {"field": "HasOptedOutOfEmail", "subscribed": False, "unsubscribed": True}
    assert PermissionRule.from_config({**config, "direction": "to_salesforce"}) is None
    assert PermissionRule.from_config({**config, "direction": "both"}) is not None
    assert permissions.rule_writes_back({**config, "direction": "both"})
    assert not permissions.rule_writes_back(config)


def test_the_value_written_is_the_rules_value_for_the_state():
    opt_out = PermissionRule.of({"field": "HasOptedOutOfEmail", "unsubscribed": True})
    assert (opt_out.value_for(True), opt_out.value_for(False)) == (False, True)
    status = PermissionRule.of(
        {"field": "Email_Status__c", "subscribed": "All Emails", "unsubscribed": "None"}
    )
    assert (status.value_for(True), status.value_for(False)) == ("All Emails", "None")
    one_sided = PermissionRule.of({"field": "Email_Status__c", "subscribed": "All Emails"})
    assert one_sided.value_for(False) is None


def test_our_own_write_coming_back_is_not_a_change_from_salesforce():
    mapper = contact_mapper()
    stamp = values.parse_datetime(RECENT)
    previous = {
        "003RO0000035WQgYAM": (stamp - dt.timedelta(minutes=5), "old", contact(HasOptedOutOfEmail=True))
    }
    record = contact(HasOptedOutOfEmail=False)
    echo = MapContext(echoes={"003RO0000035WQgYAM": (stamp, {"HasOptedOutOfEmail": False})})
    assert "bol::p" not in mapper.map_page([record], previous, echo).people[0].fields
    # Without our write (or a later change of the record) it is Salesforce's re-subscribe.
    assert mapper.map_page([record], previous).people[0].fields["bol::p"] is True
    later = MapContext(
        echoes={"003RO0000035WQgYAM": (stamp - dt.timedelta(seconds=1), {"HasOptedOutOfEmail": False})}
    )
    assert mapper.map_page([record], previous, later).people[0].fields["bol::p"] is True


def test_a_person_account_row_is_an_organization_and_a_person():
    mapper = ObjectMapper(
        7,
        "Account",
        "organization",
        [
            Selection("Name", "string", "str:o:name"),
            Selection("Loyalty_Number__pc", "string", "str:scc:loyalty-number"),
        ],
        email_rule=PermissionRule.from_config({"field": "PersonHasOptedOutOfEmail", "unsubscribed": True}),
    )
    base = {"Id": "001R000000Z1Y0xYAA", "SystemModstamp": RECENT, "IsDeleted": False, "Name": "Ada Lovelace"}
    person_account = {
        **base,
        "IsPersonAccount": True,
        "FirstName": "Ada",
        "LastName": "Lovelace",
        "PersonEmail": "ada@example.com",
        "PersonMobilePhone": "+1 415 555 0100",
        "PersonHasOptedOutOfEmail": True,
        "Loyalty_Number__pc": "L-1",
    }
    result = mapper.map_page([person_account])
    assert [o.fields for o in result.organizations] == [{"str:o:name": "Ada Lovelace"}]
    (person,) = result.people
    assert person.key == Key("salesforce:7", "PersonAccount", "001R000000Z1Y0xYAA")
    assert person.organization_key == Key("salesforce:7", "Account", "001R000000Z1Y0xYAA")
    assert (
        person.fields["str::email"] == "ada@example.com" and person.fields["phn::phone"] == "+1 415 555 0100"
    )
    assert person.fields["str:scc:loyalty-number"] == "L-1" and person.fields["bol::p"] is False
    business = mapper.map_page([{**base, "IsPersonAccount": False, "Loyalty_Number__pc": None}])
    assert business.people == [] and len(business.organizations) == 1
    assert (
        target_fields.default_target_field("Account", "Loyalty_Number__pc", "string")
        == "str:scc:loyalty-number"
    )
