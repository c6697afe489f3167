"""What a Salesforce delete takes along, written out from Salesforce's documentation and a real org's
describes (independently of the sandbox's code), and helpers to read an org around a change."""

from __future__ import annotations

import datetime as dt

V = "/services/data/v62.0"

# Parent object -> (child object, reference field) sent to the recycle bin with it.
CASCADES = {
    "Account": [("Contact", "AccountId"), ("Opportunity", "AccountId"), ("Task", "WhatId")],
    "Contact": [
        ("Task", "WhoId"),
        ("OpportunityContactRole", "ContactId"),
        ("CampaignMember", "ContactId"),
        ("Enrollment__c", "Contact__c"),
    ],
    "Lead": [("Task", "WhoId"), ("CampaignMember", "LeadId")],
    "Opportunity": [("OpportunityContactRole", "OpportunityId"), ("Task", "WhatId")],
    "Campaign": [("CampaignMember", "CampaignId"), ("Task", "WhatId")],
    "Loan__c": [("Instalment__c", "Loan__c")],
    "Course__c": [("Enrollment__c", "Course__c")],
}
OBJECTS = (
    "Account",
    "Contact",
    "Lead",
    "Opportunity",
    "OpportunityContactRole",
    "Campaign",
    "CampaignMember",
    "Task",
    "Subscription__c",
    "Company_Profile__c",
    "Dossier__c",
    "Loan__c",
    "Instalment__c",
    "Course__c",
    "Enrollment__c",
)


def snapshot(org, *, include_deleted: bool = True) -> dict[str, dict[str, dict]]:
    """Every record of every object, as the org's tables hold it: {object: {Id: record}}."""
    return {
        sobject: {r["Id"]: r for r in org.records(sobject, include_deleted=include_deleted)}
        for sobject in OBJECTS
    }


def goes_along(snap: dict[str, dict[str, dict]], sobject: str, sf_id: str) -> dict[str, set[str]]:
    """The live records a delete of `sf_id` takes along, level by level: {object: {Id}}."""
    taken: dict[str, set[str]] = {}
    frontier = [(sobject, sf_id)]
    while frontier:
        parent_type, parent_id = frontier.pop()
        for child, field in CASCADES.get(parent_type, ()):
            for record in snap[child].values():
                if record["IsDeleted"] or record.get(field) != parent_id:
                    continue
                # A converted lead's membership belongs to the contact it became.
                if (child, field) == ("CampaignMember", "LeadId") and record.get("ContactId"):
                    continue
                if record["Id"] not in taken.setdefault(child, set()):
                    taken[child].add(record["Id"])
                    frontier.append((child, record["Id"]))
    return {k: v for k, v in taken.items() if v}


def violations(snap: dict[str, dict[str, dict]]) -> list[str]:
    """Records left live (or deleted later) while a parent they go with is in the recycle bin."""
    found = []
    for parent_type, children in CASCADES.items():
        for child, field in children:
            for record in snap[child].values():
                parent = snap[parent_type].get(record.get(field) or "")
                if parent is None or not parent["IsDeleted"]:
                    continue
                if (child, field) == ("CampaignMember", "LeadId") and record.get("ContactId"):
                    continue
                if not record["IsDeleted"] or record["SystemModstamp"] > parent["SystemModstamp"]:
                    found.append(f"{child} {record['Id']} outlived {parent_type} {parent['Id']}")
    return found


def api(org):
    session = org.session()
    session.headers["Authorization"] = f"Bearer {org.token()['access_token']}"
    return session


def window() -> dict[str, str]:
    end = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2)
    return {"start": (end - dt.timedelta(minutes=10)).isoformat(), "end": end.isoformat()}
