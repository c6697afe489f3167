"""The sandbox org's tables (database alias `sandbox`, see routers.py).

Records of every object share one table: the columns Salesforce indexes (Id, SystemModstamp,
LastModifiedDate, CreatedDate, IsDeleted) are real columns with composite indexes, so filters and
orders on them run in SQL; every other field lives in the row's JSON document (`data`), already in
REST wire form. Tokens and codes are stored as SHA-256 digests only.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class Record(models.Model):
    sobject = models.CharField(max_length=40)
    sf_id = models.CharField(max_length=18, unique=True)
    created_date = models.DateTimeField()
    last_modified_date = models.DateTimeField()
    system_modstamp = models.DateTimeField()
    is_deleted = models.BooleanField(default=False)
    deleted_date = models.DateTimeField(null=True, blank=True)
    # Hard-deleted (emptied from the recycle bin): invisible to queryAll, still listed by /deleted.
    purged = models.BooleanField(default=False)
    # The record's other fields as a JSON object (orjson), values in REST wire form.
    data = models.TextField()

    class Meta:
        indexes = [
            models.Index(
                fields=["sobject", "is_deleted", "system_modstamp", "sf_id"], name="sbx_rec_modstamp"
            ),
            models.Index(
                fields=["sobject", "purged", "system_modstamp", "sf_id"], name="sbx_rec_all_modstamp2"
            ),
            # Id order (Airbyte's full refresh, unordered queries) for live rows and for queryAll.
            models.Index(fields=["sobject", "is_deleted", "sf_id"], name="sbx_rec_live_id"),
            models.Index(fields=["sobject", "purged", "sf_id"], name="sbx_rec_all_id"),
            models.Index(fields=["sobject", "last_modified_date", "sf_id"], name="sbx_rec_lastmod"),
            models.Index(fields=["sobject", "created_date", "sf_id"], name="sbx_rec_created"),
            models.Index(
                fields=["sobject", "deleted_date"], name="sbx_rec_deleted", condition=Q(is_deleted=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sobject} {self.sf_id}"


class CascadeDelete(models.Model):
    """A record that went to the recycle bin because another record (its root) was deleted.

    Salesforce's recycle bin lists only the root; undeleting or purging the root brings back, or empties,
    every record its delete took along. Kept beside `Record` so that table keeps its shape.
    """

    sf_id = models.CharField(max_length=18, unique=True)
    root_id = models.CharField(max_length=18, db_index=True)

    def __str__(self) -> str:
        return f"{self.sf_id} with {self.root_id}"


class IdSequence(models.Model):
    """Next record number per key prefix: Ids are minted in blocks with one atomic UPDATE."""

    key_prefix = models.CharField(max_length=3, primary_key=True)
    next_value = models.BigIntegerField(default=1)

    def __str__(self) -> str:
        return f"{self.key_prefix}: {self.next_value}"


class SchemaChange(models.Model):
    """A field added or removed after seeding (`sandbox_churn --schema-change`, `sandbox_seed
    --person-accounts`), or a validation rule (`sandbox_churn --validation-rule`)."""

    class Action(models.TextChoices):
        ADD = "add"
        REMOVE = "remove"
        RULE = "rule"

    sobject = models.CharField(max_length=40)
    action = models.CharField(max_length=6, choices=Action.choices)
    # For "add": the field describe as JSON; for "remove": the field name; for "rule": the rule as JSON.
    payload = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.action} {self.sobject}"


class OrgUser(models.Model):
    """Someone who can log in to the org: username, password hash and the Id of their User record."""

    username = models.CharField(max_length=80, unique=True)
    password = models.CharField(max_length=128)
    user_id = models.CharField(max_length=18, unique=True)
    is_active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.username


class ConnectedApp(models.Model):
    class RefreshPolicy(models.TextChoices):
        UNTIL_REVOKED = "until_revoked", "Refresh token is valid until revoked"
        EXPIRE_AFTER = "expire_after", "Expire refresh token after"
        EXPIRE_IF_UNUSED = "expire_if_unused", "Expire refresh token if not used for"
        IMMEDIATELY = "immediately", "Immediately expire refresh token"

    name = models.CharField(max_length=80)
    client_id = models.CharField(max_length=255, unique=True)
    client_secret = models.CharField(max_length=255, blank=True)
    # A public client (a browser or mobile app that cannot keep a secret) sends no secret: PKCE is required.
    require_secret = models.BooleanField(default=True)
    # One registered callback URL per line, matched exactly (scheme, host, port, path).
    callback_urls = models.TextField()
    scopes = models.CharField(max_length=255, default="api refresh_token offline_access id openid full web")
    refresh_policy = models.CharField(
        max_length=20, choices=RefreshPolicy.choices, default=RefreshPolicy.UNTIL_REVOKED
    )
    refresh_ttl_seconds = models.PositiveIntegerField(null=True, blank=True)
    rotate_refresh_tokens = models.BooleanField(default=False)
    session_timeout_seconds = models.PositiveIntegerField(default=7200)
    max_grants_per_user = models.PositiveSmallIntegerField(default=5)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Grant(models.Model):
    """One approval of an app by a user: holds the refresh token (if any) that access tokens hang off."""

    app = models.ForeignKey(ConnectedApp, on_delete=models.CASCADE, related_name="grants")
    user = models.ForeignKey(OrgUser, on_delete=models.CASCADE, related_name="grants")
    scopes = models.CharField(max_length=255)
    refresh_token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=40, blank=True)

    class Meta:
        indexes = [models.Index(fields=["app", "user", "revoked_at"], name="sbx_grant_active")]

    def __str__(self) -> str:
        return f"{self.app_id}/{self.user_id} {self.created_at:%Y-%m-%d %H:%M}"


class AccessToken(models.Model):
    token_hash = models.CharField(max_length=64, unique=True)
    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, null=True, related_name="access_tokens")
    app = models.ForeignKey(ConnectedApp, on_delete=models.CASCADE)
    user = models.ForeignKey(OrgUser, on_delete=models.CASCADE)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"access token {self.pk}"


class AuthorizationCode(models.Model):
    code_hash = models.CharField(max_length=64, unique=True)
    app = models.ForeignKey(ConnectedApp, on_delete=models.CASCADE)
    user = models.ForeignKey(OrgUser, on_delete=models.CASCADE)
    redirect_uri = models.TextField()
    scopes = models.CharField(max_length=255)
    code_challenge = models.CharField(max_length=128, blank=True)
    code_challenge_method = models.CharField(max_length=10, blank=True)
    nonce = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"code {self.pk}"


class OrgState(models.Model):
    """One row (pk=1): API usage and the active faults, read by every request of every process."""

    api_daily_limit = models.PositiveIntegerField(default=15000)
    api_usage = models.PositiveIntegerField(default=0)
    usage_day = models.DateField(null=True, blank=True)
    # Faults (sandbox_faults / POST /_sandbox/faults).
    fail_next = models.PositiveIntegerField(default=0)
    fail_status = models.PositiveSmallIntegerField(default=503)  # 500, 503, or 0 = drop the connection
    malformed_next = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    query_timeout_objects = models.TextField(default="[]")  # JSON list of object names
    # Outages for a duration: every SOQL query answers QUERY_TIMEOUT, or every API request has its
    # connection dropped (the org unreachable), until these moments.
    query_timeout_until = models.DateTimeField(null=True, blank=True)
    unreachable_until = models.DateTimeField(null=True, blank=True)
    wrong_type_fields = models.TextField(default="[]")  # JSON list of "Object.Field"
    tokens_expired_before = models.DateTimeField(null=True, blank=True)
    locators_expired_before = models.DateTimeField(null=True, blank=True)
    # Realism knobs: shorter REST pages at random and a Bulk job delay.
    short_page_size = models.PositiveIntegerField(default=0)
    bulk_job_delay_ms = models.PositiveIntegerField(default=0)
    # Change Data Capture: the objects that publish change events (JSON list; "*" = every streamable one),
    # and the "gap" fault: the next N writes publish GAP_* events instead of their normal ones.
    change_event_objects = models.TextField(default='["*"]')
    gap_next = models.PositiveIntegerField(default=0)
    overflow_next = models.PositiveIntegerField(default=0)
    # Events up to this replay id were forgotten (retention): replaying from before it is refused.
    events_forgotten_through = models.BigIntegerField(default=0)
    # The origin the org was last started on (runsandbox), used when there is no request to derive it from.
    served_origin = models.CharField(max_length=255, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return "org state"


class RequestCount(models.Model):
    """Requests served per endpoint kind (query, queryMore, describe, token, ...), for benches and tests."""

    endpoint = models.CharField(max_length=40, primary_key=True)
    count = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.endpoint}: {self.count}"


class QueryCursor(models.Model):
    """A query locator: the parsed query plus where each served page ended, so any process can continue."""

    locator = models.CharField(max_length=18, primary_key=True)
    soql = models.TextField()
    include_deleted = models.BooleanField(default=False)
    batch_size = models.PositiveIntegerField()
    total_size = models.PositiveIntegerField()
    # JSON {offset: keyset position after the rows before that offset}, or the ordered row ids
    # when the order cannot run in SQL.
    positions = models.TextField(default="{}")
    row_ids = models.TextField(blank=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.locator


class BulkJob(models.Model):
    class State(models.TextChoices):
        UPLOAD_COMPLETE = "UploadComplete"
        IN_PROGRESS = "InProgress"
        JOB_COMPLETE = "JobComplete"
        FAILED = "Failed"
        ABORTED = "Aborted"

    sf_id = models.CharField(max_length=18, unique=True)
    operation = models.CharField(max_length=10)
    sobject = models.CharField(max_length=40)
    soql = models.TextField()
    api_version = models.CharField(max_length=8)
    column_delimiter = models.CharField(max_length=10, default="COMMA")
    line_ending = models.CharField(max_length=4, default="LF")
    state = models.CharField(max_length=20, choices=State.choices, default=State.UPLOAD_COMPLETE)
    error_message = models.TextField(blank=True)
    created_by_id = models.CharField(max_length=18)
    created_date = models.DateTimeField()
    system_modstamp = models.DateTimeField()
    ready_at = models.DateTimeField()
    number_records_processed = models.PositiveBigIntegerField(default=0)
    total_processing_time = models.PositiveIntegerField(default=0)
    # The snapshot: ordered record row ids matching the query when the job completed (JSON list).
    row_ids = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.sf_id


class SigningKey(models.Model):
    """The RSA key that signs OpenID Connect id_tokens; its public half is served at /id/keys."""

    kid = models.CharField(max_length=40, primary_key=True)
    private_pem = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.kid


class OrgEntry(models.Model):
    """Another org this sandbox process hosts, in a database of its own (the default org needs no row).

    Only the default org's database holds these rows; `number` fixes the org's Id and database alias.
    """

    name = models.CharField(max_length=30, unique=True)
    number = models.PositiveIntegerField(unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class LoginThrottle(models.Model):
    """Failed log-ins per key (a username or a client address) in the current window, shared by every
    process: past the limit the log-in page and the password grant refuse even the right password."""

    key = models.CharField(max_length=120, primary_key=True)
    window_start = models.DateTimeField()
    failures = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}: {self.failures}"


class AsyncJob(models.Model):
    """A Bulk API 1.0 job (`/services/async/<version>/job`): query and queryAll only."""

    class State(models.TextChoices):
        OPEN = "Open"
        CLOSED = "Closed"
        ABORTED = "Aborted"
        FAILED = "Failed"

    sf_id = models.CharField(max_length=18, unique=True)
    operation = models.CharField(max_length=10)
    sobject = models.CharField(max_length=40)
    content_type = models.CharField(max_length=10, default="CSV")
    concurrency_mode = models.CharField(max_length=10, default="Parallel")
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    api_version = models.CharField(max_length=8)
    created_by_id = models.CharField(max_length=18)
    created_date = models.DateTimeField()
    system_modstamp = models.DateTimeField()
    # Sforce-Enable-PKChunking: records per chunk (null: off) and the Id the first chunk starts at.
    pk_chunk_size = models.PositiveIntegerField(null=True, blank=True)
    pk_start_row = models.CharField(max_length=18, blank=True)

    def __str__(self) -> str:
        return self.sf_id


class AsyncBatch(models.Model):
    """A Bulk API 1.0 batch: one query, its snapshot of matching rows once completed, and its one result."""

    class State(models.TextChoices):
        QUEUED = "Queued"
        IN_PROGRESS = "InProgress"
        COMPLETED = "Completed"
        FAILED = "Failed"
        NOT_PROCESSED = "NotProcessed"

    sf_id = models.CharField(max_length=18, unique=True)
    job = models.ForeignKey(AsyncJob, on_delete=models.CASCADE, related_name="batches")
    state = models.CharField(max_length=12, choices=State.choices, default=State.QUEUED)
    state_message = models.TextField(blank=True)
    soql = models.TextField()
    # A PK chunk: the Id range it covers ([id_from, id_to); empty means open-ended).
    id_from = models.CharField(max_length=18, blank=True)
    id_to = models.CharField(max_length=18, blank=True)
    # The original batch of a PK-chunked job: split into chunk batches, then NotProcessed.
    chunked = models.BooleanField(default=False)
    created_date = models.DateTimeField(db_index=True)
    system_modstamp = models.DateTimeField()
    ready_at = models.DateTimeField()
    number_records_processed = models.PositiveBigIntegerField(default=0)
    total_processing_time = models.PositiveIntegerField(default=0)
    result_id = models.CharField(max_length=18, blank=True)
    row_ids = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.sf_id


class ChangeEvent(models.Model):
    """One Change Data Capture event, written in the same transaction as the change it describes.

    `replay_id` is allocated under a row lock held until the write commits (`change_events.publish`), so
    replay ids become visible in order and a reader that has seen id N never sees a smaller one appear.
    """

    replay_id = models.BigIntegerField(unique=True)
    sobject = models.CharField(max_length=40)
    change_type = models.CharField(max_length=16)
    # The event's `payload` (ChangeEventHeader + fields) as JSON, exactly as it goes on the wire.
    payload = models.TextField()
    created_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.replay_id} {self.change_type} {self.sobject}"


class StreamingClient(models.Model):
    """A Bayeux client (after /meta/handshake): its subscriptions and where each has read up to.

    Shared by every gunicorn worker and thread, so a long poll may land on any of them.
    """

    client_id = models.CharField(max_length=40, unique=True)
    user_id = models.CharField(max_length=18)
    # {channel: last replay id delivered}
    subscriptions = models.TextField(default="{}")
    created_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    # While a /meta/connect is waiting; the client timeout counts from when the last one returned.
    connected_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.client_id
