from __future__ import annotations

from django.conf import settings
from django.db import models


class Workspace(models.Model):
    """The tenant (an Ortto "account"). Every row of CDP and integration data belongs to one."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=120, unique=True)
    # When on, a re-subscribe from a source never undoes an unsubscribe (seed step 4, PEERS "sticky").
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
