from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from cdp.display import Shown
from cdp.fields import FIELD_TYPES


class Workspace(models.Model):
    """The tenant (an Ortto "account"). Every row of CDP and integration data belongs to one."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=120, unique=True)
    # When on, a re-subscribe from a source never undoes an unsubscribe: a person who said no in one place
    # is not emailed again because another system still says yes.
    sticky_unsubscribe = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "user"], name="membership_unique_user")]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} ({self.role})"


# ---------------------------------------------------------------------------------------------------
# Customer data. Every row belongs to one workspace; selectors and the merge engine always filter on it.


class FieldDefinition(models.Model):
    """One field of a workspace's catalogue, with Ortto's id `type:namespace:name` (`str::email`, `str:cm:tier`).

    Built-in fields come from Ortto's schema (`cdp/data/ortto_builtin_schema.json`); sources register their
    own namespaces through `field_definition_ensure`. `display_type` is a key of `cdp.fields.FIELD_TYPES`.
    """

    class Entity(models.TextChoices):
        PERSON = "person", "Person"
        ORGANIZATION = "organization", "Organization"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="field_definitions")
    field_id = models.CharField(max_length=120)
    name = models.CharField(max_length=255)
    display_type = models.CharField(max_length=20)
    entity = models.CharField(max_length=12, choices=Entity.choices, default=Entity.PERSON)
    namespace = models.CharField(max_length=8, blank=True)
    read_only = models.BooleanField(default=False)
    builtin = models.BooleanField(default=False)
    # Options of single and multi selects, in display order; values outside them are still accepted
    # because a source's picklist may gain values before the catalogue hears of them.
    options = models.JSONField(default=list, blank=True)
    liquid_name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["entity", "namespace", "name"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "field_id"], name="fielddefinition_unique_id"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.field_id})"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.display_type not in FIELD_TYPES:
            raise ValidationError({"display_type": f"Unknown field type {self.display_type!r}."})


class Organization(models.Model):
    """A company (Ortto "organization"; a Salesforce Account). Built-in fields are columns, the rest `values`."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="organizations")
    name = models.CharField(max_length=255, blank=True)  # str:o:name
    # Lower-cased name: organizations are matched on it (merge_by "str:o:name").
    name_key = models.CharField(max_length=255, blank=True)
    website = models.CharField(max_length=2000, blank=True)  # str:o:website
    industry = models.CharField(max_length=255, blank=True)  # str:o:industry
    employees = models.BigIntegerField(null=True, blank=True)  # int:o:employees
    address = models.CharField(max_length=255, blank=True)  # str:o:address
    city = models.CharField(max_length=255, blank=True)  # geo:o:city
    region = models.CharField(max_length=255, blank=True)  # geo:o:region
    country = models.CharField(max_length=255, blank=True)  # geo:o:country
    postal = models.CharField(max_length=255, blank=True)  # str:o:postal
    values = models.JSONField(default=dict, blank=True)  # every other field, keyed by field id
    # Which record of each source wrote each value: {source: {field id: precedence}} (cdp.merge).
    field_sources = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()  # oc
    updated_at = models.DateTimeField()  # oe
    first_seen = models.DateTimeField(null=True, blank=True)  # of
    last_seen = models.DateTimeField(null=True, blank=True)  # ol
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "id"], name="organization_ws_id"),
            models.Index(fields=["workspace", "name_key"], name="organization_ws_name"),
        ]

    def __str__(self) -> str:
        return self.name or f"Organization {self.pk}"


class Person(models.Model):
    """A person in the CDP. Built-in fields are indexed columns; custom and source fields live in `values`."""

    # Not indexed on its own: the (workspace, ...) indexes below lead with it and serve every lookup by it.
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="people", db_index=False)
    first_name = models.CharField(max_length=255, blank=True)  # str::first
    last_name = models.CharField(max_length=255, blank=True)  # str::last
    email = models.CharField(max_length=254, blank=True)  # str::email, as the source wrote it
    # The unique identifier: lower-cased email, unique per workspace (NULL when the person has none).
    email_key = models.CharField(max_length=254, null=True, blank=True)
    phone = models.CharField(max_length=20, blank=True)  # phn::phone, normalised (+ and digits)
    city = models.CharField(max_length=255, blank=True)  # geo::city
    region = models.CharField(max_length=255, blank=True)  # geo::region
    country = models.CharField(max_length=255, blank=True)  # geo::country
    postal = models.CharField(max_length=255, blank=True)  # str::postal
    birthday = models.DateField(null=True, blank=True)  # dtz::b
    language = models.CharField(max_length=255, blank=True)  # str::language
    external_id = models.CharField(max_length=255, blank=True)  # str::ei
    email_permission = models.BooleanField(default=True)  # bol::p (Ortto's default over the API is true)
    sms_permission = models.BooleanField(default=False)  # bol::sp
    gdpr = models.BooleanField(null=True, blank=True)  # bol::gdpr
    # Who last set each permission: a source name, or PERMISSION_SOURCE_CDP when changed inside Inflow.
    # A sticky unsubscribe is one made in the CDP (Workspace.sticky_unsubscribe).
    email_permission_source = models.CharField(max_length=100, blank=True)
    sms_permission_source = models.CharField(max_length=100, blank=True)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="people"
    )  # idt::o
    values = models.JSONField(default=dict, blank=True)  # every other field, keyed by field id
    # Which record of each source wrote each value: {source: {field id: precedence}} (cdp.merge).
    field_sources = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()  # c
    updated_at = models.DateTimeField()  # e
    first_seen = models.DateTimeField(null=True, blank=True)  # f
    last_seen = models.DateTimeField(null=True, blank=True)  # l
    archived_at = models.DateTimeField(null=True, blank=True)  # a

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "email_key"], name="person_unique_email"),
        ]
        indexes = [
            models.Index(fields=["workspace", "id"], name="person_ws_id"),
            models.Index(fields=["workspace", "phone"], name="person_ws_phone"),
            models.Index(fields=["workspace", "organization"], name="person_ws_org"),
            models.Index(models.F("workspace"), Lower("first_name"), name="person_ws_first"),
            models.Index(models.F("workspace"), Lower("last_name"), name="person_ws_last"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email or f"Person {self.pk}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


PERMISSION_SOURCE_CDP = "inflow"


class Identity(models.Model):
    """A source record (source, object, external id) that names exactly one person or organization."""

    # Not indexed on its own: identity_unique_key leads with it and serves every lookup by it.
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="identities", db_index=False
    )
    source = models.CharField(max_length=100)  # e.g. "salesforce:7" (a connection), opaque to the CDP
    object = models.CharField(max_length=100)  # e.g. "Contact"
    external_id = models.CharField(max_length=255)
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.CASCADE, related_name="identities"
    )
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="identities"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "identities"
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "source", "object", "external_id"], name="identity_unique_key"
            ),
            models.CheckConstraint(
                condition=models.Q(person__isnull=False, organization__isnull=True)
                | models.Q(person__isnull=True, organization__isnull=False),
                name="identity_one_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.object} {self.external_id}"


class PermissionChange(models.Model):
    """History of email (bol::p) and SMS (bol::sp) permission: one row per change, never edited."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="permission_changes")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="permission_changes")
    field_id = models.CharField(max_length=10)  # "bol::p" or "bol::sp"
    old_value = models.BooleanField(null=True)  # None when the person was created by this change
    new_value = models.BooleanField()
    source = models.CharField(max_length=100)  # a source name or PERMISSION_SOURCE_CDP
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField()

    # Not stored: what the sources say about the change, set by `selectors.permission_history` for the page.
    notes: list[str]

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["person", "-changed_at"], name="permissionchange_person")]

    def __str__(self) -> str:
        return f"{self.field_id} {self.old_value} -> {self.new_value}"


class ArchiveChange(models.Model):
    """History of archiving and restoring people and organizations: one row per change, never edited.
    `source`/`object` name the record whose delete archived it or whose return restored it."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="archive_changes")
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.CASCADE, related_name="archive_changes"
    )
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="archive_changes"
    )
    archived = models.BooleanField()  # True: archived; False: restored
    source = models.CharField(max_length=100, blank=True)
    object = models.CharField(max_length=100, blank=True)
    changed_at = models.DateTimeField()

    # Not stored: the sentence a person reads, set by the selectors that list archive history.
    text: str

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [
            models.Index(fields=["person", "-changed_at"], name="archivechange_person"),
            models.Index(fields=["organization", "-changed_at"], name="archivechange_organization"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(person__isnull=False) | Q(organization__isnull=False),
                name="archivechange_names_a_record",
            )
        ]

    def __str__(self) -> str:
        return f"{'archived' if self.archived else 'restored'} at {self.changed_at}"


class ActivityDefinition(models.Model):
    """A kind of activity, e.g. `act:sfp:opportunity-stage-changed`, with its attribute schema."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="activity_definitions")
    activity_id = models.CharField(max_length=120)
    name = models.CharField(max_length=255)
    icon = models.CharField(max_length=60, blank=True)
    display_type = models.CharField(max_length=30, default="activity")
    # [{"id": "str:sfp:stage", "name": "Stage", "display_type": "text"}, ...]
    attributes = models.JSONField(default=list, blank=True)
    builtin = models.BooleanField(default=False)
    hidden = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "activity_id"], name="activitydefinition_unique_id"),
        ]

    def __str__(self) -> str:
        return self.name


class Activity(models.Model):
    """Something a person did, at `occurred_at`. `source_key` makes recording the same event twice a no-op."""

    # workspace and person are not indexed on their own: the indexes below lead with them and serve every
    # lookup by them, and each index less is one less write per activity a backfill inserts.
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="activities", db_index=False
    )
    definition = models.ForeignKey(ActivityDefinition, on_delete=models.CASCADE, related_name="activities")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="activities", db_index=False)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="activities"
    )
    occurred_at = models.DateTimeField()
    attributes = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=100, blank=True)
    source_key = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    # Not stored: the attributes as a person reads them and the source's name, set by the activity selectors.
    details: list[Shown]
    source_name: str

    class Meta:
        verbose_name_plural = "activities"
        constraints = [
            models.UniqueConstraint(fields=["workspace", "source_key"], name="activity_unique_source_key"),
        ]
        indexes = [
            models.Index(fields=["workspace", "-occurred_at", "-id"], name="activity_ws_time"),
            models.Index(fields=["workspace", "definition", "-occurred_at"], name="activity_ws_def_time"),
            models.Index(fields=["person", "-occurred_at"], name="activity_person_time"),
        ]

    def __str__(self) -> str:
        return f"{self.definition_id} at {self.occurred_at:%Y-%m-%d %H:%M}"


class CustomObject(models.Model):
    """A record type a source syncs that is neither a person nor an organization (e.g. `Subscription__c`)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="custom_objects")
    source = models.CharField(max_length=100)
    object_name = models.CharField(max_length=100)
    name = models.CharField(max_length=255)
    # [{"id": "str:soc:plan", "name": "Plan", "display_type": "text"}, ...]: how to show record values.
    fields = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # Not stored: the name a person reads for `source`, set by the custom objects page.
    source_name: str

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "source", "object_name"], name="customobject_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CustomObjectRecord(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="custom_object_records")
    custom_object = models.ForeignKey(CustomObject, on_delete=models.CASCADE, related_name="records")
    external_id = models.CharField(max_length=255)
    name = models.CharField(max_length=255, blank=True)
    values = models.JSONField(default=dict, blank=True)
    people = models.ManyToManyField(Person, blank=True, related_name="custom_object_records")
    organizations = models.ManyToManyField(Organization, blank=True, related_name="custom_object_records")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["custom_object", "external_id"], name="customobjectrecord_unique"
            ),
        ]
        indexes = [models.Index(fields=["custom_object", "id"], name="customobjectrecord_obj_id")]

    def __str__(self) -> str:
        return self.name or self.external_id
