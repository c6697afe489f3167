"""The org's objects and fields: real recorded describes where a real org was recorded, built ones elsewhere.

Standard objects with a recorded describe (Account, Contact, Lead, Opportunity, OpportunityContactRole)
keep every recorded field verbatim, in the recorded order; fields the recording user could not see
(`HasOptedOutOfEmail`, `HasOptedOutOfFax`, `DoNotCall`) are inserted where a real org lists them, and
custom fields come last, as Salesforce lists them. Campaign, CampaignMember, Task and User were never
recorded: their fields are built from recorded fields of the same type (fields.py).
"""

from __future__ import annotations

from .fields import build_field, relabel
from .recorded import recorded_field, recorded_object

STAGES = [
    # (StageName, Probability, ForecastCategoryName, IsClosed, IsWon)
    ("Prospecting", 10, "Pipeline", False, False),
    ("Qualification", 10, "Pipeline", False, False),
    ("Needs Analysis", 20, "Pipeline", False, False),
    ("Value Proposition", 50, "Pipeline", False, False),
    ("Id. Decision Makers", 60, "Pipeline", False, False),
    ("Perception Analysis", 70, "Pipeline", False, False),
    ("Proposal/Price Quote", 75, "Pipeline", False, False),
    ("Negotiation/Review", 90, "Pipeline", False, False),
    ("Closed Won", 100, "Closed", True, True),
    ("Closed Lost", 0, "Omitted", True, False),
]
LEAD_STATUSES = [
    "Open - Not Contacted",
    "Working - Contacted",
    "Closed - Converted",
    "Closed - Not Converted",
]
TASK_STATUSES = ["Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred"]
TASK_PRIORITIES = ["High", "Normal", "Low"]
CAMPAIGN_MEMBER_STATUSES = ["Planned", "Sent", "Received", "Responded", "Attended", "No Show"]
CAMPAIGN_TYPES = [
    "Conference",
    "Webinar",
    "Trade Show",
    "Public Relations",
    "Partners",
    "Referral Program",
    "Advertisement",
    "Banner Ads",
    "Direct Mail",
    "Email",
    "Telemarketing",
    "Other",
]
CAMPAIGN_STATUSES = ["Planned", "In Progress", "Completed", "Aborted"]
TIERS = ["Bronze", "Silver", "Gold", "Platinum"]
INTERESTS = ["Running", "Cycling", "Swimming", "Yoga", "Hiking", "Climbing", "Tennis", "Golf"]
LANGUAGES = ["English", "French", "German", "Spanish", "Italian", "Japanese", "Portuguese"]

# Audit fields every object carries, taken from the recorded Contact describe (labels are the same
# on every standard object).
AUDIT = ("CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById", "SystemModstamp")


def _audit_fields() -> list[dict]:
    return [recorded_field("Contact", name) for name in AUDIT]


def _person_opt_outs() -> list[dict]:
    # Field-level security hid these in the recordings, so their flags are the ones Salesforce's Object
    # Reference documents for them.
    return [
        build_field("boolean", "HasOptedOutOfEmail", "Email Opt Out", permissionable=True),
        build_field("boolean", "HasOptedOutOfFax", "Fax Opt Out", permissionable=True),
        build_field("boolean", "DoNotCall", "Do Not Call", permissionable=True),
    ]


def _insert_after(fields: list[dict], after: str, new: list[dict]) -> list[dict]:
    index = next(i for i, f in enumerate(fields) if f["name"] == after) + 1
    return fields[:index] + new + fields[index:]


def _contact_custom_fields() -> list[dict]:
    return [
        build_field(
            "boolean", "SMS_Opt_In__c", "SMS Opt In", inlineHelpText="Agreed to receive text messages"
        ),
        build_field("boolean", "et4ae5__HasOptedOutOfMobile__c", "Mobile Opt Out"),
        build_field("string", "et4ae5__Mobile_Country_Code__c", "Mobile Country Code", length=5),
        build_field("picklist", "Tier__c", "Tier", values=TIERS, length=255, byteLength=765),
        build_field("multipicklist", "Interests__c", "Interests", values=INTERESTS),
        build_field("currency", "Lifetime_Value__c", "Lifetime Value", precision=16, scale=2),
        build_field("double", "Loyalty_Points__c", "Loyalty Points", precision=10, scale=0),
        build_field("percent", "Discount_Rate__c", "Discount Rate", precision=5, scale=2),
        build_field("date", "Customer_Since__c", "Customer Since"),
        build_field("datetime", "Last_Purchase_At__c", "Last Purchase At"),
        build_field(
            "picklist",
            "Preferred_Language__c",
            "Preferred Language",
            values=LANGUAGES,
            length=255,
            byteLength=765,
        ),
        build_field("email", "Secondary_Email__c", "Secondary Email", idLookup=False),
        build_field("url", "Profile_URL__c", "Profile URL"),
        build_field("phone", "WhatsApp__c", "WhatsApp"),
        build_field(
            "string",
            "External_Ref__c",
            "External Ref",
            length=40,
            externalId=True,
            unique=True,
            idLookup=True,
        ),
        build_field("textarea", "Support_Notes__c", "Support Notes", length=32768, byteLength=98304),
        build_field("int", "NPS_Score__c", "NPS Score", digits=2),
        build_field(
            "reference",
            "Company_Profile__c",
            "Company Profile",
            referenceTo=["Company_Profile__c"],
            relationshipName="Company_Profile__r",
            defaultedOnCreate=False,
            nillable=True,
            createable=True,
            updateable=True,
        ),
    ]


def _recorded_fields(name: str, *, drop_prefix: tuple[str, ...] = ()) -> list[dict]:
    return [f for f in recorded_object(name)["fields"] if not f["name"].startswith(drop_prefix)]


def contact_fields() -> list[dict]:
    fields = _insert_after(_recorded_fields("Contact"), "OwnerId", _person_opt_outs())
    return fields + _contact_custom_fields()


def lead_fields() -> list[dict]:
    fields = _insert_after(_recorded_fields("Lead"), "OwnerId", _person_opt_outs())
    return fields + [
        build_field("boolean", "SMS_Opt_In__c", "SMS Opt In"),
        build_field("picklist", "Tier__c", "Tier", values=TIERS, length=255, byteLength=765),
        build_field("multipicklist", "Interests__c", "Interests", values=INTERESTS),
    ]


def account_fields() -> list[dict]:
    return _recorded_fields("Account", drop_prefix=("ns__",)) + [
        build_field(
            "picklist", "Customer_Tier__c", "Customer Tier", values=TIERS, length=255, byteLength=765
        ),
    ]


def _ref(name, label, target, relationship, **kw) -> dict:
    kw.setdefault("defaultedOnCreate", False)
    kw.setdefault("nillable", True)
    return build_field("reference", name, label, referenceTo=[target], relationshipName=relationship, **kw)


def _owner() -> dict:
    return recorded_field("Contact", "OwnerId")


def _id(label: str) -> dict:
    return relabel(recorded_field("Contact", "Id"), label=label)


def _is_deleted() -> dict:
    return recorded_field("Contact", "IsDeleted")


def _readonly(field: dict) -> dict:
    field.update(createable=False, updateable=False)
    return field


def campaign_fields() -> list[dict]:
    return [
        _id("Campaign ID"),
        _is_deleted(),
        build_field("string", "Name", "Name", length=80, nameField=True, nillable=False, idLookup=True),
        _ref("ParentId", "Parent Campaign ID", "Campaign", "Parent"),
        build_field("picklist", "Type", "Type", values=CAMPAIGN_TYPES, length=255, byteLength=765),
        build_field(
            "picklist",
            "Status",
            "Status",
            values=CAMPAIGN_STATUSES,
            default="Planned",
            length=255,
            byteLength=765,
        ),
        build_field("date", "StartDate", "Start Date"),
        build_field("date", "EndDate", "End Date"),
        build_field("currency", "ExpectedRevenue", "Expected Revenue in Campaign", precision=18, scale=0),
        build_field("currency", "BudgetedCost", "Budgeted Cost in Campaign", precision=18, scale=0),
        build_field("currency", "ActualCost", "Actual Cost in Campaign", precision=18, scale=0),
        build_field("boolean", "IsActive", "Active", permissionable=False),
        build_field("textarea", "Description", "Description"),
        _readonly(build_field("int", "NumberOfLeads", "Leads in Campaign", digits=9)),
        _readonly(build_field("int", "NumberOfContacts", "Contacts in Campaign", digits=9)),
        _readonly(build_field("int", "NumberOfResponses", "Responses in Campaign", digits=9)),
        _owner(),
        *_audit_fields(),
        recorded_field("Contact", "LastActivityDate"),
        recorded_field("Contact", "LastViewedDate"),
        recorded_field("Contact", "LastReferencedDate"),
    ]


def _mirror(kind: str, name: str, label: str, **kw) -> dict:
    field = build_field(kind, name, label, **kw)
    field.update(createable=False, updateable=False)
    return field


def campaign_member_fields() -> list[dict]:
    return [
        _id("Campaign Member ID"),
        _is_deleted(),
        _ref("CampaignId", "Campaign ID", "Campaign", "Campaign", nillable=False, updateable=False),
        _ref("LeadId", "Lead ID", "Lead", "Lead", updateable=False),
        _ref("ContactId", "Contact ID", "Contact", "Contact", updateable=False),
        build_field(
            "picklist",
            "Status",
            "Status",
            values=CAMPAIGN_MEMBER_STATUSES,
            default="Sent",
            length=40,
            byteLength=120,
        ),
        _readonly(build_field("boolean", "HasResponded", "Responded", permissionable=False)),
        *_audit_fields(),
        _readonly(build_field("date", "FirstRespondedDate", "First Responded Date")),
        _mirror("string", "Salutation", "Salutation", length=40),
        _mirror("string", "Name", "Name", length=121, nameField=True),
        _mirror("string", "FirstName", "First Name", length=40),
        _mirror("string", "LastName", "Last Name", length=80),
        _mirror("string", "Title", "Title", length=128),
        _mirror("string", "Street", "Street", length=255),
        _mirror("string", "City", "City", length=40),
        _mirror("string", "State", "State/Province", length=80),
        _mirror("string", "PostalCode", "Zip/Postal Code", length=20),
        _mirror("string", "Country", "Country", length=80),
        _mirror("email", "Email", "Email"),
        _mirror("phone", "Phone", "Phone"),
        _mirror("phone", "MobilePhone", "Mobile Phone"),
        _mirror("boolean", "DoNotCall", "Do Not Call", permissionable=False),
        _mirror("boolean", "HasOptedOutOfEmail", "Email Opt Out", permissionable=False),
        _mirror("boolean", "HasOptedOutOfFax", "Fax Opt Out", permissionable=False),
        _mirror("picklist", "LeadSource", "Lead Source", length=255, byteLength=765),
        _mirror("string", "CompanyOrAccount", "Company (Account)", length=255),
        _mirror("string", "Type", "Type", length=40),
        build_field(
            "reference",
            "LeadOrContactId",
            "Contact or Lead ID",
            referenceTo=["Contact", "Lead"],
            relationshipName=None,
            createable=False,
            updateable=False,
            defaultedOnCreate=False,
            polymorphicForeignKey=True,
        ),
        build_field(
            "reference",
            "LeadOrContactOwnerId",
            "Contact or Lead Owner ID",
            referenceTo=["Group", "User"],
            relationshipName=None,
            createable=False,
            updateable=False,
            defaultedOnCreate=False,
            polymorphicForeignKey=True,
        ),
    ]


def task_fields() -> list[dict]:
    event = {f["name"]: f for f in recorded_object("Event")["fields"]}
    return [
        _id("Activity ID"),
        relabel(event["WhoId"]),
        relabel(event["WhatId"]),
        relabel(event["Subject"]),
        relabel(event["ActivityDate"], label="Due Date Only"),
        build_field(
            "picklist",
            "Status",
            "Status",
            values=TASK_STATUSES,
            default="Not Started",
            length=40,
            byteLength=120,
            nillable=False,
            restrictedPicklist=True,
        ),
        build_field(
            "picklist",
            "Priority",
            "Priority",
            values=TASK_PRIORITIES,
            default="Normal",
            length=40,
            byteLength=120,
            nillable=False,
            restrictedPicklist=True,
        ),
        _readonly(build_field("boolean", "IsHighPriority", "High Priority", permissionable=False)),
        relabel(event["OwnerId"]),
        relabel(event["Description"]),
        relabel(event["IsDeleted"]),
        relabel(event["AccountId"]),
        _readonly(build_field("boolean", "IsClosed", "Closed", permissionable=False)),
        *[relabel(event[name]) for name in AUDIT],
        relabel(event["IsArchived"]),
        build_field("int", "CallDurationInSeconds", "Call Duration", digits=8),
        build_field(
            "picklist",
            "CallType",
            "Call Type",
            values=["Internal", "Inbound", "Outbound"],
            length=40,
            byteLength=120,
            restrictedPicklist=True,
        ),
        build_field("string", "CallDisposition", "Call Result", length=255),
        build_field(
            "picklist",
            "TaskSubtype",
            "Task Subtype",
            values=["Task", "Email", "ListEmail", "Cadence", "Call", "LinkedIn"],
            length=40,
            byteLength=120,
            restrictedPicklist=True,
            updateable=False,
        ),
        _readonly(build_field("datetime", "CompletedDateTime", "Completed Date/Time")),
    ]


def user_fields() -> list[dict]:
    return [
        _id("User ID"),
        build_field("string", "Username", "Username", length=80, nillable=False, unique=True, idLookup=True),
        build_field("string", "LastName", "Last Name", length=80, nillable=False),
        build_field("string", "FirstName", "First Name", length=40),
        _readonly(build_field("string", "Name", "Full Name", length=121, nameField=True, nillable=False)),
        build_field("string", "CompanyName", "Company Name", length=80),
        build_field("string", "Title", "Title", length=80),
        build_field("email", "Email", "Email", nillable=False, idLookup=False),
        build_field("string", "Alias", "Alias", length=8, nillable=False),
        build_field("boolean", "IsActive", "Active", permissionable=False, defaultValue=True),
        build_field(
            "picklist",
            "TimeZoneSidKey",
            "Time Zone",
            values=["America/Los_Angeles", "Europe/London", "Europe/Paris", "Australia/Sydney"],
            length=40,
            byteLength=120,
            nillable=False,
            restrictedPicklist=True,
        ),
        build_field(
            "picklist",
            "LocaleSidKey",
            "Locale",
            values=["en_US", "en_GB", "fr_FR", "de_DE"],
            length=40,
            byteLength=120,
            nillable=False,
            restrictedPicklist=True,
        ),
        build_field(
            "picklist",
            "LanguageLocaleKey",
            "Language",
            values=["en_US", "fr", "de"],
            length=40,
            byteLength=120,
            nillable=False,
            restrictedPicklist=True,
        ),
        build_field(
            "reference",
            "ProfileId",
            "Profile ID",
            referenceTo=["Profile"],
            relationshipName="Profile",
            nillable=False,
            defaultedOnCreate=False,
        ),
        build_field(
            "reference",
            "UserRoleId",
            "Role ID",
            referenceTo=["UserRole"],
            relationshipName="UserRole",
            defaultedOnCreate=False,
        ),
        _readonly(
            build_field(
                "picklist",
                "UserType",
                "User Type",
                values=["Standard", "PowerPartner"],
                length=40,
                byteLength=120,
                restrictedPicklist=True,
            )
        ),
        *_audit_fields(),
    ]


def _custom_object_standard_fields(
    *, name_label: str, owner: bool = True, auto_number: bool = False
) -> list[dict]:
    name = relabel(recorded_field("Custom__c", "Name"), label=name_label)
    if auto_number:
        name.update(autoNumber=True, createable=False, updateable=False, defaultedOnCreate=True)
    fields = [recorded_field("Custom__c", "Id"), _is_deleted(), name]
    if owner:
        fields.insert(1, _owner())
    fields += _audit_fields()
    fields += [recorded_field("Contact", "LastViewedDate"), recorded_field("Contact", "LastReferencedDate")]
    return fields


def custom_objects() -> list[dict]:
    """Each custom object exercises one onboarding choice (see docs/sandbox.md)."""
    status = ["Active", "Paused", "Cancelled"]
    return [
        {  # Links to Contact on its own (a lookup).
            "name": "Subscription__c",
            "label": "Subscription",
            "labelPlural": "Subscriptions",
            "keyPrefix": "a00",
            "fields": _custom_object_standard_fields(name_label="Subscription Name")
            + [
                _ref("Contact__c", "Contact", "Contact", "Contact__r", createable=True, updateable=True),
                build_field(
                    "picklist",
                    "Plan__c",
                    "Plan",
                    values=["Free", "Starter", "Pro", "Enterprise"],
                    length=255,
                    byteLength=765,
                ),
                build_field("picklist", "Status__c", "Status", values=status, length=255, byteLength=765),
                build_field("date", "Started_On__c", "Started On"),
                build_field("currency", "Monthly_Amount__c", "Monthly Amount", precision=10, scale=2),
            ],
        },
        {  # Organization-like: no link to a contact, but a unique domain to identify it by.
            "name": "Company_Profile__c",
            "label": "Company Profile",
            "labelPlural": "Company Profiles",
            "keyPrefix": "a01",
            "fields": _custom_object_standard_fields(name_label="Company Name")
            + [
                build_field(
                    "string", "Domain__c", "Domain", length=255, unique=True, externalId=True, idLookup=True
                ),
                build_field(
                    "picklist",
                    "Industry__c",
                    "Industry",
                    values=["Software", "Retail", "Finance", "Healthcare", "Education", "Manufacturing"],
                    length=255,
                    byteLength=765,
                ),
                build_field("int", "Employees__c", "Employees", digits=9),
                build_field("currency", "Annual_Revenue__c", "Annual Revenue", precision=18, scale=0),
            ],
        },
        {  # Top of the chain instalment -> loan -> dossier -> contact.
            "name": "Dossier__c",
            "label": "Dossier",
            "labelPlural": "Dossiers",
            "keyPrefix": "a02",
            "fields": _custom_object_standard_fields(name_label="Dossier Number")
            + [
                _ref("Contact__c", "Contact", "Contact", "Contact__r", createable=True, updateable=True),
                build_field("date", "Opened_On__c", "Opened On"),
                build_field(
                    "picklist",
                    "Status__c",
                    "Status",
                    values=["Open", "Under Review", "Closed"],
                    length=255,
                    byteLength=765,
                ),
            ],
        },
        {
            "name": "Loan__c",
            "label": "Loan",
            "labelPlural": "Loans",
            "keyPrefix": "a03",
            "fields": _custom_object_standard_fields(name_label="Loan Number")
            + [
                _ref("Dossier__c", "Dossier", "Dossier__c", "Dossier__r", createable=True, updateable=True),
                build_field("currency", "Principal__c", "Principal", precision=16, scale=2),
                build_field("percent", "Interest_Rate__c", "Interest Rate", precision=5, scale=3),
                build_field(
                    "picklist",
                    "Status__c",
                    "Status",
                    values=["Requested", "Active", "Repaid", "Defaulted"],
                    length=255,
                    byteLength=765,
                ),
            ],
        },
        {
            "name": "Instalment__c",
            "label": "Instalment",
            "labelPlural": "Instalments",
            "keyPrefix": "a04",
            "fields": _custom_object_standard_fields(
                name_label="Instalment Number", owner=False, auto_number=True
            )
            + [
                _ref(
                    "Loan__c",
                    "Loan",
                    "Loan__c",
                    "Loan__r",
                    createable=True,
                    updateable=False,
                    nillable=False,
                    cascadeDelete=True,
                ),
                build_field("date", "Due_Date__c", "Due Date"),
                build_field("currency", "Amount__c", "Amount", precision=16, scale=2),
                build_field("boolean", "Paid__c", "Paid"),
            ],
        },
        {  # Linked to contacts only through the Enrollment__c junction.
            "name": "Course__c",
            "label": "Course",
            "labelPlural": "Courses",
            "keyPrefix": "a05",
            "fields": _custom_object_standard_fields(name_label="Course Name")
            + [
                build_field(
                    "string", "Code__c", "Code", length=20, unique=True, externalId=True, idLookup=True
                ),
                build_field("date", "Starts_On__c", "Starts On"),
                build_field(
                    "picklist",
                    "Level__c",
                    "Level",
                    values=["Beginner", "Intermediate", "Advanced"],
                    length=255,
                    byteLength=765,
                ),
            ],
        },
        {
            "name": "Enrollment__c",
            "label": "Enrollment",
            "labelPlural": "Enrollments",
            "keyPrefix": "a06",
            "fields": _custom_object_standard_fields(
                name_label="Enrollment Number", owner=False, auto_number=True
            )
            + [
                _ref(
                    "Contact__c",
                    "Contact",
                    "Contact",
                    "Contact__r",
                    createable=True,
                    updateable=False,
                    nillable=False,
                    cascadeDelete=True,
                    relationshipOrder=0,
                ),
                _ref(
                    "Course__c",
                    "Course",
                    "Course__c",
                    "Course__r",
                    createable=True,
                    updateable=False,
                    nillable=False,
                    cascadeDelete=True,
                    relationshipOrder=1,
                ),
                build_field(
                    "picklist",
                    "Status__c",
                    "Status",
                    values=["Enrolled", "Completed", "Withdrawn"],
                    length=255,
                    byteLength=765,
                ),
                build_field("date", "Enrolled_On__c", "Enrolled On"),
            ],
        },
    ]


def standard_objects() -> list[dict]:
    """(name, fields, recorded name for object-level keys or None) for the standard objects."""
    return [
        {"name": "Account", "fields": account_fields(), "recorded": "Account"},
        {"name": "Contact", "fields": contact_fields(), "recorded": "Contact"},
        {"name": "Lead", "fields": lead_fields(), "recorded": "Lead"},
        {"name": "Opportunity", "fields": _recorded_fields("Opportunity"), "recorded": "Opportunity"},
        {
            "name": "OpportunityContactRole",
            "fields": _recorded_fields("OpportunityContactRole"),
            "recorded": "OpportunityContactRole",
        },
        {
            "name": "Campaign",
            "fields": campaign_fields(),
            "recorded": None,
            "keyPrefix": "701",
            "label": "Campaign",
            "labelPlural": "Campaigns",
            # Campaign was never recorded: its members and its activities go with it, as on Salesforce.
            "cascade": [("CampaignMember", "CampaignId"), ("Task", "WhatId")],
        },
        {
            "name": "CampaignMember",
            "fields": campaign_member_fields(),
            "recorded": None,
            "keyPrefix": "00v",
            "label": "Campaign Member",
            "labelPlural": "Campaign Members",
        },
        {
            "name": "Task",
            "fields": task_fields(),
            "recorded": None,
            "keyPrefix": "00T",
            "label": "Task",
            "labelPlural": "Tasks",
            "like": "Event",
        },
        {
            "name": "User",
            "fields": user_fields(),
            "recorded": None,
            "keyPrefix": "005",
            "label": "User",
            "labelPlural": "Users",
        },
    ]
