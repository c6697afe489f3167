"""The write-back outbox: permission changes made in Inflow, on their way to Salesforce records."""

from __future__ import annotations

from django.db import models


class PermissionWriteback(models.Model):
    """One permission change made in Inflow × one linked Salesforce record.

    Written in the same transaction as the change (so a crash loses neither or both), drained by the sync
    run before it reads (so the next read recognises the echo) and by the write-back task; survives
    restarts. A row's value is what the record's permission field should hold.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Waiting to be written"
        SENT = "sent", "Written to Salesforce"
        FAILED = "failed", "Refused by Salesforce"
        SUPERSEDED = "superseded", "Replaced by a later change"

    workspace = models.ForeignKey("cdp.Workspace", on_delete=models.CASCADE, related_name="+")
    connection = models.ForeignKey(
        "integrations.Connection", on_delete=models.CASCADE, related_name="permission_writebacks"
    )
    person = models.ForeignKey("cdp.Person", on_delete=models.CASCADE, related_name="+")
    permission_change = models.ForeignKey(
        "cdp.PermissionChange", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    field_id = models.CharField(max_length=10)  # "bol::p" or "bol::sp"
    subscribed = models.BooleanField()
    changed_at = models.DateTimeField()  # when the change was made in Inflow (conflicts: latest wins)
    # The record written (a Person Account's permission goes through its Account) and the value it gets.
    object_name = models.CharField(max_length=80)
    sf_id = models.CharField(max_length=18)
    sf_field = models.CharField(max_length=80)
    sf_value = models.JSONField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The record's SystemModstamp after our write: a read showing this stamp and our value is our echo.
    written_modstamp = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["connection", "state", "next_attempt_at"], name="writeback_due"),
            models.Index(fields=["connection", "object_name", "sf_id"], name="writeback_record"),
        ]

    def __str__(self) -> str:
        return f"{self.object_name} {self.sf_id}.{self.sf_field} = {self.sf_value} ({self.state})"
