"""A connection's change stream: where the listener has read Salesforce's change events up to, who
holds it, and what state it is in (docs/sync.md "Live updates")."""

from __future__ import annotations

from django.db import models


class ChangeStream(models.Model):
    class State(models.TextChoices):
        STARTING = "starting", "Starting"
        LIVE = "live", "Live"
        RECONNECTING = "reconnecting", "Reconnecting"
        OFF = "off", "Off"
        STOPPED = "stopped", "Stopped"

    connection = models.OneToOneField(
        "integrations.Connection", on_delete=models.CASCADE, related_name="change_stream"
    )
    # The last event applied: written in the same transaction as the data it brought.
    replay_id = models.BigIntegerField(null=True, blank=True)
    # One listener per connection across the cluster: whoever holds an unexpired lease.
    lease_owner = models.CharField(max_length=120, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.STARTING)
    state_reason = models.CharField(max_length=300, blank=True)
    state_changed_at = models.DateTimeField(null=True, blank=True)
    # When the listener last applied an event, and the Salesforce commit time of that event.
    last_event_at = models.DateTimeField(null=True, blank=True)
    last_commit_at = models.DateTimeField(null=True, blank=True)
    events_received = models.PositiveBigIntegerField(default=0)
    # Polling fallbacks the stream asked for (gap events, replay past retention, first start).
    fallbacks = models.PositiveIntegerField(default=0)
    last_fallback_reason = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"stream of connection {self.connection_id}: {self.state}"
