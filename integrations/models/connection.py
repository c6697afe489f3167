"""One Salesforce org linked to a workspace: identity, encrypted tokens, status and sync settings.

Fields a user may see are plain columns; the tokens are Fernet ciphertext (integrations.crypto) and are
only ever decrypted through `access_token` / `refresh_token`, never shown by `str()`/`repr()`.
Writes go through integrations.services (lifecycle) and integrations.connection_settings (settings).
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from integrations import crypto


class Connection(models.Model):
    class Status(models.TextChoices):
        CONNECTED = "connected", "Connected"
        NEEDS_REAUTH = "needs_reauth", "Needs reconnecting"
        PAUSED = "paused", "Paused"
        DISCONNECTED = "disconnected", "Disconnected"

    class LoginKind(models.TextChoices):
        PRODUCTION = "production", "Production"
        SANDBOX = "sandbox", "Sandbox"
        MY_DOMAIN = "my_domain", "My Domain"

    class MergeStrategy(models.TextChoices):
        # Append-only, overwrite (the default) and ignore, worded as Ortto words them so people who know Ortto
        # recognise them. The labels are written here only (forms, pages, commands, admin read them here).
        APPEND = "append", "Import and merge new records only"
        OVERWRITE = "overwrite", "Import and overwrite any records that exist"
        IGNORE = "ignore", "Import new records only"

    class FindStrategy(models.TextChoices):
        ANY = "any", "Merge with any key match"
        NEXT_IF_EMPTY = "next_if_empty", "Match only if previous merge key is empty"

    class ScheduleInterval(models.IntegerChoices):
        EVERY_MINUTE = 1, "Every minute"
        EVERY_5_MINUTES = 5, "Every 5 minutes"
        EVERY_15_MINUTES = 15, "Every 15 minutes"
        HOURLY = 60, "Every hour"

    workspace = models.ForeignKey("cdp.Workspace", on_delete=models.CASCADE, related_name="connections")

    # --- Who and where (visible) -------------------------------------------------------------
    org_id = models.CharField("Organization id", max_length=18)
    sf_user_id = models.CharField("Salesforce user id", max_length=18)
    username = models.CharField(max_length=255)
    display_name = models.CharField(max_length=255, blank=True)
    instance_url = models.URLField(max_length=255)
    login_url = models.URLField("Login host", max_length=255)
    login_kind = models.CharField(max_length=12, choices=LoginKind.choices, default=LoginKind.PRODUCTION)
    identity_url = models.URLField(max_length=500, blank=True)
    scopes = models.CharField("Granted scopes", max_length=500, blank=True)
    api_version = models.CharField("API version", max_length=8, blank=True)

    # --- Sensitive: Fernet ciphertext only ----------------------------------------------------
    access_token_encrypted = models.TextField(blank=True, editable=False)
    refresh_token_encrypted = models.TextField(blank=True, editable=False)

    # --- Status ----------------------------------------------------------------------------------
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CONNECTED, db_index=True)
    status_reason = models.TextField(blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    connected_at = models.DateTimeField(null=True, blank=True)
    token_issued_at = models.DateTimeField(null=True, blank=True)
    last_refreshed_at = models.DateTimeField(null=True, blank=True)
    refresh_count = models.PositiveIntegerField(default=0)
    # From the last `Sforce-Limit-Info: api-usage=N/M` header: Salesforce's rolling 24-hour count.
    api_usage_used = models.PositiveIntegerField(null=True, blank=True)
    api_usage_max = models.PositiveIntegerField(null=True, blank=True)
    api_usage_seen_at = models.DateTimeField(null=True, blank=True)

    # --- Sync settings (used by the sync engine; docs/architecture.md §3) ------------------------
    merge_strategy = models.CharField(
        max_length=16, choices=MergeStrategy.choices, default=MergeStrategy.OVERWRITE
    )
    find_strategy = models.CharField(max_length=16, choices=FindStrategy.choices, default=FindStrategy.ANY)
    # The "... for existing records only" variants: update people already in the CDP, never create.
    skip_non_existing = models.BooleanField(default=False)
    merge_converted_leads = models.BooleanField(
        default=True, help_text="Merge a lead that converts into its contact (Salesforce only option)."
    )
    # Advanced option "Modify system CDP fields (default)".
    modify_system_fields = models.BooleanField(default=True)
    # Which object wins when several records describe one person / organization:
    # {"person": ["Contact", "Lead"], "organization": ["Account", "Lead"]}; {} = the catalogue's order
    # (integrations.salesforce.objects.DEFAULT_PRECEDENCE). Written by connection_settings.connection_settings_update.
    source_precedence = models.JSONField(default=dict, blank=True)
    schedule_interval_minutes = models.PositiveSmallIntegerField(
        choices=ScheduleInterval.choices, default=ScheduleInterval.EVERY_5_MINUTES
    )
    # Apply changes as Salesforce streams them (Change Data Capture); the schedule still runs either way.
    streaming_enabled = models.BooleanField(
        "Live updates",
        default=True,
        help_text="Apply Salesforce changes within seconds as they happen; scheduled syncs still run.",
    )
    api_budget_percent = models.PositiveSmallIntegerField(
        default=50,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Share of the org's daily API requests Inflow may use.",
    )

    # Data retention (Ortto: "store only the last 90 days of activity data, or select the time frame for
    # the data stored, and the activities which will be stored"). Applies to what is recorded from then on;
    # older activities go only when the user prunes (sync_settings.activities_prune).
    class ActivityRetention(models.TextChoices):
        DEFAULT = "default", "Keep the last 90 days of activity data"
        WINDOW = "window", "Keep a time frame I choose"
        EVERYTHING = "everything", "Keep every activity"

    activity_retention = models.CharField(
        max_length=10, choices=ActivityRetention.choices, default=ActivityRetention.DEFAULT
    )
    # The chosen time frame, in days (used with WINDOW; DEFAULT is settings.SYNC_ACTIVITY_BACKFILL_DAYS).
    activity_retention_days = models.PositiveIntegerField(
        default=90, validators=[MinValueValidator(1), MaxValueValidator(36500)]
    )
    # Activity definition ids to store (e.g. "act:sft:task-created"); [] = every kind.
    activity_kinds = models.JSONField(default=list, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["workspace_id", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "org_id"],
                name="connection_unique_org_per_workspace",
                violation_error_message="This Salesforce org is already connected to this workspace.",
            ),
            models.CheckConstraint(
                condition=models.Q(api_budget_percent__gte=1) & models.Q(api_budget_percent__lte=100),
                name="connection_api_budget_percent_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.username or 'Salesforce'} ({self.org_id})"

    def __repr__(self) -> str:
        # Spelled out so no future field (or a debug toolbar) can put a token into a log line.
        return (
            f"<Connection id={self.pk} workspace={self.workspace_id} org={self.org_id} status={self.status}>"
        )

    # Decryption on demand; the plaintext is never cached on the instance.
    @property
    def access_token(self) -> str:
        return crypto.decrypt(self.access_token_encrypted) if self.access_token_encrypted else ""

    @property
    def refresh_token(self) -> str:
        return crypto.decrypt(self.refresh_token_encrypted) if self.refresh_token_encrypted else ""

    def set_tokens(self, *, access_token: str | None = None, refresh_token: str | None = None) -> None:
        """Encrypts into the ciphertext columns; saving is the caller's (a service's) job."""
        if access_token is not None:
            self.access_token_encrypted = crypto.encrypt(access_token) if access_token else ""
        if refresh_token is not None:
            self.refresh_token_encrypted = crypto.encrypt(refresh_token) if refresh_token else ""

    @property
    def is_connected(self) -> bool:
        return self.status == self.Status.CONNECTED

    @property
    def merge_label(self) -> str:
        """The merge strategy as every page names it, with its "existing records only" variant."""
        return self.merge_label_for(
            merge_strategy=self.merge_strategy, skip_non_existing=self.skip_non_existing
        )

    @classmethod
    def merge_label_for(cls, *, merge_strategy: str, skip_non_existing: bool) -> str:
        label = dict(cls.MergeStrategy.choices).get(merge_strategy, merge_strategy)
        return f"{label} (existing records only)" if skip_non_existing else label

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    @property
    def api_usage_percent(self) -> float | None:
        if not self.api_usage_max or self.api_usage_used is None:
            return None
        return round(100 * self.api_usage_used / self.api_usage_max, 1)
