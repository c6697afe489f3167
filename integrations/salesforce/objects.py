"""The catalogue of Salesforce objects Inflow knows: one spec per standard object.

Everything Inflow knows about a standard object lives in its `ObjectSpec` and nowhere else: what it
becomes in the CDP, its Ortto namespaces, which fields feed built-in CDP fields (and in what order when
two fields feed one), what the onboarding selects and recommends, what the engine reads whatever the user
selected, where the planner puts it, which activities it produces, and where it stands when several
records describe one person or organization. The onboarding (offers, field picker), the mapping, the
planner, the sync engine and the docs (`docs/sync.md`'s table, checked by a test) all read this table.

Objects without a spec (custom objects, and standard objects Inflow has no rules for, such as Event or
Case) become custom object records in the `soc` namespace unless the user says otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

PERSON = "person"
ORGANIZATION = "organization"
ACTIVITY_SOURCE = "activity_source"
CUSTOM_OBJECT = "custom_object"

# Ortto's namespace for custom objects, and for an Organization-like custom object synced as an organization.
CUSTOM_OBJECT_NAMESPACE = "soc"
ORGANIZATION_LIKE_NAMESPACE = "osc"
# Always read (identity, watermark, deletes); never offered and never counted against the 50.
SYSTEM_FIELDS = ("Id", "SystemModstamp", "IsDeleted", "CreatedDate", "LastModifiedDate")


@dataclass(frozen=True)
class ActivitySpec:
    id: str
    name: str
    # (field id, name) of the attributes the activity carries, in display order.
    attributes: tuple[tuple[str, str], ...] = ()


def _frozen(mapping: Mapping | None = None) -> Mapping:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class PersonAccountSpec:
    """Person Accounts (`IsPersonAccount`): an Account row that is also a person. By default it becomes an
    organization and a person (Ortto a-823), the person keyed on the Account id under `identity_object`;
    the person's fields come from the `Person…` fields and the person's custom fields (`__pc`, which feed the
    Contact's custom namespace); its permissions are written back through the Account."""

    flag: str
    identity_object: str
    # Account field -> the built-in person field it feeds.
    person_targets: Mapping[str, str]
    coalesce: Mapping[str, tuple[str, ...]]
    custom_suffix: str
    # The person's custom fields are the Contact's: `Loyalty__pc` feeds what `Contact.Loyalty__c` would.
    custom_twin: str
    email_permission: Mapping[str, object]

    @property
    def engine_fields(self) -> tuple[str, ...]:
        fields = dict.fromkeys((self.flag, *self.person_targets, str(self.email_permission["field"])))
        return tuple(fields)


@dataclass(frozen=True)
class ObjectSpec:
    name: str
    label: str
    becomes: str
    namespace: str  # standard fields, e.g. "sfc"
    custom_namespace: str  # custom (`__c`) fields, e.g. "scc"
    rank: int  # sync order: a record is synced after the records it points at
    default: bool = False  # offered first and selected in the onboarding's Fields step
    # Salesforce field -> the built-in CDP field it feeds.
    builtin_targets: Mapping[str, str] = field(default_factory=_frozen)
    # CDP field -> the Salesforce fields that feed it, first non-empty wins (Phone, then MobilePhone).
    coalesce: Mapping[str, tuple[str, ...]] = field(default_factory=_frozen)
    # A Lead carries its company: these fields feed the person's organization.
    organization_targets: Mapping[str, str] = field(default_factory=_frozen)
    # Selected by default besides the built-in targets (all within 50).
    default_fields: tuple[str, ...] = ()
    # Suggested first in the field picker and selected when a user ticks the object.
    recommended_fields: tuple[str, ...] = ()
    # Read whatever the user selected, when the org has them: identity, links, activities.
    engine_fields: tuple[str, ...] = ()
    # The previous payload of each record is kept, because its activities are the difference.
    keeps_payload: bool = False
    activities: tuple[ActivitySpec, ...] = ()
    # Junction objects selected together with this one, because its activities reach people through them.
    companions: tuple[str, ...] = ()
    # The lookup stored with each record (SourceRecord.ref_id), so a junction row is found by what it joins.
    ref_field: str = ""
    # Its lookups to a Contact or Lead: a person who appears later (an undeleted Contact) gets the activities
    # of the rows already synced that point at them.
    person_lookups: tuple[str, ...] = ()
    # Accounts that are people (Person Accounts), when the org has them.
    person_account: PersonAccountSpec | None = None
    summary: str = ""

    def target_for(self, field_name: str) -> str | None:
        """The built-in CDP field a Salesforce field of this object feeds, if any."""
        return self.builtin_targets.get(field_name) or self.organization_targets.get(field_name)

    @property
    def selected_by_default(self) -> tuple[str, ...]:
        out = dict.fromkeys(self.builtin_targets)
        out.update(dict.fromkeys(self.organization_targets))
        for fields in self.coalesce.values():
            out.update(dict.fromkeys(fields))
        out.update(dict.fromkeys(self.default_fields))
        return tuple(out)


_PERSON_TARGETS = {
    "Email": "str::email",
    "FirstName": "str::first",
    "LastName": "str::last",
    "Phone": "phn::phone",
    "MobilePhone": "phn::phone",
}
_PHONE = {"phn::phone": ("Phone", "MobilePhone")}

_PERSON_ACCOUNT = PersonAccountSpec(
    flag="IsPersonAccount",
    identity_object="PersonAccount",
    person_targets=_frozen(
        {
            "PersonEmail": "str::email",
            "FirstName": "str::first",
            "LastName": "str::last",
            "PersonMobilePhone": "phn::phone",
            "PersonHomePhone": "phn::phone",
            "PersonMailingCity": "geo::city",
            "PersonMailingState": "geo::region",
            "PersonMailingCountry": "geo::country",
            "PersonMailingPostalCode": "str::postal",
            "PersonBirthdate": "dtz::b",
        }
    ),
    coalesce=_frozen({"phn::phone": ("PersonMobilePhone", "PersonHomePhone")}),
    custom_suffix="__pc",
    custom_twin="Contact",
    email_permission=_frozen(
        {"field": "PersonHasOptedOutOfEmail", "subscribed": False, "unsubscribed": True}
    ),
)

_OPPORTUNITY_ACTIVITIES: tuple[ActivitySpec, ...] = (
    ActivitySpec(
        "act:sfp:opportunity-created",
        "Salesforce opportunity created",
        (
            ("str:sfp:name", "Opportunity"),
            ("str:sfp:stage", "Stage"),
            ("cur:sfp:amount", "Amount"),
            ("bol:sfp:primary-contact", "Primary contact"),
        ),
    ),
    ActivitySpec(
        "act:sfp:opportunity-stage-changed",
        "Salesforce opportunity stage changed",
        (
            ("str:sfp:name", "Opportunity"),
            ("str:sfp:stage", "Stage"),
            ("str:sfp:previous-stage", "Previous stage"),
            ("cur:sfp:amount", "Amount"),
            ("bol:sfp:primary-contact", "Primary contact"),
        ),
    ),
    ActivitySpec(
        "act:sfp:opportunity-won",
        "Salesforce opportunity won",
        (
            ("str:sfp:name", "Opportunity"),
            ("cur:sfp:amount", "Amount"),
            ("bol:sfp:primary-contact", "Primary contact"),
        ),
    ),
    ActivitySpec(
        "act:sfp:opportunity-lost",
        "Salesforce opportunity lost",
        (
            ("str:sfp:name", "Opportunity"),
            ("cur:sfp:amount", "Amount"),
            ("bol:sfp:primary-contact", "Primary contact"),
        ),
    ),
)

OBJECTS: tuple[ObjectSpec, ...] = (
    ObjectSpec(
        name="Account",
        label="Account",
        becomes=ORGANIZATION,
        namespace="osa",
        custom_namespace="osb",
        rank=0,
        default=True,
        builtin_targets=_frozen(
            {
                "Name": "str:o:name",
                "Website": "str:o:website",
                "Industry": "str:o:industry",
                "NumberOfEmployees": "int:o:employees",
                "BillingStreet": "str:o:address",
                "BillingCity": "geo:o:city",
                "BillingState": "geo:o:region",
                "BillingCountry": "geo:o:country",
                "BillingPostalCode": "str:o:postal",
            }
        ),
        default_fields=("Type", "AccountSource", "AnnualRevenue", "OwnerId"),
        recommended_fields=("Phone", "Rating", "Description"),
        engine_fields=("Name", *_PERSON_ACCOUNT.engine_fields),
        person_account=_PERSON_ACCOUNT,
        summary="Each Account becomes an organization; its contacts' people belong to it. A Person Account "
        "also becomes a person (from its Person… and __pc fields).",
    ),
    ObjectSpec(
        name="Contact",
        label="Contact",
        becomes=PERSON,
        namespace="sfc",
        custom_namespace="scc",
        rank=1,
        default=True,
        builtin_targets=_frozen(
            {
                **_PERSON_TARGETS,
                "MailingCity": "geo::city",
                "MailingState": "geo::region",
                "MailingCountry": "geo::country",
                "MailingPostalCode": "str::postal",
                "Birthdate": "dtz::b",
            }
        ),
        coalesce=_frozen(_PHONE),
        default_fields=(
            "Title",
            "Department",
            "AccountId",
            "LeadSource",
            "HasOptedOutOfEmail",
            "DoNotCall",
            "OwnerId",
        ),
        recommended_fields=("Salutation", "MailingStreet", "HasOptedOutOfFax", "Description"),
        engine_fields=("Email", "Phone", "AccountId", "HasOptedOutOfEmail", "MasterRecordId"),
        keeps_payload=True,
        activities=(ActivitySpec("act:sfc:contact-created", "Salesforce contact created"),),
        summary="Each Contact becomes a person (found by Salesforce id, then email, then phone); "
        "AccountId sets the person's organization.",
    ),
    ObjectSpec(
        name="Lead",
        label="Lead",
        becomes=PERSON,
        namespace="sfl",
        custom_namespace="slc",
        rank=2,
        default=True,
        builtin_targets=_frozen(
            {
                **_PERSON_TARGETS,
                "City": "geo::city",
                "State": "geo::region",
                "Country": "geo::country",
                "PostalCode": "str::postal",
            }
        ),
        coalesce=_frozen(_PHONE),
        organization_targets=_frozen(
            {
                "Company": "str:o:name",
                "Website": "str:o:website",
                "Industry": "str:o:industry",
                "NumberOfEmployees": "int:o:employees",
            }
        ),
        default_fields=(
            "Title",
            "Status",
            "LeadSource",
            "IsConverted",
            "ConvertedDate",
            "ConvertedContactId",
            "ConvertedAccountId",
            "ConvertedOpportunityId",
            "HasOptedOutOfEmail",
            "DoNotCall",
            "OwnerId",
        ),
        recommended_fields=("Rating", "AnnualRevenue", "Street", "Description"),
        engine_fields=(
            "Email",
            "Phone",
            "Status",
            "IsConverted",
            "ConvertedContactId",
            "ConvertedAccountId",
            "ConvertedDate",
            "HasOptedOutOfEmail",
            "MasterRecordId",
        ),
        keeps_payload=True,
        activities=(
            ActivitySpec("act:sfl:lead-created", "Salesforce lead created", (("str:sfl:status", "Status"),)),
            ActivitySpec(
                "act:sfl:lead-status-changed",
                "Salesforce lead status changed",
                (("str:sfl:status", "Status"), ("str:sfl:previous-status", "Previous status")),
            ),
            ActivitySpec(
                "act:sfl:lead-converted",
                "Salesforce lead converted",
                (("str:sfl:converted-contact-id", "Converted to contact"),),
            ),
        ),
        summary="Each Lead becomes a person (the same person as a Contact with the same email); its Company "
        "joins the organization of that name when exactly one has it, or becomes one.",
    ),
    ObjectSpec(
        name="Campaign",
        label="Campaign",
        becomes=ACTIVITY_SOURCE,
        namespace="sfk",
        custom_namespace="skc",
        rank=3,
        default=True,
        default_fields=("Name", "Type", "Status", "StartDate", "EndDate", "IsActive", "ParentId"),
        recommended_fields=("Description", "BudgetedCost", "ActualCost"),
        engine_fields=("Name", "Status", "Type"),
        companions=("CampaignMember",),
        summary="Campaigns name the campaign activities of their members (CampaignMember comes with it).",
    ),
    ObjectSpec(
        name="Opportunity",
        label="Opportunity",
        becomes=ACTIVITY_SOURCE,
        namespace="sfp",
        custom_namespace="spc",
        rank=4,
        default=True,
        default_fields=(
            "Name",
            "StageName",
            "Amount",
            "CloseDate",
            "Probability",
            "Type",
            "LeadSource",
            "IsClosed",
            "IsWon",
            "AccountId",
            "ContactId",
            "CampaignId",
            "OwnerId",
        ),
        recommended_fields=("NextStep", "ForecastCategoryName", "Description"),
        engine_fields=(
            "Name",
            "StageName",
            "IsClosed",
            "IsWon",
            "Amount",
            "CloseDate",
            "LastStageChangeDate",
            "AccountId",
        ),
        keeps_payload=True,
        activities=_OPPORTUNITY_ACTIVITIES,
        companions=("OpportunityContactRole",),
        summary="Opportunities become activities on the person of every contact role, primary first "
        "(OpportunityContactRole comes with it); won/lost are dated when the stage changed.",
    ),
    ObjectSpec(
        name="OpportunityContactRole",
        label="Opportunity Contact Role",
        becomes=ACTIVITY_SOURCE,
        namespace="sfp",
        custom_namespace="spc",
        rank=5,
        default_fields=("OpportunityId", "ContactId", "IsPrimary", "Role"),
        engine_fields=("OpportunityId", "ContactId", "IsPrimary", "Role"),
        keeps_payload=True,
        activities=_OPPORTUNITY_ACTIVITIES,  # a role added later brings the opportunity's history
        ref_field="OpportunityId",
        person_lookups=("ContactId",),
        summary="Links opportunities to contacts: a role added later brings the opportunity's history to "
        "that person.",
    ),
    ObjectSpec(
        name="CampaignMember",
        label="Campaign Member",
        becomes=ACTIVITY_SOURCE,
        namespace="sfk",
        custom_namespace="skc",
        rank=6,
        default_fields=("CampaignId", "ContactId", "LeadId", "Status", "HasResponded"),
        engine_fields=("CampaignId", "ContactId", "LeadId", "Status", "HasResponded"),
        keeps_payload=True,
        person_lookups=("ContactId", "LeadId"),
        activities=(
            ActivitySpec(
                "act:sfk:added-to-campaign",
                "Added to Salesforce campaign",
                (("str:sfk:campaign", "Campaign"), ("str:sfk:status", "Member status")),
            ),
            ActivitySpec(
                "act:sfk:campaign-member-status-changed",
                "Salesforce campaign member status changed",
                (
                    ("str:sfk:campaign", "Campaign"),
                    ("str:sfk:status", "Member status"),
                    ("str:sfk:previous-status", "Previous status"),
                ),
            ),
            ActivitySpec(
                "act:sfk:campaign-responded",
                "Responded to Salesforce campaign",
                (("str:sfk:campaign", "Campaign"), ("str:sfk:status", "Member status")),
            ),
        ),
        summary="Campaign membership becomes activities on the member's person (Contact or Lead).",
    ),
    ObjectSpec(
        name="Task",
        label="Task",
        becomes=ACTIVITY_SOURCE,
        namespace="sft",
        custom_namespace="stc",
        rank=7,
        default=True,
        default_fields=(
            "Subject",
            "Status",
            "Priority",
            "ActivityDate",
            "WhoId",
            "WhatId",
            "IsClosed",
            "CompletedDateTime",
            "TaskSubtype",
            "Description",
        ),
        recommended_fields=("CallType", "CallDisposition", "CallDurationInSeconds"),
        engine_fields=(
            "WhoId",
            "WhatId",
            "Subject",
            "Status",
            "IsClosed",
            "ActivityDate",
            "CompletedDateTime",
        ),
        keeps_payload=True,
        person_lookups=("WhoId",),
        activities=(
            ActivitySpec(
                "act:sft:task-created",
                "Salesforce task created",
                (("str:sft:subject", "Subject"), ("str:sft:status", "Status")),
            ),
            ActivitySpec(
                "act:sft:task-completed",
                "Salesforce task completed",
                (("str:sft:subject", "Subject"), ("str:sft:status", "Status")),
            ),
        ),
        summary="Tasks on a Contact or Lead (WhoId) become task activities on that person.",
    ),
)

SPECS: Mapping[str, ObjectSpec] = MappingProxyType({spec.name: spec for spec in OBJECTS})
DEFAULT_OBJECTS: tuple[str, ...] = tuple(spec.name for spec in OBJECTS if spec.default)
ACTIVITIES: Mapping[str, ActivitySpec] = MappingProxyType(
    {activity.id: activity for spec in OBJECTS for activity in spec.activities}
)

# Source precedence: when several records of one connection describe one CDP
# record, the earlier object's value wins; a later one only fills what the earlier ones leave empty. For
# organizations "Lead" is a lead's Company. A converted lead comes after every other source of people: its
# values are frozen at conversion, so it only ever fills blanks. Custom objects synced as people or
# organizations come after the standard objects unless the connection's order names them.
DEFAULT_PRECEDENCE: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {PERSON: ("Contact", "Lead"), ORGANIZATION: ("Account", "Lead")}
)
CONVERTED_LEAD_PRECEDENCE = 1000
UNLISTED_PRECEDENCE = 100

# Key prefixes of the standard objects a reference can point at.
ID_PREFIX_OBJECT: Mapping[str, str] = MappingProxyType(
    {"003": "Contact", "00Q": "Lead", "001": "Account", "006": "Opportunity", "701": "Campaign"}
)
# Objects a custom object can reach people through on its own (a lookup to one of them).
LINK_TARGETS: tuple[str, ...] = ("Contact", "Lead", "Account")


def person_account_for(object_name: str) -> PersonAccountSpec | None:
    spec = SPECS.get(object_name)
    return spec.person_account if spec is not None else None


def writes_through(identity_object: str) -> str:
    """The object whose record a person's permission is written to (a Person Account's is its Account)."""
    for spec in OBJECTS:
        if spec.person_account is not None and spec.person_account.identity_object == identity_object:
            return spec.name
    return identity_object


def spec_for(object_name: str) -> ObjectSpec | None:
    return SPECS.get(object_name)


def becomes_for(object_name: str) -> str:
    spec = SPECS.get(object_name)
    return spec.becomes if spec is not None else CUSTOM_OBJECT


def rank_for(object_name: str) -> int | None:
    spec = SPECS.get(object_name)
    return spec.rank if spec is not None else None


def namespaces_for(object_name: str) -> tuple[str, str]:
    spec = SPECS.get(object_name)
    if spec is None:
        return (CUSTOM_OBJECT_NAMESPACE, CUSTOM_OBJECT_NAMESPACE)
    return (spec.namespace, spec.custom_namespace)


def companions_for(object_names) -> tuple[str, ...]:
    """The junctions the chosen objects bring with them, not already among them."""
    chosen = set(object_names)
    return tuple(
        companion
        for name in object_names
        if (spec := SPECS.get(name)) is not None
        for companion in spec.companions
        if companion not in chosen
    )


def precedence_of(order: Mapping[str, Sequence[str]], entity: str, object_name: str) -> int:
    """A source's place for `entity` (0 first) in a connection's precedence order."""
    names = tuple(order.get(entity) or DEFAULT_PRECEDENCE.get(entity, ()))
    return names.index(object_name) if object_name in names else UNLISTED_PRECEDENCE
