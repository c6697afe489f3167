"""Which operator alerts were sent, so the periodic check alerts once per status change (integrations.alerts)."""

from __future__ import annotations

from django.db import models


class ConnectionAlert(models.Model):
    class Kind(models.TextChoices):
        NEEDS_REAUTH = "needs_reauth", "Needs reconnecting"

    connection = models.ForeignKey("integrations.Connection", on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # The status change this alert is about: a connection that is reconnected and lost again is alerted again.
    status_changed_at = models.DateTimeField()
    recipients = models.TextField(blank=True)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "kind", "status_changed_at"], name="connectionalert_once_per_change"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} alert for connection {self.connection_id}"
