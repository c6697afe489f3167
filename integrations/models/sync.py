"""Sync configuration and sync history (docs/architecture.md §4).

`SyncedObject` / `FieldSelection` say *what* to sync; `SyncRun` / `SyncError` record *what happened*;
`SourceRecord` keeps the last payload of every synced Salesforce record so a run can tell what changed
(activities) and skip rows it already applied. Writes go through `integrations.sync_settings` and the
engine (`integrations.salesforce.engine`); reads through `integrations.sync_selectors`.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

# Salesforce's own per-object limit in Ortto, kept here so the form, the service and the docs agree.
MAX_ACTIVE_FIELDS_PER_OBJECT = 50


class SyncedObject(models.Model):
    class Becomes(models.TextChoices):
        PERSON = "person", "People"
        ORGANIZATION = "organization", "Organizations"
        CUSTOM_OBJECT = "custom_object", "Custom object records"
        ACTIVITY_SOURCE = "activity_source", "Activities on people"

    class IdentifierKind(models.TextChoices):
        # Default objects link on their own (Contact/Lead email, Contact.AccountId, lookups).
        AUTOMATIC = "automatic", "Automatic (standard lookups)"
        UNIQUE_IDENTIFIER = "unique_identifier", "Unique identifier"
        PARENT = "parent", "Relationship to a parent object"
        REFERENCE_ID = "reference_id", "Reference ID"
        JUNCTION = "junction", "Relationship via junction object (many-to-many)"

    workspace = models.ForeignKey("cdp.Workspace", on_delete=models.CASCADE, related_name="synced_objects")
    connection = models.ForeignKey(
        "integrations.Connection", on_delete=models.CASCADE, related_name="synced_objects"
    )
    api_name = models.CharField(max_length=80)
    label = models.CharField(max_length=120)
    is_custom = models.BooleanField(default=False)
    becomes = models.CharField(max_length=20, choices=Becomes.choices)
    enabled = models.BooleanField(default=True)

    identifier_kind = models.CharField(
        max_length=20, choices=IdentifierKind.choices, default=IdentifierKind.AUTOMATIC
    )
    # Shape per kind, validated by integrations.sync_settings.identifier_rule_set:
    #   unique_identifier {"field": "Email__c", "cdp_field": "str::email"}
    #   parent            {"field": "Loan__c", "parent_object": "Loan__c"}   (the parent has its own rule: chains)
    #   reference_id      {"field": "Contact__c", "object": "Contact"}
    #   junction          {"junction_object": "OpportunityContactRole", "ref_field": "OpportunityId",
    #                      "person_field": "ContactId", "primary_field": "IsPrimary"}
    identifier_config = models.JSONField(default=dict, blank=True)

    # Permission rules: {"field": "HasOptedOutOfEmail", "subscribed": false, "unsubscribed": true}; {} = no rule.
    email_permission = models.JSONField(default=dict, blank=True)
    sms_permission = models.JSONField(default=dict, blank=True)

    # Selective sync (Ortto's step between Merge and Sync): all records, the records matching
    # `filter_criteria`, or none. Validated against the describe by integrations.salesforce.filters and
    # rendered into the SOQL WHERE of every read by integrations.salesforce.soql.criteria_where.
    class SyncFilter(models.TextChoices):
        ALL = "all", "Sync all records"
        MATCHING = "matching", "Sync records matching criteria"
        NONE = "none", "Sync no records"

    class UnmatchedAction(models.TextChoices):
        ARCHIVE = "archive", "Archive it in Inflow"
        KEEP = "keep", "Keep it in Inflow"

    sync_filter = models.CharField(max_length=10, choices=SyncFilter.choices, default=SyncFilter.ALL)
    # AND of conditions; a condition's several values are OR:
    #   [{"field": "LeadSource", "type": "picklist", "operator": "equals", "values": ["Web", "Phone"]},
    #    {"field": "Account.Industry", "type": "picklist", "operator": "not_equals", "values": ["Banking"]}]
    filter_criteria = models.JSONField(default=list, blank=True)
    # What happens to a record already in Inflow that stops matching.
    unmatched_action = models.CharField(
        max_length=10, choices=UnmatchedAction.choices, default=UnmatchedAction.ARCHIVE
    )
    # Set when the filter changes: the next run re-reads the object in full and settles the records that
    # stopped matching; cleared (compare-and-set on this value) when that pass is done.
    filter_changed_at = models.DateTimeField(null=True, blank=True)

    # The watermark comes from the data: the (SystemModstamp, Id) of the last applied row.
    watermark_modstamp = models.DateTimeField(null=True, blank=True)
    watermark_id = models.CharField(max_length=18, blank=True)
    backfill_completed_at = models.DateTimeField(null=True, blank=True)
    # Where an unfinished Bulk API backfill stands: {"job_id", "locator", "offset", "max_modstamp", "max_id"}.
    checkpoint = models.JSONField(default=dict, blank=True)
    records_synced = models.PositiveIntegerField(default=0)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_reconciled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["connection", "api_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "api_name"], name="syncedobject_unique_per_connection"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.api_name})"


class FieldSelection(models.Model):
    synced_object = models.ForeignKey(SyncedObject, on_delete=models.CASCADE, related_name="fields")
    sf_field = models.CharField("Salesforce field", max_length=80)
    label = models.CharField(max_length=120, blank=True)
    sf_type = models.CharField("Salesforce type", max_length=30)

    class UpdateMode(models.TextChoices):
        STRATEGY = "", "Follow the merge strategy"
        OVERWRITE = "overwrite", "Always take Salesforce's value"
        FILL = "fill", "Only fill blanks"
        SKIP = "skip", "Don't sync (read only)"

    # Ortto-style CDP field id, e.g. "str::email" or "str:sfc:lead-source".
    target_field = models.CharField("CDP field", max_length=120)
    # When several fields of the object feed one CDP field: 1, 2, ... = the first non-empty in this order
    # wins (Phone, then MobilePhone). 0 when the field is the target's only source.
    target_order = models.PositiveSmallIntegerField(default=0)
    update_mode = models.CharField(max_length=10, choices=UpdateMode.choices, default="", blank=True)
    is_formula = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    # Why a field stopped syncing (e.g. deleted in Salesforce), shown next to it.
    inactive_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["synced_object", "sf_field"]
        constraints = [
            models.UniqueConstraint(fields=["synced_object", "sf_field"], name="fieldselection_unique_field"),
        ]

    def __str__(self) -> str:
        return f"{self.sf_field} -> {self.target_field}"


class SyncRun(models.Model):
    class Kind(models.TextChoices):
        INITIAL = "initial", "Initial sync"
        INCREMENTAL = "incremental", "Incremental sync"
        RESYNC = "resync", "Resync"
        RECONCILE = "reconcile", "Reconcile"

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    class ReasonCode(models.TextChoices):
        """Why a run is paused, failed, skipped or still waiting: code branches on this, never on the
        wording of `state_reason` (which is for people)."""

        NONE = "", "None"
        API_BUDGET = "api_budget", "API budget reached"
        QUERY_TIMEOUT = "query_timeout", "Salesforce query timeout"
        SALESFORCE_UNREACHABLE = "salesforce_unreachable", "Salesforce unreachable"
        SALESFORCE_ERROR = "salesforce_error", "Salesforce error"
        NEEDS_REAUTH = "needs_reauth", "Needs reconnecting"
        CONNECTION_NOT_CONNECTED = "not_connected", "Connection not connected"
        BUDGET_WINDOW = "budget_window", "Waiting for the API budget window"
        TASK_LOST = "task_lost", "Queued task lost"
        BROKER_UNAVAILABLE = "broker_unavailable", "Task queue unreachable"
        SHUTDOWN = "shutdown", "Worker shut down"
        DB_UNAVAILABLE = "db_unavailable", "Database unavailable"
        TAKEN_OVER = "taken_over", "Taken over by another worker"
        OBJECT_ERRORS = "object_errors", "Finished with errors on some objects"
        INTERNAL = "internal", "Unexpected error"

    ACTIVE_STATES = (State.QUEUED, State.RUNNING)

    workspace = models.ForeignKey("cdp.Workspace", on_delete=models.CASCADE, related_name="sync_runs")
    connection = models.ForeignKey(
        "integrations.Connection", on_delete=models.CASCADE, related_name="sync_runs"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    # Plain words for paused/failed/skipped runs, e.g. "paused: API budget".
    state_reason = models.CharField(max_length=300, blank=True)
    reason_code = models.CharField(max_length=30, choices=ReasonCode.choices, default="", blank=True)
    # The django-q task that should run it, and when it was handed to the broker: a queued run whose task
    # the broker lost is re-enqueued (tasks.recover_run). Empty task_id = never reached the broker.
    task_id = models.CharField(max_length=64, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    # A paused run says when the engine resumes it (an outage, a QUERY_TIMEOUT burst); None = next tick.
    resume_after = models.DateTimeField(null=True, blank=True)
    # Restrict a run to some objects (resync of one object); empty = every enabled object.
    only_objects = models.JSONField(default=list, blank=True)
    # {"Contact": {"total": 120, "done": 40, "api_calls": 2, "state": "running"|"done"|"pending"}, ...}
    progress = models.JSONField(default=dict, blank=True)
    fetched = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    merged = models.PositiveIntegerField(default=0)
    ignored = models.PositiveIntegerField(default=0)
    archived = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    activities_recorded = models.PositiveIntegerField(default=0)
    api_calls = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    # host:pid of the worker running it; with the heartbeat, how a dead run is told from a slow one.
    worker = models.CharField(max_length=120, blank=True)
    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-queued_at", "-id"]
        constraints = [
            # One queued-or-running run per connection: a second "sync now" joins the existing one.
            models.UniqueConstraint(
                fields=["connection"],
                condition=Q(state__in=["queued", "running"]),
                name="syncrun_one_active_per_connection",
            ),
        ]
        indexes = [models.Index(fields=["connection", "-queued_at"], name="syncrun_conn_recent")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.state})"

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE_STATES

    @property
    def seconds(self) -> float | None:
        if not self.started_at:
            return None
        end = self.finished_at or self.heartbeat_at or self.started_at
        return (end - self.started_at).total_seconds()


class SyncError(models.Model):
    class Type(models.TextChoices):
        MAPPING = "mapping", "Value could not be mapped"
        INVALID = "invalid", "Record rejected by the CDP"
        MALFORMED = "malformed", "Malformed response"
        FIELD_DELETED = "field_deleted", "Field deleted in Salesforce"
        OBJECT_UNAVAILABLE = "object_unavailable", "Object not available"
        DUPLICATE = "duplicate", "Duplicate record in a page"
        UNLINKED = "unlinked", "Record could not be linked to a person"
        API = "api", "Salesforce API error"
        AUTH = "auth", "Authorization lost"
        WRITEBACK = "writeback", "Write-back refused by Salesforce"
        INTERNAL = "internal", "Unexpected error in Inflow"

    workspace = models.ForeignKey("cdp.Workspace", on_delete=models.CASCADE, related_name="sync_errors")
    connection = models.ForeignKey(
        "integrations.Connection", on_delete=models.CASCADE, related_name="sync_errors"
    )
    run = models.ForeignKey(SyncRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="errors")
    object_name = models.CharField(max_length=80)
    sf_id = models.CharField("Salesforce id", max_length=18, blank=True)
    error_type = models.CharField(max_length=20, choices=Type.choices)
    message = models.TextField()
    fix = models.TextField(blank=True)
    payload_excerpt = models.TextField(blank=True)
    retryable = models.BooleanField(default=True)
    resolved = models.BooleanField(default=False)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # A record failing the same way again updates its open error (run, message, this time) instead of
    # adding another: one open error per record and kind.
    last_seen_at = models.DateTimeField(null=True, blank=True)
    occurrences = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["connection", "resolved", "error_type"], name="syncerror_open_by_type")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "object_name", "sf_id", "error_type"],
                condition=Q(resolved=False) & ~Q(sf_id=""),
                name="syncerror_one_open_per_record_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.object_name} {self.sf_id}: {self.get_error_type_display()}"


class SourceRecord(models.Model):
    """The last payload seen of one Salesforce record. Written for every record: keep it lean."""

    # Not indexed on its own: sourcerecord_unique leads with it and serves every lookup by it.
    connection = models.ForeignKey(
        "integrations.Connection", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    object_name = models.CharField(max_length=80)
    sf_id = models.CharField(max_length=18)
    system_modstamp = models.DateTimeField()
    payload = models.JSONField()
    # blake2b of the canonical payload: equal hash at equal SystemModstamp means "already applied".
    hash = models.CharField(max_length=32)
    # The lookup a child/junction row is found by (OpportunityContactRole.OpportunityId, a custom child's parent).
    ref_id = models.CharField(max_length=18, blank=True, default="")
    deleted = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "object_name", "sf_id"], name="sourcerecord_unique"
            ),
        ]
        indexes = [models.Index(fields=["connection", "object_name", "ref_id"], name="sourcerecord_ref")]

    def __str__(self) -> str:
        return f"{self.object_name} {self.sf_id}"


class SalesforceUserName(models.Model):
    """A Salesforce user's name, read once per connection, so an owner id (005…) shows as a person's name."""

    connection = models.ForeignKey("integrations.Connection", on_delete=models.CASCADE, related_name="+")
    sf_id = models.CharField(max_length=18)
    name = models.CharField(max_length=255)
    fetched_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "sf_id"], name="salesforceusername_unique"),
        ]

    def __str__(self) -> str:
        return self.name
